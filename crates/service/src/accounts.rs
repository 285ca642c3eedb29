//! Creating accounts: self-registration (citizens, ISVs) and accounts made
//! by an admin (departments, finance, supervisors, admins). The API, the web
//! form, the CLI and the demo seeder all come through here, so the rules
//! are written once.

use domain::Role;
use domain::error::UserFacingError;

use crate::actor::Actor;
use crate::error::{Msg, ServiceError};
use crate::sessions;

/// One field's problem: the field, a stable code, and the message to show.
#[derive(Debug, Clone)]
pub struct FieldError {
    pub field: &'static str,
    pub code: &'static str,
    pub msg: Msg,
}

impl FieldError {
    /// A problem whose message is `account.<code>` in the catalogues.
    fn new(field: &'static str, code: &'static str) -> Self {
        FieldError {
            field,
            code,
            msg: Msg::owned(format!("account.{code}")),
        }
    }

    fn from_domain(field: &'static str, e: &impl UserFacingError) -> Self {
        FieldError {
            field,
            code: e.code(),
            msg: Msg::domain(e),
        }
    }
}

impl From<FieldError> for ServiceError {
    fn from(e: FieldError) -> Self {
        ServiceError::invalid(e.field, e.msg)
    }
}

#[derive(Debug)]
pub enum AccountError {
    /// Every field problem found, in form order.
    Invalid(Vec<FieldError>),
    /// The email (or organisation name) is taken.
    Taken(FieldError),
    Other(ServiceError),
}

impl From<ServiceError> for AccountError {
    fn from(e: ServiceError) -> Self {
        AccountError::Other(e)
    }
}

impl From<sea_orm::DbErr> for AccountError {
    fn from(e: sea_orm::DbErr) -> Self {
        AccountError::Other(ServiceError::internal(e))
    }
}

impl From<store::StoreError> for AccountError {
    fn from(e: store::StoreError) -> Self {
        AccountError::Other(e.into())
    }
}

impl From<AccountError> for ServiceError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Invalid(mut errs) => {
                let first = errs.remove(0);
                ServiceError::invalid(first.field, first.msg)
            }
            AccountError::Taken(f) => ServiceError::Conflict {
                code: f.code,
                msg: f.msg,
                field: Some(f.field),
            },
            AccountError::Other(e) => e,
        }
    }
}

/// What a person submits to register, from JSON or from the web form.
#[derive(Debug, Clone, Default)]
pub struct Registration {
    pub email: String,
    pub password: String,
    pub display_name: String,
    pub role: String,
    pub id_number: Option<String>,
    pub org_name: Option<String>,
    pub credit_code: Option<String>,
}

/// A checked registration: nothing invalid gets past [`Registration::check`].
struct Checked {
    email: String,
    password: String,
    display_name: String,
    role: Role,
    id_number: Option<domain::ResidentId>,
    org: Option<(String, Option<domain::CreditCode>)>,
}

fn blank(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Longest display or organisation name we store; long enough for any
/// registered company name in China.
const MAX_NAME_CHARS: usize = 100;

impl Registration {
    fn check(&self, allow_staff_roles: bool) -> Result<Checked, Vec<FieldError>> {
        let mut errs = vec![];
        let role = match self.role.trim().parse::<Role>() {
            Ok(r) if r.self_registrable() || allow_staff_roles => Some(r),
            Ok(_) => {
                errs.push(FieldError::new("role", "role_not_self_registrable"));
                None
            }
            Err(_) => {
                errs.push(FieldError::new("role", "role_required"));
                None
            }
        };
        let display_name = self.display_name.trim().to_owned();
        if display_name.is_empty() {
            errs.push(FieldError::new("display_name", "display_name_required"));
        } else if display_name.chars().count() > MAX_NAME_CHARS {
            errs.push(FieldError::new("display_name", "display_name_too_long"));
        }
        let email = match domain::Email::parse(&self.email) {
            Ok(e) => Some(e.as_str().to_owned()),
            Err(e) => {
                errs.push(FieldError::from_domain("email", &e));
                None
            }
        };
        let password = match domain::Password::parse(&self.password) {
            Ok(_) => Some(self.password.clone()),
            Err(e) => {
                errs.push(FieldError::from_domain("password", &e));
                None
            }
        };
        let mut id_number = None;
        let mut org = None;
        match role {
            Some(Role::Citizen) => match blank(&self.id_number) {
                None => errs.push(FieldError::new("id_number", "id_number_required")),
                Some(raw) => match domain::ResidentId::parse(raw) {
                    Ok(id) => id_number = Some(id),
                    Err(e) => errs.push(FieldError::from_domain("id_number", &e)),
                },
            },
            Some(r) if r.needs_organisation() => {
                let name = blank(&self.org_name).map(str::to_owned);
                let credit = match blank(&self.credit_code) {
                    None => None,
                    Some(raw) => match domain::CreditCode::parse(raw) {
                        Ok(c) => Some(c),
                        Err(e) => {
                            errs.push(FieldError::from_domain("credit_code", &e));
                            None
                        }
                    },
                };
                match name {
                    None => errs.push(FieldError::new("org_name", "org_name_required")),
                    Some(n) if n.chars().count() > MAX_NAME_CHARS => {
                        errs.push(FieldError::new("org_name", "org_name_too_long"))
                    }
                    Some(n) => org = Some((n, credit)),
                }
            }
            _ => {}
        }
        match (role, email, password) {
            (Some(role), Some(email), Some(password)) if errs.is_empty() => Ok(Checked {
                email,
                password,
                display_name,
                role,
                id_number,
                org,
            }),
            _ => Err(errs),
        }
    }
}

/// Self-registration (citizen or ISV).
pub async fn register(
    db: &store::Db,
    input: Registration,
    request_id: Option<String>,
) -> Result<store::users::User, AccountError> {
    let checked = input.check(false).map_err(AccountError::Invalid)?;
    create(db, checked, &Actor::anonymous(request_id), "user.register").await
}

/// An account made by an admin (or the demo seeder); any role.
pub async fn create_by_admin(
    db: &store::Db,
    input: Registration,
    actor: &Actor,
) -> Result<store::users::User, AccountError> {
    let checked = input.check(true).map_err(AccountError::Invalid)?;
    create(db, checked, actor, "user.create").await
}

async fn create(
    db: &store::Db,
    c: Checked,
    actor: &Actor,
    action: &str,
) -> Result<store::users::User, AccountError> {
    let password_hash = sessions::hash_password(c.password).await?;
    // Read-then-write: on SQLite the transaction must take the write lock
    // up front, or overlapping sign-ups fail with "database is locked".
    let txn = db.begin_write().await?;
    let org_id = match &c.org {
        None => None,
        Some((name, credit)) => {
            let kind = if c.role == Role::Department {
                store::orgs::OrgKind::Department
            } else {
                store::orgs::OrgKind::Isv
            };
            // Staff of an existing department join it; a self-registering
            // ISV may not take over an organisation someone else created.
            let existing = store::orgs::find_by_name(&txn, name).await?;
            match existing {
                Some(org) if action == "user.create" => Some(org.id),
                Some(_) => {
                    return Err(AccountError::Taken(FieldError::new(
                        "org_name",
                        "org_name_taken",
                    )));
                }
                None => {
                    let org = store::orgs::create(
                        &txn,
                        kind,
                        name,
                        credit.as_ref().map(|c| c.as_str().to_owned()),
                    )
                    .await
                    .map_err(|e| match e {
                        store::StoreError::Conflict { .. } => {
                            AccountError::Taken(FieldError::new("org_name", "org_name_taken"))
                        }
                        other => AccountError::Other(other.into()),
                    })?;
                    Some(org.id)
                }
            }
        }
    };
    let user = store::users::create(
        &txn,
        store::users::NewUser {
            email: c.email,
            password_hash,
            display_name: c.display_name,
            role: c.role,
            org_id,
            id_number: c.id_number.map(|id| id.as_str().to_owned()),
        },
    )
    .await
    .map_err(|e| match e {
        store::StoreError::Conflict { what: "id_number" } => {
            AccountError::Taken(FieldError::new("id_number", "id_number_taken"))
        }
        store::StoreError::Conflict { .. } => {
            AccountError::Taken(FieldError::new("email", "email_taken"))
        }
        other => AccountError::Other(other.into()),
    })?;
    store::audit::append(
        &txn,
        store::audit::AuditEntry {
            // a self-registration is its own actor; the system acts for no one
            actor_id: actor
                .id()
                .or((action == "user.register").then_some(user.id)),
            actor_role: actor
                .role()
                .or((action == "user.register").then_some(user.role)),
            ..actor.audit(
                action,
                "user",
                user.id,
                format!("{} account {} created", user.role, user.id),
            )
        },
    )
    .await?;
    txn.commit().await?;
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn citizen() -> Registration {
        Registration {
            email: "a@example.cn".into(),
            password: "long enough".into(),
            display_name: "张三".into(),
            role: "citizen".into(),
            id_number: Some("11010519491231002X".into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_valid_citizen_passes_the_checks() {
        let c = citizen().check(false).unwrap();
        assert_eq!(c.role, Role::Citizen);
        assert!(c.id_number.is_some());
        assert!(c.org.is_none());
    }

    #[test]
    fn every_problem_is_reported_at_once_in_form_order() {
        let r = Registration {
            email: "nope".into(),
            password: "short".into(),
            display_name: " ".into(),
            role: "citizen".into(),
            id_number: Some("110105194912310021".into()),
            ..Default::default()
        };
        let errs = r.check(false).err().unwrap();
        let fields: Vec<_> = errs.iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            vec!["display_name", "email", "password", "id_number"]
        );
        assert!(
            errs.iter()
                .all(|e| e.msg.key == format!("account.{}", e.code) || e.msg.key == "domain.error")
        );
    }

    #[test]
    fn staff_roles_cannot_register_themselves() {
        let mut r = citizen();
        r.role = "finance".into();
        let errs = r.check(false).err().unwrap();
        assert_eq!(errs[0].field, "role");
        assert!(r.check(true).is_ok());
    }

    #[test]
    fn an_isv_needs_an_organisation_and_a_valid_credit_code_if_given() {
        let mut r = citizen();
        r.role = "isv".into();
        r.id_number = None;
        let errs = r.check(false).err().unwrap();
        assert_eq!(errs[0].field, "org_name");
        r.org_name = Some("杭州某某科技有限公司".into());
        r.credit_code = Some("91330100MA2B3C4D5X".into());
        let errs = r.check(false).err().unwrap();
        assert_eq!(errs[0].field, "credit_code");
        r.credit_code = None;
        assert!(r.check(false).is_ok());
    }
}

/// A user as they see their own account. The resident ID number is masked.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub org_id: Option<i64>,
    pub org_name: Option<String>,
    /// Masked, e.g. `1101**********002X`.
    pub id_number: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// How `user` appears to themselves (their organisation by name).
pub async fn profile(db: &store::Db, user: &store::users::User) -> Result<UserView, ServiceError> {
    let org_name = match user.org_id {
        Some(id) => store::orgs::find_by_id(db.conn(), id)
            .await?
            .map(|o| o.name),
        None => None,
    };
    Ok(UserView {
        id: user.id,
        email: user.email.clone(),
        display_name: user.display_name.clone(),
        role: user.role.as_str().to_owned(),
        org_id: user.org_id,
        org_name,
        id_number: user.id_number.as_deref().map(mask_id_number),
        created_at: user.created_at,
    })
}

/// Keeps the first and last four characters: enough for a person to
/// recognise their own number, too little to misuse it.
pub fn mask_id_number(id: &str) -> String {
    match domain::ResidentId::parse(id) {
        Ok(parsed) => parsed.masked(),
        Err(_) => "****".to_owned(),
    }
}
