use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The roles of DESIGN.md. Citizens and ISVs register themselves; the
/// others are created by an admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Citizen,
    Isv,
    Department,
    Finance,
    Supervisor,
    Admin,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Citizen,
        Role::Isv,
        Role::Department,
        Role::Finance,
        Role::Supervisor,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Citizen => "citizen",
            Role::Isv => "isv",
            Role::Department => "department",
            Role::Finance => "finance",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }

    /// Whether a person may take this role by registering, without an admin.
    pub fn self_registrable(self) -> bool {
        matches!(self, Role::Citizen | Role::Isv)
    }

    /// Whether users of this role belong to an organisation (department or ISV).
    pub fn needs_organisation(self) -> bool {
        matches!(self, Role::Isv | Role::Department)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}`")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_round_trips_through_its_name() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
            assert_eq!(
                serde_json::to_string(&r).unwrap(),
                format!("\"{}\"", r.as_str())
            );
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn only_citizens_and_isvs_register_themselves() {
        let own: Vec<_> = Role::ALL
            .into_iter()
            .filter(|r| r.self_registrable())
            .collect();
        assert_eq!(own, vec![Role::Citizen, Role::Isv]);
    }
}
