//! The `govmarket` binary as an operator uses it, on a fresh data dir. One
//! test binary (it starts the binary it tests), a module per command area;
//! the helpers every area uses are here.

mod app_new;
mod app_test;
mod operator;
mod replay;
mod serve;
mod settle;

use std::process::{Command, Output};
pub(crate) fn govmarket(data_dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_govmarket"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("GOVMARKET_DATABASE_URL")
        .env("GOVMARKET_LOG", "warn")
        .output()
        .expect("run govmarket")
}

pub(crate) fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A running `govmarket serve`; killed when dropped, so a failed assertion
/// never leaves a server behind.
pub(crate) struct Server {
    child: std::process::Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The demo seeds accounts and data and compiles the example apps before it
/// listens: slow in a debug build on a busy machine.
const START_DEADLINE: std::time::Duration = std::time::Duration::from_secs(180);

/// Starts `govmarket serve --demo` on a free port in `dir`; its base URL and
/// what it printed before listening, once `/healthz` answers.
pub(crate) async fn serve_demo(dir: &std::path::Path) -> (Server, String, String) {
    use std::io::BufRead;
    use std::time::Instant;

    let mut child = Command::new(env!("CARGO_BIN_EXE_govmarket"))
        .arg("--data-dir")
        .arg(dir)
        .args(["serve", "--demo", "--addr", "127.0.0.1:0"])
        .env_remove("DATABASE_URL")
        .env_remove("GOVMARKET_DATABASE_URL")
        .env_remove("GOVMARKET_CONFIG")
        .env_remove("MEILI_URL")
        .env("GOVMARKET_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("start govmarket serve");
    let stdout = child.stdout.take().expect("stdout");
    let server = Server { child };

    // The listening line carries the real port (the kernel chose it). The
    // reader keeps draining stdout afterwards so the server never blocks
    // on a full pipe.
    let (tx, rx) = std::sync::mpsc::channel();
    let (said_tx, said_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(rest) = line.strip_prefix("govmarket is listening on ") {
                let _ = tx.send(rest.trim_end_matches('/').to_owned());
            } else {
                let _ = said_tx.send(line);
            }
        }
    });
    let started = Instant::now();
    let base = rx
        .recv_timeout(START_DEADLINE)
        .expect("govmarket printed its listening address in time");
    let said: Vec<String> = said_rx.try_iter().collect();
    let client = reqwest::Client::new();
    loop {
        match client.get(format!("{base}/healthz")).send().await {
            Ok(r) if r.status() == 200 => break,
            other => assert!(
                started.elapsed() < START_DEADLINE,
                "/healthz not ready: {other:?}"
            ),
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    (server, base, said.join("\n"))
}
