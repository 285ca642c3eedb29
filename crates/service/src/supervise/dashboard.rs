//! The supervisor's dashboard: what needs watching now, as numbers. Read
//! only; every figure comes from the store at the moment of asking.

use chrono::{DateTime, TimeDelta, Utc};

use super::SUPERVISORS;
use crate::actor::Actor;
use crate::error::ServiceResult;
use crate::services::Services;

/// How long test runs waited in the queue before starting, over a window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Latency {
    /// Runs that started in the window.
    pub runs: u64,
    /// Median wait in seconds; `None` without runs.
    pub p50_secs: Option<i64>,
    /// 95th percentile wait in seconds (nearest rank).
    pub p95_secs: Option<i64>,
}

/// The audit chain's state when the dashboard was drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainState {
    pub ok: bool,
    pub entries: u64,
    /// The first entry that breaks the chain, when one does.
    pub first_bad: Option<i64>,
    /// The newest entry's id and hash; `None` while the log is empty.
    pub head: Option<(i64, String)>,
}

/// Everything the dashboard shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dashboard {
    pub at: DateTime<Utc>,
    pub latency_24h: Latency,
    pub latency_7d: Latency,
    /// Open complaints past their deadline (as `complaints` defines it).
    pub overdue_complaints: u64,
    /// Questions unanswered for longer than `question_answer_limit` (as
    /// `questions` defines it).
    pub overdue_questions: u64,
    /// Ratings with open reports.
    pub reported_ratings: u64,
    /// Fraud signals waiting for a decision.
    pub open_fraud_signals: u64,
    pub suspended_apps: u64,
    pub chain: ChainState,
}

/// The `p`-th percentile (0..=100) by nearest rank of `values`.
pub fn percentile(values: &mut [i64], p: u32) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let n = values.len();
    // Nearest rank: ceil(p/100 · n), 1-based.
    let rank = (u64::from(p) * n as u64).div_ceil(100).max(1) as usize;
    values.get(rank.min(n) - 1).copied()
}

fn latency(mut waits: Vec<i64>) -> Latency {
    Latency {
        runs: waits.len() as u64,
        p50_secs: percentile(&mut waits, 50),
        p95_secs: percentile(&mut waits, 95),
    }
}

/// The dashboard's numbers now (supervisor).
pub async fn dashboard(services: &Services, actor: &Actor) -> ServiceResult<Dashboard> {
    actor.require(SUPERVISORS)?;
    let conn = services.db.conn();
    let now = store::now();
    let week = store::supervision::queue_waits_since(conn, now - TimeDelta::days(7)).await?;
    let day_start = now - TimeDelta::hours(24);
    let runs_day = store::supervision::queue_waits_since(conn, day_start).await?;
    let question_limit =
        TimeDelta::from_std(services.config.question_answer_limit).unwrap_or(TimeDelta::MAX);
    let asked_before = now.checked_sub_signed(question_limit).unwrap_or(now);
    let verify = store::audit::verify(conn).await?;
    Ok(Dashboard {
        at: now,
        latency_24h: latency(runs_day),
        latency_7d: latency(week),
        overdue_complaints: store::supervision::overdue_complaints(conn, now).await?,
        overdue_questions: store::supervision::overdue_questions(conn, asked_before).await?,
        reported_ratings: store::supervision::reported_ratings(conn).await?,
        open_fraud_signals: store::fraud::count_open(conn).await?,
        suspended_apps: store::supervision::suspended_apps(conn).await?,
        chain: ChainState {
            ok: verify.ok,
            entries: verify.entries,
            first_bad: verify.first_bad,
            head: store::audit::head(conn).await?,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn percentiles_are_nearest_rank() {
        assert_eq!(percentile(&mut [], 50), None);
        assert_eq!(percentile(&mut [7], 95), Some(7));
        let mut v: Vec<i64> = (1..=100).rev().collect();
        assert_eq!(percentile(&mut v, 50), Some(50));
        assert_eq!(percentile(&mut v, 95), Some(95));
        assert_eq!(percentile(&mut [1, 2, 3, 1000], 50), Some(2));
        assert_eq!(percentile(&mut [1, 2, 3, 1000], 95), Some(1000));
    }
}
