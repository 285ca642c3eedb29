//! The audit trail for supervisors: the log filtered by actor, role,
//! action, object and time, page by page, and whole for a CSV export.

use chrono::{DateTime, Utc};
pub use store::supervision::AuditFilter;

use crate::actor::Actor;
use crate::error::{Msg, ServiceError, ServiceResult};
use crate::services::Services;
use crate::settlement::audit::{AUDITORS, AuditItem, AuditList};
use crate::settlement::runs::{Csv, csv_field};

/// Most rows one CSV export carries.
pub const EXPORT_LIMIT: usize = 10_000;

fn check(filter: &AuditFilter) -> ServiceResult<()> {
    if let (Some(from), Some(until)) = (filter.from, filter.until)
        && until <= from
    {
        return Err(ServiceError::invalid(
            "until",
            Msg::new("err.supervise.audit_range"),
        ));
    }
    Ok(())
}

/// One page of matching entries, newest first (supervisor, admin); an
/// empty time range is invalid on `until`.
pub async fn page(
    services: &Services,
    actor: &Actor,
    filter: &AuditFilter,
    cursor: Option<i64>,
    limit: u64,
) -> ServiceResult<AuditList> {
    actor.require(AUDITORS)?;
    check(filter)?;
    let p = store::supervision::audit_trail(services.db.conn(), filter, cursor, limit).await?;
    Ok(AuditList {
        items: p.items.into_iter().map(AuditItem::from).collect(),
        next: p.next,
    })
}

/// The matching entries as CSV, newest first, up to [`EXPORT_LIMIT`]
/// rows (supervisor, admin). Times are UTC (RFC 3339).
pub async fn export_csv(
    services: &Services,
    actor: &Actor,
    filter: &AuditFilter,
) -> ServiceResult<Csv> {
    let (items, _more) = export(services, actor, filter).await?;
    let mut body = String::from(
        "seq,id,occurred_at,actor_id,actor_role,action,object_type,object_id,summary,request_id,hash\n",
    );
    for e in items {
        let row = [
            e.seq.to_string(),
            e.id.to_string(),
            e.occurred_at.to_rfc3339(),
            e.actor_id.map(|v| v.to_string()).unwrap_or_default(),
            e.actor_role.unwrap_or_default(),
            e.action,
            e.object_type,
            e.object_id.map(|v| v.to_string()).unwrap_or_default(),
            e.summary,
            e.request_id.unwrap_or_default(),
            e.hash,
        ];
        let fields: Vec<String> = row.iter().map(|f| csv_field(f)).collect();
        body.push_str(&fields.join(","));
        body.push('\n');
    }
    Ok(Csv {
        filename: format!("audit-{}.csv", store::now().format("%Y%m%dT%H%M%SZ")),
        body,
    })
}

/// Every matching entry up to [`EXPORT_LIMIT`], newest first, and whether
/// more matched (supervisor, admin).
pub async fn export(
    services: &Services,
    actor: &Actor,
    filter: &AuditFilter,
) -> ServiceResult<(Vec<AuditItem>, bool)> {
    actor.require(AUDITORS)?;
    check(filter)?;
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let p = store::supervision::audit_trail(
            services.db.conn(),
            filter,
            cursor,
            store::audit::MAX_PAGE,
        )
        .await?;
        out.extend(p.items.into_iter().map(AuditItem::from));
        if out.len() >= EXPORT_LIMIT {
            let more = out.len() > EXPORT_LIMIT || p.next.is_some();
            out.truncate(EXPORT_LIMIT);
            return Ok((out, more));
        }
        match p.next {
            Some(n) => cursor = Some(n),
            None => return Ok((out, false)),
        }
    }
}

/// A time as the filter reads it: `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM` in
/// `tz`, or RFC 3339. `None` for anything else.
pub fn parse_time(raw: &str, tz: &chrono_tz::Tz) -> Option<DateTime<Utc>> {
    use chrono::{NaiveDate, NaiveDateTime, TimeZone};
    let raw = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t.with_timezone(&Utc));
    }
    let naive = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })?;
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}
