//! The market's charts, drawn as inline SVG with a text alternative.

use service::market::MarketItem;

use crate::i18n::Catalog;

/// One bar of a star histogram.
pub struct HistBar {
    pub stars: u8,
    pub count: u64,
    pub y: u32,
    pub text_y: u32,
    pub width: String,
}

/// A five-bar histogram of stars, drawn as inline SVG; `summary` is its
/// text alternative.
pub struct Histogram {
    pub bars: Vec<HistBar>,
    pub summary: String,
}

pub(super) fn histogram(counts: [u64; 5], c: &Catalog) -> Histogram {
    let max = counts.iter().copied().max().unwrap_or(0).max(1);
    let unit = c.t("market.stars_unit");
    let mut parts = vec![];
    let bars = (1..=5u8)
        .rev()
        .enumerate()
        .map(|(row, stars)| {
            let count = counts[usize::from(stars - 1)];
            parts.push(format!("{stars}{unit} {count}"));
            // Drawing only: 120 units is the longest bar.
            let width = count as f64 / max as f64 * 120.0;
            let y = u32::try_from(row).unwrap_or(0) * 16 + 2;
            HistBar {
                stars,
                count,
                y,
                text_y: y + 11,
                width: format!("{width:.1}"),
            }
        })
        .collect();
    Histogram {
        bars,
        summary: parts.join(" · "),
    }
}

/// One app in the comparison chart: users this period against rating.
pub struct CompareRow {
    pub name: String,
    pub users: u64,
    pub rating: String,
    pub y: u32,
    pub users_width: String,
    pub rating_width: String,
}

pub struct Comparison {
    pub rows: Vec<CompareRow>,
    pub height: u32,
}

pub(super) fn comparison(items: &[MarketItem]) -> Comparison {
    let max_users = items
        .iter()
        .map(|i| i.users_this_period)
        .max()
        .unwrap_or(0)
        .max(1);
    let rows: Vec<CompareRow> = items
        .iter()
        .enumerate()
        .map(|(n, i)| {
            let rating: f64 = i.rating.bayesian.parse().unwrap_or(0.0);
            CompareRow {
                name: i.app_name.clone(),
                users: i.users_this_period,
                rating: i.rating.bayesian.clone(),
                y: u32::try_from(n).unwrap_or(0) * 64 + 8,
                users_width: format!(
                    "{:.1}",
                    i.users_this_period as f64 / max_users as f64 * 300.0
                ),
                rating_width: format!("{:.1}", (rating / 5.0).clamp(0.0, 1.0) * 300.0),
            }
        })
        .collect();
    let height = u32::try_from(rows.len()).unwrap_or(0) * 64 + 16;
    Comparison { rows, height }
}
