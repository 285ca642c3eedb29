//! `serve --demo` and `govmarket demo seed`: demo accounts for every role so
//! that a fresh machine shows a working platform with no setup.

use domain::Role;

use crate::accounts::{self, AccountError, Registration};
use crate::actor::Actor;
use crate::error::ServiceResult;
use crate::services::Services;

mod market;
mod orders;

pub use market::seed_market;
pub use orders::seed_orders;

/// The request id the seeders' audit entries carry.
const REQUEST_ID: &str = "demo-seed";

/// Every demo account's password; printed on start-up of the demo.
pub const DEMO_PASSWORD: &str = "demo-password";

/// (email, display name, role, resident id or organisation)
pub const DEMO_ACCOUNTS: &[(&str, &str, Role, &str)] = &[
    // The mock datasets hold this person's records, so using an app in the
    // demo finds something.
    (
        "citizen@demo.local",
        mock_data::demo_citizen::NAME,
        Role::Citizen,
        mock_data::demo_citizen::ID_NUMBER,
    ),
    (
        "isv@demo.local",
        "示例软件 王工",
        Role::Isv,
        "杭州云政科技有限公司",
    ),
    (
        "department@demo.local",
        "人社局 李科长",
        Role::Department,
        "杭州市人力资源和社会保障局",
    ),
    ("finance@demo.local", "财政局 赵会计", Role::Finance, ""),
    // A second finance user: four eyes, so a run drafted by one is approved
    // by the other.
    ("finance2@demo.local", "财政局 钱出纳", Role::Finance, ""),
    ("supervisor@demo.local", "监察 孙主任", Role::Supervisor, ""),
    ("admin@demo.local", "平台管理员", Role::Admin, ""),
];

/// Everything `serve --demo` and `govmarket demo seed` create, in order:
/// accounts, then each area's demo data (each area adds one line here, and
/// each seeder is idempotent so a restart never duplicates anything).
pub async fn seed_all(state: &Services) -> ServiceResult<SeedReport> {
    let accounts = seed_accounts(&state.db).await?;
    let orders = seed_orders(state).await?;
    let market_apps = seed_market(state).await?;
    // After the other seeders: it simulates a quarter over their apps.
    let quarter_invocations = crate::settlement::seed_quarter(state).await?;
    Ok(SeedReport {
        quarter_invocations,
        accounts,
        orders,
        market_apps,
    })
}

/// What a seeding run created.
#[derive(Debug, Default)]
pub struct SeedReport {
    pub accounts: usize,
    /// Competing apps the market seeder published.
    pub market_apps: usize,
    /// Usage events of the simulated past quarter (2026Q3) to settle.
    pub quarter_invocations: u64,
    /// Demo orders published (with their datasets, suites and apps).
    pub orders: usize,
}

/// Creates whichever demo accounts are missing; safe to run on every start.
/// Returns how many were created.
pub async fn seed_accounts(db: &store::Db) -> ServiceResult<usize> {
    let mut created = 0;
    for (email, name, role, extra) in DEMO_ACCOUNTS {
        if store::users::find_by_email(db.conn(), email)
            .await?
            .is_some()
        {
            continue;
        }
        let mut reg = Registration {
            email: (*email).to_owned(),
            password: DEMO_PASSWORD.to_owned(),
            display_name: (*name).to_owned(),
            role: role.as_str().to_owned(),
            ..Default::default()
        };
        match role {
            Role::Citizen => reg.id_number = Some((*extra).to_owned()),
            Role::Isv | Role::Department => reg.org_name = Some((*extra).to_owned()),
            _ => {}
        }
        match accounts::create_by_admin(db, reg, &Actor::system()).await {
            Ok(_) => created += 1,
            Err(AccountError::Other(e)) => return Err(e),
            Err(e) => {
                return Err(crate::ServiceError::internal(anyhow::anyhow!(
                    "demo account {email}: {e:?}"
                )));
            }
        }
    }
    Ok(created)
}
