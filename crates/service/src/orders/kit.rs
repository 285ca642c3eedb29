//! The ISVs' starter kit: an order's suite directory, as much of it as an
//! ISV may download, in one zip.

use std::io::Write;

use sandbox::{TestCase, Visibility};
use serde::Serialize;
use serde_json::Value;
use store::entity::orders;

use super::{skeleton, suite_for};
use crate::actor::Actor;
use crate::error::{ServiceError, ServiceResult};
use crate::services::Services;

/// `kit.json` at the kit's root: what the platform runs besides the kit's
/// sample cases, which the kit cannot contain (`govmarket app test` reads
/// it to say so).
#[derive(Debug, Serialize)]
struct KitInfo {
    /// The order the kit is of (`govmarket app new --kit` checks it).
    order_id: i64,
    hidden_cases: usize,
    /// Whole percent of the hidden cases (by weight) that must pass.
    threshold_percent: u8,
}

/// The starter kit: a suite directory (`contract.json`, `cases.json` with
/// the sample cases, `datasets/NAME.json` for sample datasets, `kit.json`,
/// a README) as a zip that `govmarket app test --suite` reads once unpacked;
/// and what a vendor needs to build an app without the platform's source:
/// the guest header, the ABI guide, a skeleton `app.c` whose output already
/// satisfies the order's output schema, `build.sh` and a `Makefile`.
pub async fn starter_kit_zip(
    services: &Services,
    actor: &Actor,
    id: i64,
) -> ServiceResult<(orders::Model, Vec<u8>)> {
    let (order, suite) = suite_for(services, actor, id).await?;
    let sample_cases: Vec<&TestCase> = suite
        .cases
        .iter()
        .filter(|c| c.visibility == Visibility::Sample)
        .collect();
    let mut contract = crate::appdata::contract_of(&order)?;
    let mut files: Vec<(String, Vec<u8>)> = vec![];
    let mut included = Vec::new();
    for d in store::datasets::list(services.db.conn(), id).await? {
        if !d.sample {
            continue;
        }
        let records: serde_json::Map<String, Value> =
            store::datasets::records(services.db.conn(), d.id)
                .await?
                .into_iter()
                .collect();
        files.push((
            format!("datasets/{}.json", d.name),
            serde_json::to_vec_pretty(&records).map_err(ServiceError::internal)?,
        ));
        included.push(d.name);
    }
    // The kit must load as a suite directory: a grant whose data the ISV may
    // not download is left out of the kit's contract (its queries then
    // answer "not permitted" locally), and the README says so.
    let withheld: Vec<String> = contract
        .datasets
        .iter()
        .filter(|d| !included.contains(&d.name))
        .map(|d| d.name.clone())
        .collect();
    contract.datasets.retain(|d| included.contains(&d.name));
    files.push((
        "contract.json".into(),
        serde_json::to_vec_pretty(&contract).map_err(ServiceError::internal)?,
    ));
    files.push((
        "cases.json".into(),
        serde_json::to_vec_pretty(&sample_cases).map_err(ServiceError::internal)?,
    ));
    let info = KitInfo {
        order_id: order.id,
        hidden_cases: suite.hidden_cases,
        threshold_percent: contract.threshold_percent,
    };
    files.push((
        "kit.json".into(),
        serde_json::to_vec_pretty(&info).map_err(ServiceError::internal)?,
    ));
    let readme = format!(
        "# {title}\n\n订单 / order {id}\n\n\
         本目录可直接用于本地黑盒测试 / this directory is a test suite for the local check:\n\n\
         ```\nsh build.sh                                # 或 / or: make\n\
         govmarket app test app.wasm --suite .\n```\n\n\
         - RULES.md: 部门撰写的规则说明（字段含义、每条规则、边界情况）/ the department's rules: fields, each rule, edge cases\n\
         - app.c: 应用骨架，输出已符合输出模式 / a skeleton app whose output already satisfies the output schema\n\
         - govmarket.h, ABI.md: 应用接口头文件与说明 / the guest header and the ABI guide\n\
         - build.sh, Makefile: 用 clang 与 wasi-libc 构建 / build with clang and wasi-libc\n\
         - assemblyscript/: AssemblyScript 模板（`govmarket app new --lang assemblyscript`）/ the AssemblyScript template\n\
         - contract.json: 输入输出模式、数据授权与资源限制 / schemas, data grants, limits\n\
         - cases.json: {n} 个示例用例 / sample cases ({hidden} hidden cases are run on the platform only)\n\
         - kit.json: 平台另行运行的隐藏用例数与通过门槛 / hidden cases and pass threshold of the platform's run\n\
         - datasets/: 可下载的示例数据 / sample datasets\n{withheld}",
        title = order.title,
        n = sample_cases.len(),
        hidden = suite.hidden_cases,
        withheld = if withheld.is_empty() {
            String::new()
        } else {
            format!(
                "\n未包含的数据集（仅平台测试可用）/ datasets not in the kit (platform only): {}\n",
                withheld.join(", ")
            )
        }
    );
    files.push(("README.md".into(), readme.into_bytes()));
    // The department's rules: what the fields mean, each rule, edge cases.
    let rules = store::rules::get(services.db.conn(), id)
        .await?
        .map(|r| r.markdown)
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| {
            "# 规则说明 / Rules\n\n本订单的部门尚未撰写规则说明 / the department has not written rules for this order yet.\n"
                .into()
        });
    files.push(("RULES.md".into(), rules.into_bytes()));
    files.push((
        "app.c".into(),
        skeleton::app_c(
            &order.title,
            order.id,
            &contract.output_schema,
            &contract.datasets,
        )
        .into_bytes(),
    ));
    files.push(("govmarket.h".into(), skeleton::GOVMARKET_H.into()));
    files.push(("ABI.md".into(), skeleton::ABI_MD.into()));
    files.push(("build.sh".into(), skeleton::BUILD_SH.into()));
    files.push(("Makefile".into(), skeleton::MAKEFILE.into()));
    // The AssemblyScript template (`govmarket app new --lang assemblyscript`
    // lifts it to the project's root).
    files.push((
        "assemblyscript/assembly/index.ts".into(),
        skeleton::index_ts(
            &order.title,
            order.id,
            &contract.output_schema,
            &contract.datasets,
        )
        .into_bytes(),
    ));
    files.push((
        "assemblyscript/assembly/govmarket.ts".into(),
        skeleton::GOVMARKET_TS.into(),
    ));
    files.push((
        "assemblyscript/asconfig.json".into(),
        skeleton::ASCONFIG_JSON.into(),
    ));
    files.push((
        "assemblyscript/package.json".into(),
        skeleton::PACKAGE_JSON.into(),
    ));
    files.push((
        "assemblyscript/build.sh".into(),
        skeleton::BUILD_SH_AS.into(),
    ));

    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in files {
        zip.start_file(name, options)
            .map_err(ServiceError::internal)?;
        zip.write_all(&bytes).map_err(ServiceError::internal)?;
    }
    let bytes = zip.finish().map_err(ServiceError::internal)?.into_inner();
    Ok((order, bytes))
}
