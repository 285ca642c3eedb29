//! The kinds of fraud signal the detector raises (DESIGN.md, "Supervision
//! and transparency"). Each names a pattern of usage or ratings that is
//! unlikely to come from citizens using an app in good faith.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::lifecycle::UnknownStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    /// A citizen invoking an app far above that app's per-citizen norm.
    HeavyCitizen,
    /// Many more ratings of an app in the window than its norm.
    RatingBurst,
    /// A high share of an app's new ratings from accounts that used it once.
    SingleUseRaters,
    /// Many accounts using an app from one client address (by keyed hash).
    SharedAddress,
    /// Many accounts created shortly before using one app.
    NewAccountCluster,
}

impl SignalKind {
    pub const ALL: &'static [SignalKind] = &[
        SignalKind::HeavyCitizen,
        SignalKind::RatingBurst,
        SignalKind::SingleUseRaters,
        SignalKind::SharedAddress,
        SignalKind::NewAccountCluster,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SignalKind::HeavyCitizen => "heavy_citizen",
            SignalKind::RatingBurst => "rating_burst",
            SignalKind::SingleUseRaters => "single_use_raters",
            SignalKind::SharedAddress => "shared_address",
            SignalKind::NewAccountCluster => "new_account_cluster",
        }
    }
}

impl fmt::Display for SignalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SignalKind {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SignalKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownStatus {
                kind: "fraud signal kind",
                value: s.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_its_name() {
        for k in SignalKind::ALL {
            assert_eq!(k.as_str().parse::<SignalKind>().unwrap(), *k);
        }
        assert!("spam".parse::<SignalKind>().is_err());
    }
}
