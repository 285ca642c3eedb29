//! Who is doing something: the one answer to "who did it" for use cases
//! and the audit log alike.

use domain::Role;
use store::audit::AuditEntry;
use store::users::User;

use crate::error::{Msg, ServiceError, ServiceResult};

/// The signed-in user behind a request (or the platform itself, for
/// workers, schedules and the demo seeder), and the request's id so the
/// audit log can be joined with the access log.
#[derive(Debug, Clone)]
pub struct Actor {
    user: Option<User>,
    request_id: Option<String>,
}

impl Actor {
    /// A signed-in user; the adapter has checked the session.
    pub fn user(user: User, request_id: Option<String>) -> Actor {
        Actor {
            user: Some(user),
            request_id,
        }
    }

    /// Nobody signed in (registration, sign-in, public pages).
    pub fn anonymous(request_id: Option<String>) -> Actor {
        Actor {
            user: None,
            request_id,
        }
    }

    /// The platform acting on its own: workers, schedules, the seeder.
    pub fn system() -> Actor {
        Actor {
            user: None,
            request_id: None,
        }
    }

    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// The signed-in user, if any.
    pub fn signed_in(&self) -> Option<&User> {
        self.user.as_ref()
    }

    pub fn id(&self) -> Option<i64> {
        self.user.as_ref().map(|u| u.id)
    }

    pub fn role(&self) -> Option<Role> {
        self.user.as_ref().map(|u| u.role)
    }

    pub fn org_id(&self) -> Option<i64> {
        self.user.as_ref().and_then(|u| u.org_id)
    }

    /// The user, who must be signed in with one of `roles`.
    pub fn require(&self, roles: &[Role]) -> ServiceResult<&User> {
        let user = self
            .user
            .as_ref()
            .ok_or(ServiceError::Unauthenticated(Msg::new("err.sign_in_first")))?;
        if roles.contains(&user.role) {
            Ok(user)
        } else {
            Err(ServiceError::Forbidden(role_required(roles)))
        }
    }

    /// An audit entry for something this actor did.
    pub fn audit(
        &self,
        action: &str,
        object_type: &str,
        object_id: impl Into<Option<i64>>,
        summary: impl Into<String>,
    ) -> AuditEntry {
        AuditEntry {
            actor_id: self.id(),
            actor_role: self.role(),
            action: action.to_owned(),
            object_type: object_type.to_owned(),
            object_id: object_id.into(),
            summary: summary.into(),
            request_id: self.request_id.clone(),
        }
    }
}

/// "This action requires role …", naming the roles by their catalogue keys
/// so each language can list them its own way.
pub fn role_required(roles: &[Role]) -> Msg {
    let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    Msg::new("err.role_required").arg("roles", names.join(","))
}
