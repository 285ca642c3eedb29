//! `govmarket`: the one binary. See `govmarket --help`.

mod app_new;
mod app_test;
mod search_cmd;
mod settle_cmd;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use server::AppState;
use service::Actor;
use service::accounts::{self, AccountError, Registration};
use service::config::{Config, Overrides};
use service::demo;

#[derive(Parser)]
#[command(
    name = "govmarket",
    version,
    about = "政务应用市场 / government service app market"
)]
struct Cli {
    /// A TOML configuration file (also GOVMARKET_CONFIG).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Where the SQLite database, keys and caches live (also GOVMARKET_DATA_DIR).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the API and the web pages.
    Serve {
        /// Address to listen on (also GOVMARKET_ADDR); default 127.0.0.1:8080.
        #[arg(long)]
        addr: Option<SocketAddr>,
        /// Seed demo accounts (password `demo-password`) and data first.
        #[arg(long)]
        demo: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Run test-run workers only (scale-out); `serve` also runs them in-process.
    Worker {
        /// Workers in this process; default GOVMARKET_WORKERS or the config file's.
        #[arg(long)]
        workers: Option<usize>,
    },
    /// Administration.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// The tamper-evident audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Demo data.
    Demo {
        #[command(subcommand)]
        command: DemoCommand,
    },
    /// The search index.
    Search {
        #[command(subcommand)]
        command: search_cmd::SearchCommand,
    },
    /// Quarterly settlement: draft, approve and pay a period.
    Settle(settle_cmd::SettleArgs),
    /// Tools for vendors (ISVs).
    App {
        #[command(subcommand)]
        command: AppCommand,
    },
}

#[derive(Subcommand)]
enum AppCommand {
    /// Black-box test a module against a suite directory, exactly as the platform does.
    Test(app_test::AppTestArgs),
    /// Start a project for an order from its starter kit: it builds and runs `app test` as is.
    New(app_new::AppNewArgs),
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an account of any role (departments, finance, supervisors, admins).
    CreateUser(CreateUser),
}

#[derive(Args)]
struct CreateUser {
    #[arg(long)]
    role: String,
    #[arg(long)]
    email: String,
    #[arg(long)]
    display_name: String,
    /// The password; prefer GOVMARKET_NEW_PASSWORD so it stays out of shell history.
    #[arg(long, env = "GOVMARKET_NEW_PASSWORD", hide_env_values = true)]
    password: String,
    /// The department or ISV the account belongs to (created if new).
    #[arg(long)]
    org_name: Option<String>,
    #[arg(long)]
    credit_code: Option<String>,
    /// Citizens only.
    #[arg(long)]
    id_number: Option<String>,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Re-compute the hash chain; exit 1 if any entry was tampered with.
    Verify,
    /// Rerun a citizen's invocation with its input, seed, clock and version
    /// and print the report as JSON; exit 1 if it differs, 2 if its replay
    /// record was purged or the invocation does not exist.
    Replay {
        /// The invocation's id.
        id: i64,
    },
}

#[derive(Subcommand)]
enum DemoCommand {
    /// Create the demo accounts and data (idempotent).
    Seed,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    // The ISV's local tools need no database and no shared async runtime.
    if let Command::App { command } = cli.command {
        let result = match command {
            AppCommand::Test(args) => app_test::run(args),
            AppCommand::New(args) => app_new::run(args),
        };
        return match result {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    // Text with colour at a terminal; JSON lines with each request's id and
    // no colour codes anywhere else (see `server::logging`).
    use std::io::IsTerminal;
    let terminal = std::io::stderr().is_terminal();
    let subscriber = server::logging::subscriber(
        std::io::stderr,
        terminal,
        server::logging::filter_from_env(),
    );
    if tracing::subscriber::set_global_default(subscriber).is_err() {
        eprintln!("warning: a log subscriber was already set");
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let overrides = |addr| Overrides {
        addr,
        data_dir: cli.data_dir.clone(),
    };
    match cli.command {
        Command::Serve { addr, demo } => {
            let config = Config::load(cli.config.as_deref(), overrides(addr))?;
            let state = AppState::build(config).await?;
            if demo {
                let report = demo::seed_all(&state)
                    .await
                    .map_err(service::ServiceError::into_anyhow)?;
                println!("{}", demo_sentences(&report));
            }
            service::settlement::resume_payouts(&state).await?;
            service::pipeline::spawn_workers(state.clone(), state.config.workers);
            service::housekeeping::spawn(state.clone());
            // Every node schedules and claims detector windows; the job
            // queue makes each window run once.
            service::supervise::detector_job::spawn(state.clone());
            server::serve(state).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Worker { workers } => {
            let config = Config::load(cli.config.as_deref(), overrides(None))?;
            let state = AppState::build(config).await?;
            let n = workers.unwrap_or(state.config.workers);
            service::supervise::detector_job::spawn(state.clone());
            service::pipeline::run_workers_until_shutdown(state, n).await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            let config = Config::load(cli.config.as_deref(), overrides(None))?;
            AppState::build(config).await?;
            println!("migrations applied");
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin {
            command: AdminCommand::CreateUser(u),
        } => {
            let config = Config::load(cli.config.as_deref(), overrides(None))?;
            let state = AppState::build(config).await?;
            let reg = Registration {
                email: u.email,
                password: u.password,
                display_name: u.display_name,
                role: u.role,
                id_number: u.id_number,
                org_name: u.org_name,
                credit_code: u.credit_code,
            };
            match accounts::create_by_admin(&state.db, reg, &Actor::system()).await {
                Ok(user) => {
                    println!(
                        "created {} account {} (id {})",
                        user.role, user.email, user.id
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(AccountError::Invalid(errs)) => {
                    for e in errs {
                        eprintln!(
                            "--{}: {}",
                            e.field.replace('_', "-"),
                            server::i18n::bilingual(&e.msg)
                        );
                    }
                    Ok(ExitCode::from(2))
                }
                Err(AccountError::Taken(e)) => {
                    eprintln!(
                        "--{}: {}",
                        e.field.replace('_', "-"),
                        server::i18n::bilingual(&e.msg)
                    );
                    Ok(ExitCode::from(2))
                }
                Err(AccountError::Other(e)) => Err(e.into_anyhow()),
            }
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let config = Config::load(cli.config.as_deref(), overrides(None))?;
            let state = AppState::build(config).await?;
            let v = store::audit::verify(state.db.conn()).await?;
            if v.ok {
                println!("{}", serde_json::json!({"ok": true, "entries": v.entries}));
                Ok(ExitCode::SUCCESS)
            } else {
                println!(
                    "{}",
                    serde_json::json!({"ok": false, "first_bad": v.first_bad, "reason": v.reason})
                );
                Ok(ExitCode::FAILURE)
            }
        }
        Command::Audit {
            command: AuditCommand::Replay { id },
        } => {
            let config = Config::load(cli.config.as_deref(), overrides(None))?;
            let state = AppState::build(config).await?;
            match service::replay::replay_as_operator(&state, id).await {
                Ok(report) => {
                    println!("{}", serde_json::to_string_pretty(&report)?);
                    Ok(if report.identical {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::FAILURE
                    })
                }
                Err(e @ (service::ServiceError::Gone(_) | service::ServiceError::NotFound(_))) => {
                    eprintln!("govmarket audit replay {id}: {e}");
                    Ok(ExitCode::from(2))
                }
                Err(e) => Err(e.into_anyhow()),
            }
        }
        Command::Search { command } => {
            let config = Config::load(cli.config.as_deref(), overrides(None))?;
            search_cmd::run(&AppState::build(config).await?, command).await
        }
        Command::Settle(args) => {
            let config = Config::load(cli.config.as_deref(), overrides(None))?;
            settle_cmd::run(&AppState::build(config).await?, args).await
        }
        Command::App { .. } => unreachable!("handled before the runtime starts"),
        Command::Demo {
            command: DemoCommand::Seed,
        } => {
            let config = Config::load(cli.config.as_deref(), overrides(None))?;
            let state = AppState::build(config).await?;
            let report = demo::seed_all(&state)
                .await
                .map_err(service::ServiceError::into_anyhow)?;
            println!("{}", demo_sentences(&report));
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// What the demo holds, and how to sign in, as sentences for a person.
fn demo_sentences(r: &demo::SeedReport) -> String {
    format!(
        "The demo is ready: {} orders with {} competing apps in the market, \
         {} usage events of the last quarter to settle; {} accounts created.\n\
         Sign in with any of citizen@demo.local, isv@demo.local, department@demo.local, \
         finance@demo.local (a second finance user, finance2@demo.local, approves what the \
         first drafts), supervisor@demo.local or admin@demo.local; \
         the password is {}.",
        r.orders,
        r.market_apps,
        r.quarter_invocations,
        r.accounts,
        demo::DEMO_PASSWORD
    )
}
