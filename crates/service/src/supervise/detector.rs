//! The fraud detector: reads one window of usage and ratings and raises a
//! signal for each pattern of the five kinds. The rules are pure
//! functions of the store's facts (unit-tested below); [`detect`] reads the
//! facts, applies them and stores what they found. Re-running a window adds
//! nothing: a signal is unique by kind, app and window.
//!
//! Thresholds are [`Thresholds`], set under `[fraud]` in the configuration
//! file; each default is explained where it is declared.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, TimeDelta, Utc};
use domain::SignalKind;
use serde::Deserialize;
use serde_json::json;
use store::fraud::{CitizenUses, NewSignal, RatingFact};

use crate::actor::Actor;
use crate::error::{ServiceError, ServiceResult};
use crate::services::Services;

/// What the detector counts as suspicious. Integers only, so a threshold
/// reads the same in the file, the evidence and the tests.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// Length of a detector window. A day: usage patterns are daily (people
    /// check their records during office hours), and a day's rows are few
    /// enough to read at once.
    pub window_hours: u32,
    /// A citizen is a heavy user when their uses in the window are at least
    /// this multiple of the app's median per-citizen uses…
    pub heavy_multiple: u32,
    /// …and at least this many: a citizen checking a few dozen times a day
    /// is diligent, not fraudulent; 50 uses of a lookup in one day are not
    /// a person.
    pub heavy_min_uses: u32,
    /// The median means something only over this many citizens; an app
    /// with fewer users in the window gets no norm and no heavy signal.
    pub heavy_min_citizens: u32,
    /// A rating burst: ratings in the window at least this multiple of the
    /// app's mean per window over the baseline…
    pub burst_multiple: u32,
    /// …and at least this many ratings (a new app's first reviews are not
    /// a burst).
    pub burst_min_ratings: u32,
    /// The baseline: this many windows before the current one (a week of
    /// daily windows smooths out one busy day).
    pub burst_baseline_windows: u32,
    /// Share of the window's ratings, in percent, from raters who used the
    /// app exactly once: above 60 % most raters did not really use it…
    pub single_use_share_pct: u32,
    /// …counted once the app has this many ratings in the window.
    pub single_use_min_ratings: u32,
    /// Accounts using one app from the same client address (keyed hash)
    /// in a window: five covers a family or a small office sharing one
    /// public address; more looks like a farm of accounts.
    pub shared_address_min_accounts: u32,
    /// An account is new when its first use of the app in the window came
    /// within this many hours of its creation.
    pub new_account_hours: u32,
    /// A cluster: at least this many new accounts using one app in the
    /// window…
    pub new_account_min: u32,
    /// …making up at least this share, in percent, of its users then.
    pub new_account_share_pct: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            window_hours: 24,
            heavy_multiple: 10,
            heavy_min_uses: 50,
            heavy_min_citizens: 5,
            burst_multiple: 5,
            burst_min_ratings: 20,
            burst_baseline_windows: 7,
            single_use_share_pct: 60,
            single_use_min_ratings: 10,
            shared_address_min_accounts: 5,
            new_account_hours: 48,
            new_account_min: 10,
            new_account_share_pct: 50,
        }
    }
}

impl Thresholds {
    /// The problem with these settings, if any.
    pub fn check(&self) -> Result<(), String> {
        if self.window_hours == 0 || self.window_hours > 24 * 31 {
            return Err("fraud.window_hours must be between 1 and 744".into());
        }
        if self.single_use_share_pct > 100 || self.new_account_share_pct > 100 {
            return Err("fraud.*_share_pct must be at most 100".into());
        }
        if self.burst_baseline_windows == 0 {
            return Err("fraud.burst_baseline_windows must be at least 1".into());
        }
        Ok(())
    }

    pub fn window(&self) -> TimeDelta {
        TimeDelta::hours(i64::from(self.window_hours))
    }
}

/// The lower median of `values` (0 when empty).
fn median(values: &mut [i64]) -> i64 {
    if values.is_empty() {
        return 0;
    }
    values.sort_unstable();
    values[(values.len() - 1) / 2]
}

/// One finding before it is stored: kind, app, evidence, subjects.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub kind: SignalKind,
    pub app_id: i64,
    pub evidence: serde_json::Value,
    /// `(citizen, uses in the window)`
    pub subjects: Vec<(i64, i64)>,
}

fn by_app(uses: &[CitizenUses]) -> BTreeMap<i64, Vec<&CitizenUses>> {
    let mut out: BTreeMap<i64, Vec<&CitizenUses>> = BTreeMap::new();
    for u in uses {
        out.entry(u.app_id).or_default().push(u);
    }
    out
}

/// Citizens whose uses are far above their app's per-citizen median.
pub fn heavy_citizens(t: &Thresholds, uses: &[CitizenUses]) -> Vec<Finding> {
    let mut out = vec![];
    for (app_id, rows) in by_app(uses) {
        if rows.len() < t.heavy_min_citizens as usize {
            continue;
        }
        let norm = median(&mut rows.iter().map(|r| r.uses).collect::<Vec<_>>());
        let threshold = (norm * i64::from(t.heavy_multiple)).max(i64::from(t.heavy_min_uses));
        let heavy: Vec<(i64, i64)> = rows
            .iter()
            .filter(|r| r.uses >= threshold)
            .map(|r| (r.citizen_id, r.uses))
            .collect();
        let Some(observed) = heavy.iter().map(|h| h.1).max() else {
            continue;
        };
        out.push(Finding {
            kind: SignalKind::HeavyCitizen,
            app_id,
            evidence: json!({
                "observed": observed, "norm": norm, "threshold": threshold,
                "counts": {"citizens": rows.len(), "heavy_citizens": heavy.len(),
                           "heavy_uses": heavy.iter().map(|h| h.1).sum::<i64>()},
            }),
            subjects: heavy,
        });
    }
    out
}

fn uses_of(uses: &[CitizenUses], app_id: i64, citizen_id: i64) -> i64 {
    uses.iter()
        .find(|u| u.app_id == app_id && u.citizen_id == citizen_id)
        .map_or(0, |u| u.uses)
}

/// Apps rated far more often in the window than over the baseline, and
/// apps whose new ratings come mostly from single-use accounts.
pub fn rating_findings(
    t: &Thresholds,
    ratings: &[RatingFact],
    baseline: &BTreeMap<i64, i64>,
    uses: &[CitizenUses],
) -> Vec<Finding> {
    let mut per_app: BTreeMap<i64, Vec<&RatingFact>> = BTreeMap::new();
    for r in ratings {
        per_app.entry(r.app_id).or_default().push(r);
    }
    let mut out = vec![];
    for (app_id, rows) in per_app {
        let n = rows.len() as i64;
        let subjects = |rows: &[&RatingFact]| -> Vec<(i64, i64)> {
            rows.iter()
                .map(|r| (r.citizen_id, uses_of(uses, app_id, r.citizen_id)))
                .collect()
        };
        // Mean per window, rounded up so a quiet app's norm is at least 1
        // once it had any rating.
        let before = baseline.get(&app_id).copied().unwrap_or(0);
        let windows = i64::from(t.burst_baseline_windows.max(1));
        let norm = (before + windows - 1) / windows;
        let threshold = (norm * i64::from(t.burst_multiple)).max(i64::from(t.burst_min_ratings));
        if n >= threshold {
            out.push(Finding {
                kind: SignalKind::RatingBurst,
                app_id,
                evidence: json!({
                    "observed": n, "norm": norm, "threshold": threshold,
                    "counts": {"ratings": n, "baseline_ratings": before,
                               "baseline_windows": t.burst_baseline_windows},
                }),
                subjects: subjects(&rows),
            });
        }
        let single: Vec<&RatingFact> = rows.iter().copied().filter(|r| r.rater_uses == 1).collect();
        let share_pct = (single.len() as i64 * 100) / n.max(1);
        if n >= i64::from(t.single_use_min_ratings)
            && share_pct >= i64::from(t.single_use_share_pct)
        {
            out.push(Finding {
                kind: SignalKind::SingleUseRaters,
                app_id,
                evidence: json!({
                    "observed": share_pct, "norm": null, "threshold": t.single_use_share_pct,
                    "counts": {"ratings": n, "single_use_raters": single.len()},
                }),
                subjects: subjects(&single),
            });
        }
    }
    out
}

/// Apps used by many accounts from one client address (by keyed hash).
pub fn shared_addresses(
    t: &Thresholds,
    addresses: &[(i64, i64, String)],
    uses: &[CitizenUses],
) -> Vec<Finding> {
    let mut groups: BTreeMap<(i64, &str), BTreeSet<i64>> = BTreeMap::new();
    for (app_id, citizen_id, hash) in addresses {
        groups
            .entry((*app_id, hash.as_str()))
            .or_default()
            .insert(*citizen_id);
    }
    let mut per_app: BTreeMap<i64, (usize, usize, BTreeSet<i64>)> = BTreeMap::new();
    for ((app_id, _), citizens) in groups {
        if citizens.len() < t.shared_address_min_accounts as usize {
            continue;
        }
        let entry = per_app.entry(app_id).or_default();
        entry.0 = entry.0.max(citizens.len());
        entry.1 += 1;
        entry.2.extend(citizens);
    }
    per_app
        .into_iter()
        .map(|(app_id, (largest, addresses, citizens))| Finding {
            kind: SignalKind::SharedAddress,
            app_id,
            evidence: json!({
                "observed": largest, "norm": null, "threshold": t.shared_address_min_accounts,
                "counts": {"addresses": addresses, "accounts": citizens.len()},
            }),
            subjects: citizens
                .into_iter()
                .map(|c| (c, uses_of(uses, app_id, c)))
                .collect(),
        })
        .collect()
}

/// Apps whose users in the window are mostly accounts made just before.
pub fn new_account_clusters(t: &Thresholds, uses: &[CitizenUses]) -> Vec<Finding> {
    let young = TimeDelta::hours(i64::from(t.new_account_hours));
    let mut out = vec![];
    for (app_id, rows) in by_app(uses) {
        let new: Vec<(i64, i64)> = rows
            .iter()
            .filter(|r| r.first_use - r.account_created <= young)
            .map(|r| (r.citizen_id, r.uses))
            .collect();
        let share_pct = (new.len() * 100 / rows.len().max(1)) as i64;
        if new.len() >= t.new_account_min as usize
            && share_pct >= i64::from(t.new_account_share_pct)
        {
            out.push(Finding {
                kind: SignalKind::NewAccountCluster,
                app_id,
                evidence: json!({
                    "observed": new.len(), "norm": null, "threshold": t.new_account_min,
                    "counts": {"users": rows.len(), "new_accounts": new.len(),
                               "share_pct": share_pct, "new_account_hours": t.new_account_hours},
                }),
                subjects: new,
            });
        }
    }
    out
}

/// What a detector run found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DetectReport {
    pub found: usize,
    /// Stored now; the rest existed from an earlier run of the window.
    pub new: usize,
}

/// Runs every rule over `[start, end)` and stores the new signals in one
/// transaction (the platform acts; audited when anything new was found).
pub async fn detect(
    services: &Services,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> ServiceResult<DetectReport> {
    if end <= start {
        return Err(ServiceError::internal(anyhow::anyhow!(
            "detector window ends before it starts"
        )));
    }
    let t = &services.config.fraud;
    let conn = services.db.conn();
    let uses = store::fraud::uses_in(conn, start, end).await?;
    let ratings = store::fraud::ratings_in(conn, start, end).await?;
    let span = end - start;
    let baseline_start = start - span * i32::try_from(t.burst_baseline_windows).unwrap_or(7);
    let baseline = store::fraud::rating_counts(conn, baseline_start, start).await?;
    let addresses = store::fraud::addresses_of_users(conn, start, end).await?;
    let mut findings = heavy_citizens(t, &uses);
    findings.extend(rating_findings(t, &ratings, &baseline, &uses));
    findings.extend(shared_addresses(t, &addresses, &uses));
    findings.extend(new_account_clusters(t, &uses));
    let mut report = DetectReport {
        found: findings.len(),
        new: 0,
    };
    if findings.is_empty() {
        return Ok(report);
    }
    let txn = services.db.begin_write().await?;
    let mut ids = vec![];
    for f in findings {
        let stored = store::fraud::insert_signal(
            &txn,
            NewSignal {
                kind: f.kind,
                app_id: f.app_id,
                evidence: f.evidence,
                window_start: start,
                window_end: end,
                subjects: f.subjects,
            },
        )
        .await?;
        if let Some(id) = stored {
            ids.push(format!("#{id} {} app {}", f.kind, f.app_id));
        }
    }
    report.new = ids.len();
    if !ids.is_empty() {
        store::audit::append(
            &txn,
            Actor::system().audit(
                "fraud.detect",
                "fraud_signal",
                None,
                format!(
                    "欺诈检测 {start} – {end}：{} 条新信号 / new signals: {}",
                    ids.len(),
                    ids.join(", ")
                ),
            ),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_780_000_000 + h * 3600, 0).unwrap()
    }

    fn use_(app_id: i64, citizen_id: i64, uses: i64) -> CitizenUses {
        CitizenUses {
            app_id,
            citizen_id,
            uses,
            first_use: at(100),
            account_created: at(0),
        }
    }

    #[test]
    fn a_heavy_citizen_is_found_and_a_normal_one_is_not() {
        let t = Thresholds::default();
        let mut uses: Vec<_> = (1..=6).map(|c| use_(1, c, 2)).collect();
        uses.push(use_(1, 7, 60));
        uses.push(use_(1, 8, 19));
        let found = heavy_citizens(&t, &uses);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].subjects, vec![(7, 60)]);
        assert_eq!(found[0].evidence["norm"], 2);
        assert_eq!(found[0].evidence["threshold"], 50);
        // Too few citizens for a norm.
        assert!(heavy_citizens(&t, &uses[4..]).is_empty());
    }

    #[test]
    fn a_busy_app_has_a_higher_bar_than_the_minimum() {
        let t = Thresholds::default();
        let mut uses: Vec<_> = (1..=6).map(|c| use_(1, c, 10)).collect();
        uses.push(use_(1, 7, 60));
        assert!(heavy_citizens(&t, &uses).is_empty(), "60 < 10 × 10");
        uses.push(use_(1, 8, 100));
        assert_eq!(heavy_citizens(&t, &uses)[0].subjects, vec![(8, 100)]);
    }

    #[test]
    fn bursts_and_single_use_raters_are_measured_against_the_thresholds() {
        let t = Thresholds::default();
        let ratings: Vec<RatingFact> = (1..=20)
            .map(|c| RatingFact {
                app_id: 3,
                citizen_id: c,
                rater_uses: if c <= 12 { 1 } else { 4 },
            })
            .collect();
        let mut baseline = BTreeMap::new();
        baseline.insert(3, 7);
        let found = rating_findings(&t, &ratings, &baseline, &[]);
        let kinds: Vec<_> = found.iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            vec![SignalKind::RatingBurst, SignalKind::SingleUseRaters]
        );
        assert_eq!(found[1].subjects.len(), 12);
        assert_eq!(found[1].evidence["observed"], 60);
        // A busy baseline: 20 is no burst against a norm of 10.
        baseline.insert(3, 70);
        let found = rating_findings(&t, &ratings, &baseline, &[]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind, SignalKind::SingleUseRaters);
    }

    #[test]
    fn many_accounts_behind_one_address_are_a_signal_a_family_is_not() {
        let t = Thresholds::default();
        let mut addr: Vec<(i64, i64, String)> = (1..=4).map(|c| (1, c, "home".into())).collect();
        assert!(shared_addresses(&t, &addr, &[]).is_empty());
        addr.extend((10..=15).map(|c| (1, c, "farm".into())));
        let found = shared_addresses(&t, &addr, &[]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].subjects.len(), 6);
        assert_eq!(found[0].evidence["observed"], 6);
    }

    #[test]
    fn a_cluster_of_new_accounts_is_found() {
        let t = Thresholds::default();
        let mut uses: Vec<_> = (1..=9).map(|c| use_(1, c, 1)).collect();
        let young = |c| CitizenUses {
            account_created: at(99),
            ..use_(1, c, 1)
        };
        uses.extend((20..30).map(young));
        let found = new_account_clusters(&t, &uses);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].subjects.len(), 10);
        uses.extend((40..=60).map(|c| use_(1, c, 1)));
        assert!(new_account_clusters(&t, &uses).is_empty(), "a minority");
    }

    #[test]
    fn the_fraud_table_of_the_config_file_sets_thresholds_and_keeps_defaults() {
        use crate::config::{Config, FileConfig, Overrides};
        let resolve = |text: &str| {
            let file: FileConfig = toml::from_str(text).map_err(|e| e.to_string())?;
            Config::resolve(file, |_| None, Overrides::default()).map_err(|e| e.to_string())
        };
        let c = resolve("").unwrap();
        assert_eq!(c.fraud, Thresholds::default());
        let c = resolve("[fraud]\nheavy_min_uses = 200\nwindow_hours = 6").unwrap();
        assert_eq!(c.fraud.heavy_min_uses, 200);
        assert_eq!(c.fraud.window(), TimeDelta::hours(6));
        assert_eq!(c.fraud.heavy_multiple, 10, "unset keys keep their default");
        let err = resolve("[fraud]\nwindow_hours = 0").unwrap_err();
        assert!(err.contains("fraud.window_hours"), "{err}");
        let err = resolve("[fraud]\nheavy_minimum = 3").unwrap_err();
        assert!(err.contains("heavy_minimum"), "a typo is refused: {err}");
    }

    #[test]
    fn the_defaults_are_valid_and_nonsense_is_refused() {
        assert_eq!(Thresholds::default().check(), Ok(()));
        let t = Thresholds {
            single_use_share_pct: 101,
            ..Thresholds::default()
        };
        assert!(t.check().is_err());
    }
}
