//! `govmarket search reindex`: rebuilds the search index from the database.

use std::process::ExitCode;

use clap::Subcommand;
use server::AppState;

#[derive(Subcommand)]
pub enum SearchCommand {
    /// Rebuild the index of orders and listed apps from the database (the
    /// embedded index needs the server stopped: one writer per directory).
    Reindex,
}

pub async fn run(state: &AppState, command: SearchCommand) -> anyhow::Result<ExitCode> {
    match command {
        SearchCommand::Reindex => {
            let started = std::time::Instant::now();
            let (orders, apps) = service::search_index::reindex(state).await?;
            println!(
                "search index ({}) rebuilt: {orders} orders, {apps} apps in {:.1} s",
                state.search.backend(),
                started.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
