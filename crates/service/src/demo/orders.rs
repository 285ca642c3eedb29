//! Demo data of the supply side: the demo department publishes the four
//! `mock_data::demo_services()` as open orders (contract, datasets, suite),
//! and the demo ISV uploads the guest kit's social-insurance app and its
//! buggy sibling; the pipeline tests both and the correct one is published.
//!
//! Idempotent: an order whose title the department already has is skipped,
//! and so is an app the ISV already uploaded.

use domain::{OrderStatus, VersionStatus};

use crate::actor::Actor;
use crate::apps::{OnRejection, Upload};
use crate::error::{ServiceError, ServiceResult};
use crate::orders::{CaseInput, ContractInput, CreateOrder, SuiteInput};
use crate::services::Services;

/// The guest kit's correct and buggy answers to the social-insurance service.
const SI_LOOKUP: &[u8] = include_bytes!("../../../../sandbox/guest/wasm/si_lookup.wasm");
const SI_LOOKUP_BUGGY: &[u8] =
    include_bytes!("../../../../sandbox/guest/wasm/si_lookup_buggy.wasm");

/// The demo service the example apps answer.
const SI_SLUG: &str = "social-insurance-records";

async fn demo_user(state: &Services, email: &str) -> ServiceResult<Actor> {
    let user = store::users::find_by_email(state.db.conn(), email)
        .await?
        .ok_or_else(|| {
            ServiceError::internal(anyhow::anyhow!(
                "demo account {email} is missing; seed accounts first"
            ))
        })?;
    Ok(Actor::user(user, Some(super::REQUEST_ID.into())))
}

/// Creates whatever of the demo orders and apps is missing. Returns how
/// many orders were created.
pub async fn seed_orders(state: &Services) -> ServiceResult<usize> {
    let dept = demo_user(state, "department@demo.local").await?;
    let isv = demo_user(state, "isv@demo.local").await?;
    let org = dept.org_id();
    let mut created = 0;
    let mut si_order = None;
    for service in mock_data::demo_services() {
        let existing = store::orders::list(
            state.db.conn(),
            &store::orders::OrderFilter {
                department_org_id: org,
                q: Some(service.title_zh.clone()),
                limit: 10,
                ..Default::default()
            },
        )
        .await?
        .0
        .into_iter()
        .find(|o| o.title == service.title_zh);
        let order_id = match existing {
            Some(o) => o.id,
            None => {
                let id = create_service_order(state, &dept, &service).await?;
                created += 1;
                id
            }
        };
        if service.slug == SI_SLUG {
            si_order = Some(order_id);
        }
    }
    if let Some(order_id) = si_order {
        seed_si_apps(state, &isv, order_id).await?;
    }
    Ok(created)
}

async fn create_service_order(
    state: &Services,
    dept: &Actor,
    service: &mock_data::DemoService,
) -> ServiceResult<i64> {
    let limits = serde_json::from_value(service.contract.limits.clone()).map_err(|e| {
        ServiceError::internal(anyhow::anyhow!(
            "demo service {}: limits: {e}",
            service.slug
        ))
    })?;
    let order = crate::orders::create(
        state,
        dept,
        CreateOrder {
            title: service.title_zh.clone(),
            description: format!("{}\n\n{}", service.description_zh, service.description_en),
            category: service.category.clone(),
            tags: vec![service.department.clone()],
            budget_fen: service.budget.as_fen(),
            deadline: None,
            contract: ContractInput {
                input_schema: service.contract.input_schema.clone(),
                output_schema: service.contract.output_schema.clone(),
                datasets: service.contract.datasets.clone(),
                limits,
            },
            pass_threshold_bp: Some(i32::from(service.contract.threshold_percent) * 100),
        },
    )
    .await?;
    for (name, records) in &service.datasets {
        let body = serde_json::to_vec(records).map_err(ServiceError::internal)?;
        // Every demo record is fictitious, so ISVs may download all of it.
        crate::orders::put_dataset(state, dept, order.id, name, true, &body).await?;
    }
    let cases: Vec<CaseInput> = service
        .cases
        .iter()
        .map(|c| {
            serde_json::to_value(c)
                .and_then(serde_json::from_value)
                .map_err(|e| ServiceError::internal(anyhow::anyhow!("demo case {}: {e}", c.id)))
        })
        .collect::<Result<_, _>>()?;
    crate::orders::put_suite(state, dept, order.id, SuiteInput { cases }).await?;
    crate::orders::put_rules(
        state,
        dept,
        order.id,
        crate::orders::RulesInput {
            markdown: service.rules_zh.clone(),
        },
    )
    .await?;
    crate::orders::move_order(state, dept, order.id, OrderStatus::Open).await?;
    Ok(order.id)
}

async fn seed_si_apps(state: &Services, isv: &Actor, order_id: i64) -> ServiceResult<()> {
    // (name, module, release notes, publish when passed)
    let apps = [
        (
            "社保缴费记录速查",
            SI_LOOKUP,
            "首个版本：按月汇总个人与单位缴费，计算连续缴费月数。",
            true,
        ),
        (
            "社保查询（测试版）",
            SI_LOOKUP_BUGGY,
            "测试版：连续缴费月数的计算尚未处理跨年断缴。",
            false,
        ),
    ];
    let mut uploaded = vec![];
    for (name, wasm, notes, to_publish) in apps {
        if store::apps::find_by_name(state.db.conn(), order_id, name)
            .await?
            .is_some()
        {
            continue;
        }
        let (_, version) = crate::apps::upload(
            state,
            isv,
            order_id,
            Upload {
                name: name.to_owned(),
                release_notes: notes.to_owned(),
                wasm: wasm.to_vec(),
            },
            OnRejection::Keep,
        )
        .await?;
        if to_publish {
            uploaded.push(version.id);
        }
    }
    if uploaded.is_empty() {
        // Nothing new to publish; queued runs are left to the workers.
        return Ok(());
    }
    // Run the pipeline here so that the demo starts with a published app,
    // whether or not workers are running yet.
    let config = crate::pipeline::WorkerConfig::default();
    while crate::pipeline::run_one(state, "demo-seed", &config).await? {}
    for id in uploaded {
        let v = store::apps::version(state.db.conn(), id).await?;
        if v.is_some_and(|v| v.is(VersionStatus::Passed)) {
            crate::apps::publish(state, isv, id).await?;
        }
    }
    Ok(())
}
