//! The demo in a real browser: headless Chromium driven through chromedriver (WebDriver) with
//! fantoccini. Opens the demo (offline, with its fake Discord), clicks "Login with Discord",
//! approves on the fake consent page, sees the user's name and guilds, logs out and sees the
//! login link again.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them); without them the
//! test prints `SKIPPED: ...` and passes. Paths can be overridden with `CHROMIUM_BIN` and
//! `CHROMEDRIVER_BIN`. With `DEMO_SCREENSHOT=1` it also writes the README's `docs/demo.png`.

#[path = "../examples/demo.rs"]
mod demo;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use discord_oauth_mock::seed;
use fantoccini::{Client, ClientBuilder, Locator};

/// Upper bound of every wait on the browser.
const WAIT: Duration = Duration::from_secs(20);

fn binary(env: &str, default: &str) -> Option<PathBuf> {
    let path = std::env::var_os(env)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default));
    path.is_file().then_some(path)
}

/// chromedriver, killed when dropped.
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
        .expect("a free loopback port")
}

async fn start_driver(chromedriver: &Path) -> Result<Driver, String> {
    let port = free_port();
    let child = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", chromedriver.display()))?;
    let driver = Driver { child, port };
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .map_err(|e| e.to_string())?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(r) = http
            .get(format!("http://127.0.0.1:{port}/status"))
            .send()
            .await
            && r.status().is_success()
        {
            return Ok(driver);
        }
        if tokio::time::Instant::now() > deadline {
            return Err("chromedriver did not answer within 15 s".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn start_browser(
    chromium: &Path,
    chromedriver: &Path,
    profile: &Path,
) -> Result<(Driver, Client), String> {
    let driver = start_driver(chromedriver).await?;
    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1000,900",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .chain([format!("--user-data-dir={}", profile.display())])
    .collect::<Vec<_>>();
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), "chrome".into());
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({ "binary": chromium.to_string_lossy(), "args": args }),
    );
    let client = tokio::time::timeout(
        Duration::from_secs(60),
        ClientBuilder::rustls()
            .map_err(|e| e.to_string())?
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", driver.port)),
    )
    .await
    .map_err(|_| "the browser did not start within 60 s".to_owned())?
    .map_err(|e| format!("the browser did not start: {e}"))?;
    Ok((driver, client))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_dashboard_logout_in_chromium() {
    let (Some(chromium), Some(chromedriver)) = (
        binary("CHROMIUM_BIN", "/usr/bin/chromium"),
        binary("CHROMEDRIVER_BIN", "/usr/bin/chromedriver"),
    ) else {
        skipped(
            "\n=====================================================================\n\
             SKIPPED: browser test needs chromium and chromedriver\n\
             (apt-get install chromium chromium-driver; .ci/run installs them)\n\
             =====================================================================\n"
                .to_owned(),
        );
        return;
    };

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let running = demo::start(|_| None, listener)
        .await
        .expect("the demo starts offline");
    let fake = running.fake.clone().expect("offline demo runs the fake");

    let profile = std::env::temp_dir().join(format!(
        "discord-oauth-browser-{}-{}",
        std::process::id(),
        running.addr.port()
    ));
    std::fs::create_dir_all(&profile).unwrap();

    // One retry on a browser start-up failure, no more.
    let (driver, client) = match start_browser(&chromium, &chromedriver, &profile).await {
        Ok(ok) => ok,
        Err(first) => {
            eprintln!("browser start-up failed ({first}); retrying once");
            start_browser(&chromium, &chromedriver, &profile)
                .await
                .unwrap_or_else(|e| panic!("browser start-up failed twice: {first}; {e}"))
        }
    };

    let outcome = tokio::time::timeout(
        Duration::from_secs(120),
        drive(&client, &running.url(), &fake),
    )
    .await;
    if !matches!(outcome, Ok(Ok(()))) {
        // Where the browser was, to diagnose a failure.
        if let Ok(Ok(url)) = tokio::time::timeout(WAIT, client.current_url()).await {
            eprintln!("browser at {url}");
        }
        if let Ok(Ok(html)) = tokio::time::timeout(WAIT, client.source()).await {
            eprintln!("page: {}", html.chars().take(3000).collect::<String>());
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(10), client.close()).await;
    drop(driver);
    let _ = std::fs::remove_dir_all(&profile);
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("browser flow failed: {e}"),
        Err(_) => panic!("browser flow did not finish within 120 s"),
    }
}

type Failure = Box<dyn std::error::Error + Send + Sync>;

async fn drive(
    client: &Client,
    base: &str,
    fake: &discord_oauth_mock::MockDiscord,
) -> Result<(), Failure> {
    let alice = fake
        .users()
        .into_iter()
        .find(|u| u.id == seed::ALICE)
        .ok_or("no Alice in the fake")?;
    let alice_name = alice
        .global_name
        .clone()
        .ok_or("Alice has a display name")?;

    // Logged out: the login link.
    client.goto(base).await?;
    let login = client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Id("login"))
        .await?;
    assert_eq!(login.text().await?.trim(), "Login with Discord");
    // The inline style is allowed by the CSP (its hash): the button is Discord blurple.
    let bg = client
        .execute(
            "return getComputedStyle(document.getElementById('login')).backgroundColor",
            vec![],
        )
        .await?;
    assert_eq!(bg.as_str(), Some("rgb(88, 101, 242)"), "style applied");
    login.click().await?;

    // The fake consent page: pick Alice, authorize.
    let radio = client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Id(&format!("user-{}", seed::ALICE)))
        .await?;
    assert!(
        client
            .current_url()
            .await?
            .as_str()
            .starts_with(&fake.base_url()),
        "on the fake Discord"
    );
    radio.click().await?;
    client.find(Locator::Id("authorize")).await?.click().await?;

    // The dashboard: name, avatar (loaded from the fake CDN under the CSP), guilds.
    let name = client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Id("display-name"))
        .await?;
    assert_eq!(name.text().await?.trim(), alice_name);
    assert!(client.current_url().await?.as_str().starts_with(base));
    let guilds = client.find_all(Locator::Css("#guilds li.guild")).await?;
    let expected = fake
        .guilds()
        .iter()
        .filter(|g| g.has_member(seed::ALICE))
        .count();
    assert_eq!(guilds.len(), expected, "every guild of Alice is listed");
    let page_text = client.find(Locator::Css("body")).await?.text().await?;
    assert!(page_text.contains("Alice's Workshop"), "{page_text}");
    // The hostile guild name is text, not an element.
    assert!(page_text.contains("<img src=x onerror=alert(1)>"));
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#avatar"))
        .await?;
    let mut loaded = false;
    for _ in 0..100 {
        let v = client
            .execute(
                "const i = document.getElementById('avatar'); return i.complete && i.naturalWidth > 0",
                vec![],
            )
            .await?;
        if v.as_bool() == Some(true) {
            loaded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(loaded, "the avatar image loaded from the fake CDN");

    let png = client.screenshot().await?;
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("demo.png");
    std::fs::write(&shot, &png)?;
    if std::env::var_os("DEMO_SCREENSHOT").is_some_and(|v| !v.is_empty() && v != "0") {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
        std::fs::create_dir_all(&docs)?;
        std::fs::write(docs.join("demo.png"), &png)?;
        eprintln!("screenshot written to {}", docs.join("demo.png").display());
    }

    // Logout (a same-origin form POST), then the login link again.
    client.find(Locator::Id("logout")).await?.click().await?;
    let login = client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Id("login"))
        .await?;
    assert_eq!(login.text().await?.trim(), "Login with Discord");
    assert!(
        client
            .find_all(Locator::Id("display-name"))
            .await?
            .is_empty(),
        "logged out"
    );
    assert!(
        fake.stats().revocations >= 1,
        "the grant was revoked at the fake"
    );
    Ok(())
}

/// Says loudly that a test did not run: straight to the process's stderr, which the test
/// harness does not capture, so the line shows even when the test "passes".
fn skipped(message: String) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{message}");
}
