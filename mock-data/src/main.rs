//! `cargo run -p mock-data -- OUT_DIR`: writes every demo service as a
//! suite directory `OUT_DIR/SLUG/` plus `OUT_DIR/services.json`.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(dir), None) = (args.next(), args.next()) else {
        eprintln!("usage: mock-data OUT_DIR");
        return ExitCode::from(2);
    };
    let dir = PathBuf::from(dir);
    match mock_data::write_all(&dir) {
        Ok(services) => {
            for s in &services {
                let records: usize = s.datasets.values().map(|d| d.len()).sum();
                println!(
                    "{}/{}: {} ({} cases, {} records)",
                    dir.display(),
                    s.slug,
                    s.title_zh,
                    s.cases.len(),
                    records
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mock-data: {e}");
            ExitCode::FAILURE
        }
    }
}
