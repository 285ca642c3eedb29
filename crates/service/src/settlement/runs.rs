//! Finance's (and supervisors') reading of runs: the list, one run with
//! its lines, payouts and corrections, and the statements as CSV.

use domain::Role;
use store::settlements::{self as st, LineRow, RunRow};

use super::public::{Names, names};
use super::views::{RunDetail, RunList, RunRecords, RunView, find};
use crate::actor::Actor;
use crate::error::ServiceResult;
use crate::services::Services;

/// Who may read runs in full.
pub const READERS: &[Role] = &[Role::Finance, Role::Supervisor, Role::Admin];

/// Settlement runs, newest first (finance, supervisor, admin); `limit` is
/// clamped to 1..=200.
pub async fn list(
    services: &Services,
    actor: &Actor,
    cursor: Option<i64>,
    limit: u64,
) -> ServiceResult<RunList> {
    actor.require(READERS)?;
    let (rows, next) =
        st::list_runs(services.db.conn(), false, cursor, limit.clamp(1, 200)).await?;
    Ok(RunList {
        items: rows.into_iter().map(RunView::from).collect(),
        next,
    })
}

/// A run with its lines, payouts and corrections.
pub async fn detail(services: &Services, actor: &Actor, id: i64) -> ServiceResult<RunDetail> {
    actor.require(READERS)?;
    Ok(RunRecords::load(services.db.conn(), id).await?.into())
}

/// A run's records with the names of its apps, orders and ISVs: what the
/// finance page draws.
#[derive(Debug, Clone)]
pub struct RunSheet {
    pub records: RunRecords,
    pub names: Names,
}

pub async fn sheet(services: &Services, actor: &Actor, id: i64) -> ServiceResult<RunSheet> {
    actor.require(READERS)?;
    let records = RunRecords::load(services.db.conn(), id).await?;
    let names = names(services.db.conn(), &records.lines).await?;
    Ok(RunSheet { records, names })
}

/// A CSV file: its name and its text.
#[derive(Debug, Clone)]
pub struct Csv {
    pub filename: String,
    pub body: String,
}

/// A CSV field: quoted when needed; a leading formula character is
/// neutralised so a spreadsheet never evaluates it.
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) && s.parse::<f64>().is_err() {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn push_row(out: &mut String, row: &[String]) {
    let fields: Vec<String> = row.iter().map(|f| csv_field(f)).collect();
    out.push_str(&fields.join(","));
    out.push('\n');
}

/// The statement lines as CSV, every input included.
pub fn lines_to_csv(run: &RunRow, lines: &[LineRow]) -> String {
    let mut out = String::from(
        "period,line_id,kind,order_id,app_id,isv_org_id,eligibility,users_u,ratings_n,stars_sum,\
         r_num,r_den,q_num,q_den,w_num,w_den,sum_w_num,sum_w_den,budget_fen,amount_fen,capped,rank,explanation,\
         correction_id,adjusts_run_id,adjusts_line_id,reason\n",
    );
    for l in lines {
        let row = [
            run.period.clone(),
            l.id.to_string(),
            l.kind.clone(),
            l.order_id.map(|o| o.to_string()).unwrap_or_default(),
            l.app_id.to_string(),
            l.isv_org_id.to_string(),
            l.eligibility.clone(),
            l.users_u.to_string(),
            l.ratings_n.to_string(),
            l.stars_sum.to_string(),
            l.r_num.clone(),
            l.r_den.clone(),
            l.q_num.clone(),
            l.q_den.clone(),
            l.w_num.clone(),
            l.w_den.clone(),
            l.sum_w_num.clone(),
            l.sum_w_den.clone(),
            l.budget_fen.to_string(),
            l.amount_fen.to_string(),
            l.capped.to_string(),
            l.rank.map(|r| r.to_string()).unwrap_or_default(),
            l.explanation.clone(),
            l.correction_id.map(|c| c.to_string()).unwrap_or_default(),
            l.adjusts_run_id.map(|c| c.to_string()).unwrap_or_default(),
            l.adjusts_line_id.map(|c| c.to_string()).unwrap_or_default(),
            l.reason.clone().unwrap_or_default(),
        ];
        push_row(&mut out, &row);
    }
    out
}

/// The statement lines as CSV (finance, supervisor, admin).
pub async fn lines_csv(services: &Services, actor: &Actor, id: i64) -> ServiceResult<Csv> {
    actor.require(READERS)?;
    let run = find(services.db.conn(), id).await?;
    let lines = st::lines(services.db.conn(), id).await?;
    Ok(Csv {
        filename: format!("settlement-{}-lines.csv", run.period),
        body: lines_to_csv(&run, &lines),
    })
}

/// The payout instructions as CSV for the treasury's bank system (finance).
pub async fn payouts_csv(services: &Services, actor: &Actor, id: i64) -> ServiceResult<Csv> {
    actor.require(&[Role::Finance])?;
    let run = find(services.db.conn(), id).await?;
    let payouts = st::payouts_of_run(services.db.conn(), id).await?;
    let mut out = String::from(
        "period,payout_id,line_id,provider,status,amount_fen,amount_yuan,destination,idempotency_key,external_id,last_error,offset_fen\n",
    );
    for p in &payouts {
        let row = [
            run.period.clone(),
            p.id.to_string(),
            p.line_id.to_string(),
            p.provider.clone(),
            p.status.clone(),
            p.amount_fen.to_string(),
            format!("{}.{:02}", p.amount_fen / 100, p.amount_fen % 100),
            p.destination.clone().unwrap_or_default(),
            p.idempotency_key.clone(),
            p.external_id.clone().unwrap_or_default(),
            p.last_error.clone().unwrap_or_default(),
            p.offset_fen.to_string(),
        ];
        push_row(&mut out, &row);
    }
    Ok(Csv {
        filename: format!("settlement-{}-payouts.csv", run.period),
        body: out,
    })
}
