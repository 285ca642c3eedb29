//! `govmarket app new --order ID (--server URL | --kit DIR|ZIP) [--lang c|assemblyscript]
//! [--dir OUT]`: a vendor's new project from an order's starter kit.
//!
//! The kit is the platform's own (`GET /api/v1/orders/{id}/starter-kit.zip`): the contract,
//! the sample cases and datasets, `kit.json`, the guest header, the ABI guide, the build
//! files and a skeleton app generated from the order's output schema. This command only
//! fetches or reads it and writes it out as a project directory, which is also the suite
//! directory `govmarket app test app.wasm --suite .` reads.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};

/// The languages a project can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// C with clang and wasi-libc (`govmarket.h`, `build.sh`, `Makefile`).
    C,
    /// AssemblyScript with its npm compiler (`assembly/govmarket.ts`, `build.sh`).
    #[value(name = "assemblyscript")]
    AssemblyScript,
}

impl Lang {
    fn name(self) -> &'static str {
        match self {
            Lang::C => "C",
            Lang::AssemblyScript => "AssemblyScript",
        }
    }
}

/// Arguments of `govmarket app new`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["server", "kit"])))]
pub struct AppNewArgs {
    /// The order the app answers.
    #[arg(long)]
    pub order: i64,
    /// The language of the project.
    #[arg(long, value_enum, default_value_t = Lang::C)]
    pub lang: Lang,
    /// Fetch the starter kit from this govmarket server (e.g. `https://market.example.gov.cn`).
    #[arg(long)]
    pub server: Option<String>,
    /// Read a starter kit already downloaded: the zip or the directory it was unpacked into.
    #[arg(long)]
    pub kit: Option<PathBuf>,
    /// The project directory to write (must not exist or be empty); default `order-ID`.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// A bearer token for orders not shown to visitors (also GOVMARKET_TOKEN).
    #[arg(long, env = "GOVMARKET_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

/// Where the kit keeps its AssemblyScript template.
const AS_DIR: &str = "assemblyscript";

/// The files every AssemblyScript project needs from the kit.
const AS_FILES: [&str; 9] = [
    "contract.json",
    "cases.json",
    "kit.json",
    "ABI.md",
    "assemblyscript/assembly/index.ts",
    "assemblyscript/assembly/govmarket.ts",
    "assemblyscript/asconfig.json",
    "assemblyscript/package.json",
    "assemblyscript/build.sh",
];

/// The kit's files that only a C project uses.
const C_ONLY: [&str; 4] = ["app.c", "govmarket.h", "Makefile", "build.sh"];

/// The files every C project needs from the kit.
const C_FILES: [&str; 8] = [
    "contract.json",
    "cases.json",
    "kit.json",
    "app.c",
    "govmarket.h",
    "ABI.md",
    "build.sh",
    "Makefile",
];

pub fn run(args: AppNewArgs) -> anyhow::Result<ExitCode> {
    let out = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("order-{}", args.order)));
    ensure_empty(&out)?;
    let staging = tempfile::Builder::new()
        .prefix(".govmarket-kit-")
        .tempdir_in(
            out.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new(".")),
        )
        .context("cannot create a temporary directory beside the project")?;
    match (&args.server, &args.kit) {
        (Some(server), _) => {
            let zip = fetch_kit(server, args.order, args.token.as_deref())?;
            unzip(&zip, staging.path())?;
        }
        (None, Some(kit)) if kit.is_dir() => copy_dir(kit, staging.path())?,
        (None, Some(kit)) => {
            let zip =
                std::fs::read(kit).with_context(|| format!("cannot read {}", kit.display()))?;
            unzip(&zip, staging.path())?;
        }
        (None, None) => bail!("give --server URL or --kit DIR"),
    }
    check_kit(staging.path(), args.order, args.lang)?;
    arrange(staging.path(), args.lang)?;
    make_executable(&staging.path().join("build.sh"))?;
    if out.exists() {
        std::fs::remove_dir(&out).with_context(|| format!("cannot replace {}", out.display()))?;
    }
    let staged = staging.keep();
    std::fs::rename(&staged, &out)
        .with_context(|| format!("cannot write the project to {}", out.display()))?;
    let shown = out.display();
    let (build, source) = match args.lang {
        Lang::C => ("sh build.sh          # or: make", "app.c"),
        Lang::AssemblyScript => (
            "sh build.sh          # needs Node.js and npm",
            "assembly/index.ts",
        ),
    };
    println!(
        "created {shown} for order {order} ({lang})\n\n  cd {shown}\n  {build}\n  \
         govmarket app test app.wasm --suite .\n\n\
         {source} answers in the shape the order's output schema asks for; write the order's \
         rules in it (README.md, RULES.md, ABI.md).",
        order = args.order,
        lang = args.lang.name(),
    );
    Ok(ExitCode::SUCCESS)
}

/// Refuses to write over anything.
fn ensure_empty(dir: &Path) -> anyhow::Result<()> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                bail!(
                    "{} exists and is not empty; choose another --dir",
                    dir.display()
                );
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {
            bail!("{} exists and is not a directory", dir.display())
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", dir.display())),
    }
}

fn fetch_kit(server: &str, order: i64, token: Option<&str>) -> anyhow::Result<Vec<u8>> {
    let url = format!(
        "{}/api/v1/orders/{order}/starter-kit.zip",
        server.trim_end_matches('/')
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .build()?;
        let mut request = client.get(&url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let resp = request
            .send()
            .await
            .with_context(|| format!("cannot reach {url}"))?;
        let status = resp.status();
        let body = resp
            .bytes()
            .await
            .with_context(|| format!("reading {url}"))?;
        if !status.is_success() {
            let message = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| {
                    v.pointer("/error/message")
                        .and_then(|m| m.as_str())
                        .map(str::to_owned)
                })
                .unwrap_or_else(|| String::from_utf8_lossy(&body).chars().take(200).collect());
            bail!("{url} answered {status}: {message}");
        }
        Ok(body.to_vec())
    })
}

fn unzip(bytes: &[u8], into: &Path) -> anyhow::Result<()> {
    // `extract` keeps every entry inside `into` (names that would leave it are refused).
    zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .context("the starter kit is not a zip")?
        .extract(into)
        .context("cannot unpack the starter kit")
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    for entry in
        std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))?
    {
        let entry = entry?;
        let target = to.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_dir() {
            std::fs::create_dir_all(&target)?;
            copy_dir(&entry.path(), &target)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("cannot copy {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// The kit is of this order and holds what a project of `lang` needs.
fn check_kit(dir: &Path, order: i64, lang: Lang) -> anyhow::Result<()> {
    let needed: &[&str] = match lang {
        Lang::C => &C_FILES,
        Lang::AssemblyScript => &AS_FILES,
    };
    let missing: Vec<&str> = needed
        .iter()
        .copied()
        .filter(|f| !dir.join(f).is_file())
        .collect();
    if !missing.is_empty() {
        bail!(
            "not a starter kit of this platform: {} missing (download it again from the order's page)",
            missing.join(", ")
        );
    }
    let kit: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("kit.json"))?)
        .context("kit.json is not JSON")?;
    match kit.get("order_id").and_then(serde_json::Value::as_i64) {
        Some(id) if id != order => bail!("this starter kit is of order {id}, not of order {order}"),
        _ => Ok(()),
    }
}

/// Leaves the files of one language: a C project drops the AssemblyScript
/// template; an AssemblyScript one lifts it to the root in place of the C
/// files.
fn arrange(dir: &Path, lang: Lang) -> anyhow::Result<()> {
    let template = dir.join(AS_DIR);
    match lang {
        Lang::C => {
            if template.exists() {
                std::fs::remove_dir_all(&template)
                    .context("cannot drop the AssemblyScript template")?;
            }
        }
        Lang::AssemblyScript => {
            for file in C_ONLY {
                let path = dir.join(file);
                if path.exists() {
                    std::fs::remove_file(&path)
                        .with_context(|| format!("cannot drop {}", path.display()))?;
                }
            }
            for entry in std::fs::read_dir(&template)? {
                let entry = entry?;
                std::fs::rename(entry.path(), dir.join(entry.file_name()))
                    .with_context(|| format!("cannot move {}", entry.path().display()))?;
            }
            std::fs::remove_dir(&template).context("cannot drop the template directory")?;
        }
    }
    Ok(())
}

#[cfg(unix)]
fn make_executable(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut perms = std::fs::metadata(path)?.permissions();
    perms.set_mode(perms.mode() | 0o111);
    std::fs::set_permissions(path, perms)?;
    Ok(())
}

#[cfg(not(unix))]
fn make_executable(_: &Path) -> anyhow::Result<()> {
    Ok(())
}
