//! The ISV's own statements in approved runs, and where it is paid.

use domain::Role;
use serde::Serialize;
use store::settlements::{self as st, LineRow, RunRow};
use utoipa::ToSchema;

use super::public::{Names, names};
use super::views::LineView;
use crate::actor::Actor;
use crate::error::{Msg, ServiceError, ServiceResult};
use crate::services::Services;

#[derive(Debug, Serialize, ToSchema)]
pub struct Statement {
    pub run_id: i64,
    pub period: String,
    pub status: String,
    pub total_fen: i64,
    pub lines: Vec<LineView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatementList {
    pub items: Vec<Statement>,
    pub next: Option<i64>,
    /// Where this ISV is paid; `null` holds its payouts.
    pub payout_account: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PayoutAccountView {
    pub payout_account: Option<String>,
}

/// The ISV organisation of the signed-in ISV.
fn isv_org(actor: &Actor) -> ServiceResult<i64> {
    actor
        .require(&[Role::Isv])?
        .org_id
        .ok_or_else(|| ServiceError::forbidden("err.settle.no_organisation"))
}

/// The ISV's statements as rows, newest run first, with their names and
/// the ISV's payout account: what the statements page draws.
#[derive(Debug, Clone)]
pub struct StatementSheet {
    pub runs: Vec<(RunRow, Vec<LineRow>)>,
    pub names: Names,
    pub payout_account: Option<String>,
}

async fn rows(
    services: &Services,
    org_id: i64,
) -> ServiceResult<(Vec<(RunRow, Vec<LineRow>)>, Option<String>)> {
    let runs = st::lines_of_isv(services.db.conn(), org_id).await?;
    let org = store::orgs::find_by_id(services.db.conn(), org_id).await?;
    Ok((runs, org.and_then(|o| o.payout_account)))
}

pub async fn sheet(services: &Services, actor: &Actor) -> ServiceResult<StatementSheet> {
    let org_id = isv_org(actor)?;
    let (runs, payout_account) = rows(services, org_id).await?;
    let all: Vec<LineRow> = runs.iter().flat_map(|(_, ls)| ls.iter().cloned()).collect();
    let names = names(services.db.conn(), &all).await?;
    Ok(StatementSheet {
        runs,
        names,
        payout_account,
    })
}

/// The signed-in ISV's statements in approved runs.
pub async fn of_isv(services: &Services, actor: &Actor) -> ServiceResult<StatementList> {
    let org_id = isv_org(actor)?;
    let (runs, payout_account) = rows(services, org_id).await?;
    Ok(StatementList {
        items: runs
            .into_iter()
            .map(|(run, lines)| Statement {
                run_id: run.id,
                period: run.period,
                status: run.status,
                total_fen: lines.iter().map(|l| l.amount_fen).sum(),
                lines: lines.into_iter().map(LineView::from).collect(),
            })
            .collect(),
        next: None,
        payout_account,
    })
}

/// Records where the signed-in ISV is paid (`None` clears it): a Stripe
/// connected account id, `acct_…`. Audited.
pub async fn set_payout_account(
    services: &Services,
    actor: &Actor,
    account: Option<&str>,
) -> ServiceResult<PayoutAccountView> {
    let org_id = isv_org(actor)?;
    let account = account.map(|a| a.trim().to_owned());
    if let Some(a) = &account
        && !payouts::valid_account(a)
    {
        return Err(ServiceError::invalid(
            "account",
            Msg::new("err.settle.account_invalid"),
        ));
    }
    let txn = services.db.begin_write().await?;
    store::orgs::set_payout_account(&txn, org_id, account.clone()).await?;
    store::audit::append(
        &txn,
        actor.audit(
            "organisation.payout_account",
            "organisation",
            org_id,
            match &account {
                Some(a) => format!("登记收款账户 {a}"),
                None => "清除收款账户".into(),
            },
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(PayoutAccountView {
        payout_account: account,
    })
}
