//! Browser journeys in real headless Chromium through chromedriver
//! (Debian's `chromium` and `chromium-driver`; `scripts/test.sh` installs
//! them). Override the binaries with `CHROMEDRIVER` and `CHROMIUM`.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use e2e::spawn_app;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

async fn start_browser() -> (Driver, Client) {
    let bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
    let port = free_port();
    let child = Command::new(&bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start {bin} ({e}); install chromium-driver or run scripts/test.sh")
        });
    let driver = Driver { child, port };
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", driver.port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let profile = tempfile::tempdir().expect("profile dir");
    let mut chrome = json!({
        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--window-size=1280,900", "--lang=zh-CN",
                 format!("--user-data-dir={}", profile.path().display())],
        // a Chinese-speaking citizen's browser
        "prefs": {"intl.accept_languages": "zh-CN,zh"}
    });
    if let Ok(path) = std::env::var("CHROMIUM") {
        chrome["binary"] = json!(path);
    } else if std::path::Path::new("/usr/bin/chromium").exists() {
        chrome["binary"] = json!("/usr/bin/chromium");
    }
    // the profile directory must outlive the browser; leak it to the OS temp cleanup
    std::mem::forget(profile);
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), chrome);
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a WebDriver session");
    (driver, client)
}

async fn wait_for_path(c: &Client, path: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let url = c.current_url().await.expect("url");
        if url.path() == path {
            return;
        }
        assert!(Instant::now() < deadline, "stuck at {url}, wanted {path}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_demo_citizen_signs_in_with_the_keyboard_and_sees_their_account() {
    let app = spawn_app().await;
    service::demo::seed_accounts(&app.state.db).await.unwrap();
    let (_driver, c) = start_browser().await;

    c.goto(&app.url("/")).await.unwrap();
    c.find(Locator::LinkText("登录"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_path(&c, "/login").await;

    // labels are tied to their inputs: find the fields through their labels
    let label = c.find(Locator::Css("label[for=email]")).await.unwrap();
    assert_eq!(label.text().await.unwrap(), "电子邮箱");
    c.find(Locator::Id("email"))
        .await
        .unwrap()
        .send_keys("citizen@demo.local")
        .await
        .unwrap();
    let pw = c.find(Locator::Id("password")).await.unwrap();
    pw.send_keys(service::demo::DEMO_PASSWORD).await.unwrap();
    // Enter submits the form: no mouse needed
    pw.send_keys("\u{E007}").await.unwrap();
    wait_for_path(&c, "/").await;

    let body = c
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("张小明"), "{body}");
    c.find(Locator::Css("a[href='/account']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_path(&c, "/account").await;
    let body = c
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("citizen@demo.local"), "{body}");
    assert!(
        body.contains("**********"),
        "the ID number is masked: {body}"
    );
    c.close().await.unwrap();
}

#[tokio::test]
async fn a_mistake_shows_the_error_summary_and_the_page_title_says_so() {
    let app = spawn_app().await;
    let (_driver, c) = start_browser().await;
    c.goto(&app.url("/register")).await.unwrap();
    c.find(Locator::Id("display_name"))
        .await
        .unwrap()
        .send_keys("测试")
        .await
        .unwrap();
    c.find(Locator::Id("email"))
        .await
        .unwrap()
        .send_keys("broken")
        .await
        .unwrap();
    c.find(Locator::Css("form[action='/register'] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if c.title().await.unwrap().starts_with("错误：") {
            break;
        }
        assert!(Instant::now() < deadline, "no error title");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let summary = c
        .find(Locator::Css(".error-summary"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(summary.contains("出现了问题"), "{summary}");
    // following a summary link lands on the field
    c.find(Locator::Css(".error-summary a[href='#email']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert!(c.current_url().await.unwrap().as_str().ends_with("#email"));
    let value = c
        .find(Locator::Id("email"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(value.as_deref(), Some("broken"), "what was typed is kept");

    // and the language switch works from here
    c.find(Locator::Css("a[lang=en]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_path(&c, "/register").await;
    let h1 = c
        .find(Locator::Css("h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(h1, "Create an account");
    c.close().await.unwrap();
}

async fn main_text(c: &Client) -> String {
    c.find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The text of `main`, or `None` while the page is being replaced (a
/// navigation or a `Refresh` reload between finding it and reading it).
async fn main_text_now(c: &Client) -> Option<String> {
    c.find(Locator::Css("main")).await.ok()?.text().await.ok()
}

async fn wait_for_text(c: &Client, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = main_text_now(c).await.unwrap_or_default();
        if text.contains(needle) {
            return text;
        }
        assert!(Instant::now() < deadline, "never saw {needle}: {text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_citizen_finds_compares_uses_and_rates_an_app_with_the_keyboard() {
    let app = spawn_app().await;
    service::demo::seed_accounts(&app.state.db).await.unwrap();
    service::demo::seed_orders(&app.state)
        .await
        .map_err(|e| e.into_anyhow())
        .unwrap();
    service::demo::seed_market(&app.state)
        .await
        .map_err(|e| e.into_anyhow())
        .unwrap();
    let (_driver, c) = start_browser().await;

    // sign in
    c.goto(&app.url("/login")).await.unwrap();
    c.find(Locator::Id("email"))
        .await
        .unwrap()
        .send_keys("citizen@demo.local")
        .await
        .unwrap();
    let pw = c.find(Locator::Id("password")).await.unwrap();
    pw.send_keys(service::demo::DEMO_PASSWORD).await.unwrap();
    pw.send_keys("\u{E007}").await.unwrap();
    wait_for_path(&c, "/").await;

    // find the service by searching the market
    c.goto(&app.url("/market")).await.unwrap();
    let label = c.find(Locator::Css("label[for=q]")).await.unwrap();
    assert_eq!(label.text().await.unwrap(), "搜索服务或应用");
    let q = c.find(Locator::Id("q")).await.unwrap();
    q.send_keys("社保").await.unwrap();
    q.send_keys("\u{E007}").await.unwrap();
    wait_for_text(&c, "共找到 1 项服务").await;
    c.find(Locator::LinkText("社保缴费记录查询"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    // compare: two competing apps, ranked, with their histograms
    let text = wait_for_text(&c, "可选应用对比").await;
    let rows = c
        .find_all(Locator::Css(".compare-table tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 2, "{text}");
    let histograms = c
        .find_all(Locator::Css(".compare-table svg.histogram"))
        .await
        .unwrap();
    assert_eq!(histograms.len(), 2);
    assert!(
        c.find(Locator::Css("svg.compare-chart title"))
            .await
            .is_ok()
    );
    // the best-ranked app first
    let first = c
        .find(Locator::Css(".compare-table tbody tr:first-child th a"))
        .await
        .unwrap();
    let href = first.attr("href").await.unwrap().unwrap();
    first.click().await.unwrap();
    wait_for_path(&c, &href).await;

    // use it: the generated form, filled in and sent with the keyboard
    c.find(Locator::LinkText("使用这个应用"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_path(&c, &format!("{href}/use")).await;
    let label = c.find(Locator::Css("label[for=months]")).await.unwrap();
    assert!(label.text().await.unwrap().starts_with("查询月数"));
    let months = c.find(Locator::Id("months")).await.unwrap();
    months.send_keys("12").await.unwrap();
    months.send_keys("\u{E007}").await.unwrap();
    let text = wait_for_text(&c, "结果：").await;
    assert!(text.contains("缴费月数"), "{text}");
    assert!(
        !text.contains('{') && !text.contains("months_paid"),
        "{text}"
    );

    // rate it: the rating form is pre-filled with the earlier rating
    c.find(Locator::LinkText("评价这个应用"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_path(&c, &href).await;
    let legend = c
        .find(Locator::Css("#stars legend"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(legend, "您对这个应用满意吗？");
    // space selects the focused radio button
    c.find(Locator::Id("stars-4"))
        .await
        .unwrap()
        .send_keys(" ")
        .await
        .unwrap();
    let comment = c.find(Locator::Id("comment")).await.unwrap();
    comment.clear().await.unwrap();
    comment
        .send_keys("填一个数字就查到了，很方便")
        .await
        .unwrap();
    // Tab past the suggestion to the button, Enter sends
    comment.send_keys("\u{E004}").await.unwrap();
    c.active_element()
        .await
        .unwrap()
        .send_keys("\u{E004}")
        .await
        .unwrap();
    c.active_element()
        .await
        .unwrap()
        .send_keys("\u{E007}")
        .await
        .unwrap();
    let text = wait_for_text(&c, "感谢您的评价").await;
    assert!(text.contains("填一个数字就查到了，很方便"), "{text}");
    assert!(text.contains("满意（4 星）"), "{text}");
    c.close().await.unwrap();
}

async fn wait_for_path_prefix(c: &Client, prefix: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let url = c.current_url().await.expect("url");
        if url.path().starts_with(prefix) {
            return url.path().to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "stuck at {url}, wanted {prefix}…"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn finance_previews_approves_and_pays_the_demo_quarter_with_the_keyboard() {
    let app = spawn_app().await;
    service::demo::seed_all(&app.state)
        .await
        .map_err(|e| e.into_anyhow())
        .unwrap();
    let (_driver, c) = start_browser().await;

    c.goto(&app.url("/login")).await.unwrap();
    c.find(Locator::Id("email"))
        .await
        .unwrap()
        .send_keys("finance@demo.local")
        .await
        .unwrap();
    let pw = c.find(Locator::Id("password")).await.unwrap();
    pw.send_keys(service::demo::DEMO_PASSWORD).await.unwrap();
    pw.send_keys("\u{E007}").await.unwrap();
    wait_for_path(&c, "/").await;

    // choose the period and preview the draft: Enter in the field submits
    c.goto(&app.url("/finance")).await.unwrap();
    let label = c.find(Locator::Css("label[for=period]")).await.unwrap();
    assert_eq!(label.text().await.unwrap(), "结算周期");
    let period = c.find(Locator::Id("period")).await.unwrap();
    period.send_keys("2026Q3").await.unwrap();
    period.send_keys("\u{E007}").await.unwrap();
    let run_path = wait_for_path_prefix(&c, "/finance/settlements/").await;
    let text = wait_for_text(&c, "2026Q3").await;
    assert!(text.contains("draft"), "{text}");

    // each line explains its amount from its inputs
    let explanation = c
        .find(Locator::Css(".settlement-lines td.explanation"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        explanation.contains("U=") && explanation.contains("Σw=") && explanation.contains("→"),
        "{explanation}"
    );
    // the charts: budget shares per service and users against rating, each titled
    let shares = c.find_all(Locator::Css("svg.share-bar")).await.unwrap();
    assert!(!shares.is_empty());
    assert!(c.find(Locator::Css("svg.share-bar title")).await.is_ok());
    let dots = c
        .find_all(Locator::Css("svg.scatter circle"))
        .await
        .unwrap();
    assert!(!dots.is_empty(), "one dot per app");

    // four eyes: the drafter cannot approve its own draft
    c.find(Locator::Css("form[action$='/approve'] button"))
        .await
        .unwrap()
        .send_keys("\u{E007}")
        .await
        .unwrap();
    wait_for_text(&c, "四眼原则").await;

    // a second finance user approves: the button takes Enter
    c.delete_all_cookies().await.unwrap();
    c.goto(&app.url("/login")).await.unwrap();
    c.find(Locator::Id("email"))
        .await
        .unwrap()
        .send_keys("finance2@demo.local")
        .await
        .unwrap();
    let pw = c.find(Locator::Id("password")).await.unwrap();
    pw.send_keys(service::demo::DEMO_PASSWORD).await.unwrap();
    pw.send_keys("\u{E007}").await.unwrap();
    wait_for_path(&c, "/").await;
    c.goto(&app.url(&run_path)).await.unwrap();
    c.find(Locator::Css("form[action$='/approve'] button"))
        .await
        .unwrap()
        .send_keys("\u{E007}")
        .await
        .unwrap();
    wait_for_text(&c, "approved").await;
    assert_eq!(c.current_url().await.unwrap().path(), run_path);

    // pay through the ledger, then follow the progress until every line is confirmed
    c.find(Locator::Css("form[action$='/pay'] button"))
        .await
        .unwrap()
        .send_keys("\u{E007}")
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let progress = c.find(Locator::Css("progress")).await;
        if let Ok(p) = progress {
            // The page may be reloading itself; a stale element is read again.
            let value = p.attr("value").await.ok().flatten();
            let max = p.attr("max").await.ok().flatten();
            // The run turns paid just after its last line is confirmed.
            if value.is_some()
                && value == max
                && value.as_deref() != Some("0")
                && main_text_now(&c).await.is_some_and(|t| t.contains("paid"))
            {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "payouts never all confirmed and the run paid"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        c.refresh().await.unwrap();
    }
    let text = main_text(&c).await;
    assert!(
        text.contains("paid"),
        "the run is paid once every line is: {text}"
    );
    assert!(!text.contains("failed"), "{text}");
    assert!(
        c.find(Locator::Css("a[href$='/payouts.csv']"))
            .await
            .is_ok(),
        "the treasury's instructions can be downloaded"
    );
    c.close().await.unwrap();
}
