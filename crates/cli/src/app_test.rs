//! `govmarket app test APP.wasm --suite DIR`: the ISV's local black-box test.
//!
//! Thin on purpose: loading the suite directory, validating the module, running every case and
//! judging it all happen in `sandbox`, on the very code path the platform's test runs use. This
//! file only parses arguments and prints.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use sandbox::{
    CaseResult, EvalOptions, Sandbox, SandboxConfig, SuiteDir, TestReport, Verdict, Visibility,
};

/// Arguments of `govmarket app test`.
#[derive(Debug, clap::Args)]
pub struct AppTestArgs {
    /// The app module to test (a wasm32-wasip1 command).
    pub wasm: PathBuf,
    /// The suite directory: contract.json, cases.json or cases/*.json, datasets/NAME.json.
    #[arg(long)]
    pub suite: PathBuf,
    /// Print the report as JSON (for machines) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Show the report as the platform shows it to an ISV: hidden cases carry only id, verdict and rule label.
    #[arg(long)]
    pub isv_view: bool,
    /// The `context.now` every case sees (RFC 3339).
    #[arg(long, default_value_t = EvalOptions::default().now)]
    pub now: String,
    /// Print stdout and stderr (the app's log) of cases that were not accepted.
    #[arg(long, short)]
    pub verbose: bool,
}

/// Run the suite; exit 0 when the version would pass, 1 when it would fail, 2 when the module
/// would be rejected at upload.
pub fn run(args: AppTestArgs) -> anyhow::Result<ExitCode> {
    let wasm = std::fs::read(&args.wasm)
        .with_context(|| format!("cannot read {}", args.wasm.display()))?;
    let suite = SuiteDir::load(&args.suite)
        .with_context(|| format!("cannot load the suite in {}", args.suite.display()))?;
    let kit = KitInfo::read(&args.suite)?;
    let sandbox = Sandbox::new(SandboxConfig::default())?;
    let options = EvalOptions {
        now: args.now.clone(),
        ..EvalOptions::default()
    };

    let bar = if args.json {
        indicatif::ProgressBar::hidden()
    } else {
        // Draws on stderr only when it is a terminal.
        indicatif::ProgressBar::new(suite.cases.len() as u64)
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let report = suite.evaluate(&sandbox, &wasm, &options, &mut |progress| {
        bar.set_message(format!("{} {}", progress.id, progress.verdict));
        bar.set_position(progress.done as u64);
    })?;
    bar.finish_and_clear();

    let report = if args.isv_view {
        report.isv_view()
    } else {
        report
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&report, args.verbose);
    }
    if report.rejection.is_none()
        && let Some(note) = sample_only_note(u64::from(report.totals.hidden_cases), kit.as_ref())
    {
        // On stderr with --json, so the JSON on stdout stays one document.
        if args.json {
            eprintln!("{note}");
        } else {
            println!("{note}");
        }
    }
    Ok(if report.rejection.is_some() {
        ExitCode::from(2)
    } else if report.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `kit.json` of a starter kit: what the platform runs besides the kit's
/// sample cases, which the kit cannot contain.
#[derive(Debug, serde::Deserialize)]
struct KitInfo {
    hidden_cases: u64,
    #[serde(default)]
    threshold_percent: Option<u8>,
}

impl KitInfo {
    /// The suite directory's `kit.json`, if it is a starter kit.
    fn read(dir: &std::path::Path) -> anyhow::Result<Option<KitInfo>> {
        let path = dir.join("kit.json");
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .with_context(|| format!("{} is not a starter kit's kit.json", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }
}

/// A local run over sample cases only proves less than it seems: say so,
/// with the number of hidden cases the platform will also run.
fn sample_only_note(hidden_run: u64, kit: Option<&KitInfo>) -> Option<String> {
    if hidden_run > 0 {
        return None;
    }
    Some(match kit {
        Some(k) if k.hidden_cases > 0 => format!(
            "sample cases only: the platform also runs {} hidden case{}{}; a local pass does not promise a pass there",
            k.hidden_cases,
            if k.hidden_cases == 1 { "" } else { "s" },
            k.threshold_percent
                .map(|t| format!(" (at least {t}% of them must be accepted)"))
                .unwrap_or_default()
        ),
        Some(_) => "sample cases only: this order has no hidden cases".to_owned(),
        None => "sample cases only: this suite has no hidden cases, and the platform may run hidden ones".to_owned(),
    })
}

fn metric(value: Option<u64>, scale: f64, digits: usize) -> String {
    value.map_or_else(
        || "-".into(),
        |v| format!("{:.*}", digits, v as f64 / scale),
    )
}

fn print_table(report: &TestReport, verbose: bool) {
    if let Some(module) = &report.module {
        println!(
            "module  sha256 {}  {} bytes  {} functions",
            module.sha256, module.size_bytes, module.functions
        );
    }
    if let Some(rejection) = &report.rejection {
        println!("REJECTED: {rejection}");
        return;
    }
    println!(
        "{:<28} {:<6} {:<22} {:>13} {:>10} {:>9}",
        "case", "vis", "verdict", "instructions", "mem KiB", "time ms"
    );
    for case in &report.cases {
        print_case(case, verbose);
    }
    let t = &report.totals;
    println!(
        "{}: {}/{} cases accepted (sample {}/{}, hidden {}/{}, hidden weight {}/{}, threshold {}%), score {}%",
        if report.passed { "PASSED" } else { "FAILED" },
        t.accepted,
        t.cases,
        t.sample_accepted,
        t.sample_cases,
        t.hidden_accepted,
        t.hidden_cases,
        t.hidden_weight_accepted,
        t.hidden_weight,
        report.threshold_percent,
        report.score_percent
    );
}

fn print_case(case: &CaseResult, verbose: bool) {
    let visibility = match case.visibility {
        Visibility::Sample => "sample",
        Visibility::Hidden => "hidden",
    };
    println!(
        "{:<28} {:<6} {:<22} {:>13} {:>10} {:>9}",
        case.id,
        visibility,
        case.verdict.as_str(),
        metric(case.instructions, 1.0, 0),
        metric(case.peak_memory_bytes, 1024.0, 0),
        metric(case.wall_time_us, 1000.0, 2),
    );
    if case.verdict == Verdict::Accepted {
        return;
    }
    if let Some(detail) = &case.detail {
        println!("    {detail}");
    }
    if let (Some(expected), Some(actual)) = (&case.expected, &case.actual) {
        let expected = serde_json::to_string(expected).unwrap_or_default();
        let actual = serde_json::to_string(actual).unwrap_or_default();
        println!("    expected {expected}\n    actual   {actual}");
    }
    if verbose {
        for (name, text) in [("stdout", &case.stdout), ("stderr", &case.stderr)] {
            if let Some(text) = text.as_deref().filter(|t| !t.is_empty()) {
                println!("    {name}:");
                for line in text.lines() {
                    println!("      {line}");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_without_hidden_cases_says_what_the_platform_adds() {
        let kit = KitInfo {
            hidden_cases: 12,
            threshold_percent: Some(95),
        };
        let note = sample_only_note(0, Some(&kit)).unwrap();
        assert!(
            note.contains("the platform also runs 12 hidden cases"),
            "{note}"
        );
        assert!(note.contains("95%"), "{note}");
        assert!(sample_only_note(3, Some(&kit)).is_none());
        assert!(
            sample_only_note(0, None)
                .unwrap()
                .contains("no hidden cases")
        );
        let none = KitInfo {
            hidden_cases: 0,
            threshold_percent: None,
        };
        assert_eq!(
            sample_only_note(0, Some(&none)).unwrap(),
            "sample cases only: this order has no hidden cases"
        );
    }
}
