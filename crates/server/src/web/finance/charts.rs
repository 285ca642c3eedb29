//! The charts of a run: each order's budget shared among its apps, and
//! users against rating. Inline SVG, each with a table beside it.

use std::collections::BTreeMap;

use service::settlement::public::Names;
use service::settlement::r_display;
use store::settlements::{LineKind, LineRow};

use super::yuan;

/// One bar segment of the budget-share chart.
pub(super) struct Segment {
    pub(super) x: String,
    pub(super) width: String,
    pub(super) title: String,
    /// Alternating fills plus a text label, so colour is never the only cue.
    pub(super) fill: &'static str,
}

pub(super) struct ShareChart {
    pub(super) order: String,
    pub(super) budget: String,
    pub(super) segments: Vec<Segment>,
    pub(super) rows: Vec<(String, String, String)>,
}

const FILLS: [&str; 4] = ["#1d70b8", "#00703c", "#d4351c", "#6f72af"];

pub(super) fn share_charts(lines: &[LineRow], n: &Names) -> Vec<ShareChart> {
    let mut by_order: BTreeMap<i64, Vec<&LineRow>> = BTreeMap::new();
    for l in lines
        .iter()
        .filter(|l| l.line_kind() == Some(LineKind::Payment))
    {
        by_order.entry(l.order_id.unwrap_or(0)).or_default().push(l);
    }
    by_order
        .into_iter()
        .map(|(order_id, ls)| {
            let budget = ls.first().map(|l| l.budget_fen).unwrap_or(0).max(1);
            let mut x = 0.0_f64;
            let mut segments = Vec::new();
            let mut rows = Vec::new();
            for (i, l) in ls.iter().enumerate() {
                // Drawing only: the amounts themselves are exact integers.
                let share = l.amount_fen as f64 / budget as f64 * 100.0;
                let name = n.app(l.app_id);
                rows.push((name.clone(), yuan(l.amount_fen), format!("{share:.1}%")));
                if l.amount_fen <= 0 {
                    continue;
                }
                segments.push(Segment {
                    x: format!("{x:.2}"),
                    width: format!("{share:.2}"),
                    title: format!("{name}: {} ({share:.1}%)", yuan(l.amount_fen)),
                    fill: FILLS[i % FILLS.len()],
                });
                x += share;
            }
            ShareChart {
                order: n.order(Some(order_id)).unwrap_or_default(),
                budget: yuan(budget),
                segments,
                rows,
            }
        })
        .collect()
}

/// One point of the users-against-rating chart.
pub(super) struct Point {
    pub(super) cx: String,
    pub(super) cy: String,
    pub(super) title: String,
}

pub(super) struct Scatter {
    pub(super) points: Vec<Point>,
    pub(super) max_users: i64,
}

pub(super) fn scatter(lines: &[LineRow], n: &Names) -> Scatter {
    let payments: Vec<&LineRow> = lines
        .iter()
        .filter(|l| l.line_kind() == Some(LineKind::Payment))
        .collect();
    let max_users = payments.iter().map(|l| l.users_u).max().unwrap_or(0).max(1);
    let points = payments
        .iter()
        .map(|l| {
            let r: f64 = r_display(l).parse().unwrap_or(0.0);
            // Plot area: x 50..570 (users), y 20..220 (rating 1..5 upwards).
            let cx = 50.0 + l.users_u as f64 / max_users as f64 * 520.0;
            let cy = 220.0 - (r - 1.0).clamp(0.0, 4.0) / 4.0 * 200.0;
            Point {
                cx: format!("{cx:.1}"),
                cy: format!("{cy:.1}"),
                title: format!("{}: U={}, R={}", n.app(l.app_id), l.users_u, r_display(l)),
            }
        })
        .collect();
    Scatter { points, max_users }
}
