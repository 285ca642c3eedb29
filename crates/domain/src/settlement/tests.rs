//! The settlement formula's tests: worked examples and properties.

use super::*;
use proptest::prelude::*;

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_780_000_000, 0).expect("in range")
}

fn usage(app_id: i64, users: u64, ratings: u64, sum_stars: u64) -> AppUsage {
    AppUsage {
        app_id,
        users,
        ratings,
        sum_stars,
        published_at: t0(),
        published_in_period: true,
        suspended_for_fraud: false,
    }
}

fn ratio(s: &str) -> Ratio {
    Ratio::parse(s).expect("valid ratio")
}

fn amounts(s: &OrderSettlement) -> Vec<(i64, i64)> {
    s.lines
        .iter()
        .map(|l| (l.app_id, l.amount_fen.as_fen()))
        .collect()
}

#[test]
fn usage_times_quality_splits_the_budget_and_low_ratings_earn_nothing() {
    // A: R = 3 (prior only), q = 3/5, w = 100 * 3/5 = 60.
    // B: R = (30 + 50) / 20 = 4, q = 4/5, w = 50 * 4/5 = 40.
    // C: R = (30 + 10) / 20 = 2 < 2.5, so q = 0 and w = 0.
    let apps = [
        usage(1, 100, 0, 0),
        usage(2, 50, 10, 50),
        usage(3, 200, 10, 10),
    ];
    let s = settle_order(Fen::from_fen(100_000), &apps, &SettlementParams::default())
        .expect("valid inputs");
    assert_eq!(amounts(&s), [(1, 60_000), (2, 40_000), (3, 0)]);
    assert_eq!(s.sum_w, Ratio::from_integer(100));
    let b = &s.lines[1];
    assert_eq!(
        (b.r.clone(), b.q.clone(), b.w.clone()),
        (ratio("4"), ratio("4/5"), ratio("40"))
    );
    assert_eq!(s.lines[2].r, ratio("2"));
    assert_eq!(s.lines[2].q, Ratio::zero());
    assert_eq!(s.unspent_fen, Fen::ZERO);
}

#[test]
fn a_line_explains_itself_in_chinese() {
    let apps = [usage(1, 100, 0, 0), usage(2, 50, 10, 50)];
    let s = settle_order(Fen::from_fen(100_000), &apps, &SettlementParams::default())
        .expect("valid inputs");
    assert_eq!(
        s.lines[1].explanation_zh(),
        "U=50，n=10，星数合计=50，R=4.00，q=0.8000，w=40.00，Σw=100.00，B=¥1,000.00 → ¥400.00"
    );
}

#[test]
fn leftover_fen_go_to_the_largest_remainders_and_ties_to_the_lowest_app_id() {
    // Three equal weights, 100 fen: 33.33 each, 1 fen left over.
    let apps = [usage(7, 10, 0, 0), usage(3, 10, 0, 0), usage(5, 10, 0, 0)];
    let s = settle_order(Fen::from_fen(100), &apps, &SettlementParams::default())
        .expect("valid inputs");
    assert_eq!(amounts(&s), [(3, 34), (5, 33), (7, 33)]);

    // Weights 1, 2 and 4 of 100 fen: 14.29, 28.57, 57.14; floors 99,
    // the 1 left over goes to the largest fraction (app 2's .57).
    let apps = [usage(1, 5, 0, 0), usage(2, 10, 0, 0), usage(3, 20, 0, 0)];
    let s = settle_order(Fen::from_fen(100), &apps, &SettlementParams::default())
        .expect("valid inputs");
    assert_eq!(amounts(&s), [(1, 14), (2, 29), (3, 57)]);
}

#[test]
fn when_no_app_has_weight_nothing_is_paid_and_the_budget_is_unspent() {
    let mut suspended = usage(2, 500, 0, 0);
    suspended.suspended_for_fraud = true;
    let apps = [usage(1, 100, 10, 10), suspended, usage(3, 0, 0, 0)];
    let s = settle_order(Fen::from_fen(5_000), &apps, &SettlementParams::default())
        .expect("valid inputs");
    assert_eq!(amounts(&s), [(1, 0), (2, 0), (3, 0)]);
    assert_eq!(s.sum_w, Ratio::zero());
    assert_eq!(
        (s.paid_fen, s.unspent_fen),
        (Fen::ZERO, Fen::from_fen(5_000))
    );
    assert_eq!(s.lines[1].eligibility, Eligibility::SuspendedForFraud);
    assert_eq!(s.lines[2].eligibility, Eligibility::NoUsage);
}

#[test]
fn a_capped_app_gives_its_excess_to_the_others() {
    // Weights 80, 10, 10 of 1000 fen with a cap of half: A would get
    // 800, is capped at 500, and B and C share the other 500.
    let apps = [usage(1, 80, 0, 0), usage(2, 10, 0, 0), usage(3, 10, 0, 0)];
    let params = SettlementParams {
        cap_share: Some(ratio("1/2")),
        ..SettlementParams::default()
    };
    let s = settle_order(Fen::from_fen(1_000), &apps, &params).expect("valid inputs");
    assert_eq!(amounts(&s), [(1, 500), (2, 250), (3, 250)]);
    assert!(s.lines[0].capped && !s.lines[1].capped);
    assert_eq!(s.cap_fen, Some(Fen::from_fen(500)));
}

#[test]
fn redistribution_can_push_a_second_app_over_the_cap() {
    // Weights 50, 30, 20 of 1000 fen, cap 40%: A capped at 400; B's
    // share of the remaining 600 is 360 < 400, C gets 240.
    // With cap 35%: A at 350, then B's share of 650 is 390 > 350, so B
    // is capped too and C takes the remaining 300.
    let apps = [usage(1, 50, 0, 0), usage(2, 30, 0, 0), usage(3, 20, 0, 0)];
    let mut params = SettlementParams {
        cap_share: Some(ratio("0.4")),
        ..SettlementParams::default()
    };
    let s = settle_order(Fen::from_fen(1_000), &apps, &params).expect("valid inputs");
    assert_eq!(amounts(&s), [(1, 400), (2, 360), (3, 240)]);
    params.cap_share = Some(ratio("0.35"));
    let s = settle_order(Fen::from_fen(1_000), &apps, &params).expect("valid inputs");
    assert_eq!(amounts(&s), [(1, 350), (2, 350), (3, 300)]);
}

#[test]
fn when_every_paying_app_is_capped_the_rest_is_unspent() {
    let apps = [usage(1, 10, 0, 0), usage(2, 30, 0, 0)];
    let params = SettlementParams {
        cap_share: Some(ratio("1/4")),
        ..SettlementParams::default()
    };
    let s = settle_order(Fen::from_fen(1_001), &apps, &params).expect("valid inputs");
    assert_eq!(amounts(&s), [(1, 250), (2, 250)]);
    assert_eq!(s.unspent_fen, Fen::from_fen(501));
}

#[test]
fn impossible_inputs_are_refused() {
    let p = SettlementParams::default();
    assert_eq!(
        settle_order(Fen::from_fen(-1), &[], &p),
        Err(SettlementError::NegativeBudget)
    );
    assert_eq!(
        settle_order(
            Fen::from_fen(1),
            &[usage(1, 1, 0, 0), usage(1, 2, 0, 0)],
            &p
        ),
        Err(SettlementError::DuplicateApp(1))
    );
    assert_eq!(
        settle_order(Fen::from_fen(1), &[usage(4, 1, 2, 11)], &p),
        Err(SettlementError::InconsistentRatings(4))
    );
    let bad = SettlementParams {
        reward_split_percent: vec![50, 30, 30],
        ..SettlementParams::default()
    };
    assert!(matches!(
        settle_order(Fen::from_fen(1), &[], &bad),
        Err(SettlementError::InvalidParams(_))
    ));
}

#[test]
fn params_deserialise_with_defaults_and_refuse_unknown_fields() {
    let p: SettlementParams =
        serde_json::from_str(r#"{"r_min": 3.0, "cap_share": "0.3"}"#).expect("valid");
    assert_eq!(p.r_min, Ratio::from_integer(3));
    assert_eq!(p.cap_share, Some(ratio("3/10")));
    assert_eq!(p.c, 10);
    assert!(serde_json::from_str::<SettlementParams>(r#"{"rmin": 3}"#).is_err());
    let json = serde_json::to_value(SettlementParams::default()).expect("serialise");
    assert_eq!(json["r_min"], "5/2");
    assert_eq!(
        json["reward_split_percent"],
        serde_json::json!([50, 30, 20])
    );
}

fn candidate(app_id: i64, w: &str, r: &str, users: u64, days: i64) -> RewardCandidate {
    RewardCandidate {
        app_id,
        w: ratio(w),
        r: ratio(r),
        users,
        published_at: t0() + chrono::Duration::days(days),
    }
}

#[test]
fn rewards_go_fifty_thirty_twenty_to_the_top_three_by_weight() {
    let c = [
        candidate(1, "10", "4", 10, 0),
        candidate(2, "30", "4", 10, 0),
        candidate(3, "20", "4", 10, 0),
        candidate(4, "5", "4", 10, 0),
    ];
    let lines = rewards(Fen::from_fen(1_001), &c, &[50, 30, 20]).expect("valid");
    let got: Vec<_> = lines
        .iter()
        .map(|l| (l.rank, l.app_id, l.amount_fen.as_fen()))
        .collect();
    // 500.5, 300.3, 200.2: the leftover fen goes to rank 1's .5.
    assert_eq!(got, [(1, 2, 501), (2, 3, 300), (3, 1, 200)]);
}

#[test]
fn reward_ties_fall_to_rating_then_users_then_earlier_publication() {
    let c = [
        candidate(1, "12", "3", 20, 0),
        candidate(2, "12", "4", 15, 5),
        candidate(3, "12", "3", 20, -1),
        candidate(4, "12", "3", 30, 9),
    ];
    let lines = rewards(Fen::from_fen(100), &c, &[50, 30, 20]).expect("valid");
    let ranked: Vec<_> = lines.iter().map(|l| l.app_id).collect();
    assert_eq!(ranked, [2, 4, 3]);
}

#[test]
fn rewards_need_positive_weight_and_empty_slots_stay_unspent() {
    let c = [candidate(1, "0", "2", 100, 0), candidate(2, "1", "3", 1, 0)];
    let lines = rewards(Fen::from_fen(1_000), &c, &[50, 30, 20]).expect("valid");
    assert_eq!(lines.len(), 1);
    assert_eq!(
        (lines[0].app_id, lines[0].amount_fen),
        (2, Fen::from_fen(500))
    );
}

// ---- properties ----

fn arb_usage(app_id: i64) -> impl Strategy<Value = AppUsage> {
    (
        0u64..5_000,
        0u64..300,
        0u64..=400,
        0i64..1_000,
        prop::bool::weighted(0.9),
        prop::bool::weighted(0.05),
    )
        .prop_map(
            move |(users, ratings, spread, days, published, fraud)| AppUsage {
                app_id,
                users,
                ratings,
                sum_stars: ratings + ratings * spread / 100,
                published_at: t0() + chrono::Duration::days(days),
                published_in_period: published,
                suspended_for_fraud: fraud,
            },
        )
}

fn arb_apps() -> impl Strategy<Value = Vec<AppUsage>> {
    prop::collection::btree_set(1i64..10_000, 0..12)
        .prop_flat_map(|ids| ids.into_iter().map(arb_usage).collect::<Vec<_>>())
}

fn arb_params() -> impl Strategy<Value = SettlementParams> {
    prop::option::of((1i64..=100).prop_map(|p| Ratio::new(p, 100).expect("non-zero"))).prop_map(
        |cap_share| SettlementParams {
            cap_share,
            ..SettlementParams::default()
        },
    )
}

fn arb_budget() -> impl Strategy<Value = Fen> {
    prop_oneof![0i64..1_000, 0i64..100_000_000_000].prop_map(Fen::from_fen)
}

proptest! {
    #[test]
    fn lines_add_up_to_the_budget_or_report_it_unspent(
        budget in arb_budget(), apps in arb_apps(), params in arb_params(),
    ) {
        let s = settle_order(budget, &apps, &params).expect("valid inputs");
        let total = Fen::checked_sum(s.lines.iter().map(|l| l.amount_fen)).expect("no overflow");
        prop_assert_eq!(total, s.paid_fen);
        prop_assert_eq!(s.paid_fen.checked_add(s.unspent_fen), Some(budget));
        let any_uncapped_paid = s.lines.iter().any(|l| l.w.is_positive() && !l.capped);
        if s.sum_w.is_zero() {
            prop_assert_eq!(s.paid_fen, Fen::ZERO);
        } else if any_uncapped_paid {
            prop_assert_eq!(s.paid_fen, budget);
        }
        for l in &s.lines {
            prop_assert!(!l.amount_fen.is_negative());
            prop_assert!(l.amount_fen <= budget);
            if let Some(cap) = s.cap_fen {
                prop_assert!(l.amount_fen <= cap);
            }
            if !l.w.is_positive() {
                prop_assert_eq!(l.amount_fen, Fen::ZERO);
            }
        }
    }

    #[test]
    fn without_a_cap_each_line_is_within_one_fen_of_its_exact_share(
        budget in arb_budget(), apps in arb_apps(),
    ) {
        let s = settle_order(budget, &apps, &SettlementParams::default()).expect("valid inputs");
        prop_assume!(s.sum_w.is_positive());
        for l in &s.lines {
            // Re-derived from the line's own stored inputs.
            let exact = (&Ratio::from(l.budget_fen.as_fen()) * &l.w)
                .checked_div(&l.sum_w)
                .expect("sum_w is positive");
            let diff = &Ratio::from(l.amount_fen.as_fen()) - &exact;
            prop_assert!(diff > Ratio::from_integer(-1) && diff < Ratio::one());
        }
    }

    #[test]
    fn the_result_does_not_depend_on_input_order(
        budget in arb_budget(), apps in arb_apps(), params in arb_params(), seed: u64,
    ) {
        let a = settle_order(budget, &apps, &params).expect("valid inputs");
        let mut shuffled = apps.clone();
        // A deterministic Fisher-Yates driven by the seed.
        let mut x = seed | 1;
        for i in (1..shuffled.len()).rev() {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            shuffled.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let b = settle_order(budget, &shuffled, &params).expect("valid inputs");
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(a, settle_order(budget, &apps, &params).expect("valid inputs"));
    }

    #[test]
    fn more_users_at_the_same_rating_never_earn_less(
        budget in arb_budget(), apps in arb_apps(), params in arb_params(),
        pick: prop::sample::Index, extra in 1u64..1_000,
    ) {
        prop_assume!(!apps.is_empty());
        let i = pick.index(apps.len());
        let before = settle_order(budget, &apps, &params).expect("valid inputs");
        let mut more = apps.clone();
        more[i].users += extra;
        let after = settle_order(budget, &more, &params).expect("valid inputs");
        let id = apps[i].app_id;
        let paid = |s: &OrderSettlement| s.lines.iter().find(|l| l.app_id == id).map(|l| l.amount_fen);
        prop_assert!(paid(&after) >= paid(&before), "{:?} < {:?}", paid(&after), paid(&before));
    }

    #[test]
    fn rewards_never_exceed_the_pool_and_follow_the_ranking(
        pool in 0i64..10_000_000, apps in arb_apps(),
    ) {
        let s = settle_order(Fen::from_fen(1_000_000), &apps, &SettlementParams::default())
            .expect("valid inputs");
        let candidates: Vec<RewardCandidate> = s.lines.iter().map(RewardCandidate::from).collect();
        let lines = rewards(Fen::from_fen(pool), &candidates, &[50, 30, 20]).expect("valid");
        let total = Fen::checked_sum(lines.iter().map(|l| l.amount_fen)).expect("no overflow");
        prop_assert!(total <= Fen::from_fen(pool));
        let positive = candidates.iter().filter(|c| c.w.is_positive()).count();
        prop_assert_eq!(lines.len(), positive.min(3));
        if positive >= 3 {
            prop_assert_eq!(total, Fen::from_fen(pool));
        }
        for pair in lines.windows(2) {
            prop_assert!(pair[0].w >= pair[1].w);
            prop_assert!(pair[0].amount_fen >= pair[1].amount_fen);
        }
    }
}
