//! The `patchbay` command line: everything the wizard does, for admins who script and for
//! support people helping remotely. A thin layer over `patchbay-core`.

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use patchbay_core::catalog::{Catalog, ProviderSpec};
use patchbay_core::checklist::{Checklist, Event};
use patchbay_core::connections::{ConnectionStatus, DEFAULT_DEADLINE, Revocation};
use patchbay_core::distribution::Distribution;
use patchbay_core::redirect::Via;
use patchbay_core::report::{Report, keychain_health, timestamp};
use patchbay_core::sanitize::printable;
use patchbay_core::settings::{Paths, Settings};
use patchbay_core::store::{Keychain, SecretStore, Unavailable};
use patchbay_core::{Browser, ConnectHooks, ConnectRequest, Connections, Error, ErrorKind, Result};
use secrecy::{ExposeSecret, SecretString};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Parser)]
#[command(
    name = "patchbay",
    version,
    about = "Connect QuickBooks Time, Aspire and QuickBooks Online, and keep the connections healthy."
)]
pub struct Cli {
    /// Use the bundled practice emulators instead of the real vendors (no account needed).
    #[arg(long, global = true)]
    practice: bool,
    /// Use an already running emulator at this address (implies --practice).
    #[arg(long, global = true, env = "PATCHBAY_EMULATOR_URL", value_name = "URL")]
    emulator: Option<url::Url>,
    /// Also read systems from this catalog file (see the README for the format).
    #[arg(long, global = true, env = "PATCHBAY_CATALOG", value_name = "FILE")]
    catalog: Option<PathBuf>,
    /// Listen for the vendor's answer on this port instead of the catalog's (register the
    /// Callback URL with this port at the vendor).
    #[arg(
        long,
        global = true,
        env = "PATCHBAY_CALLBACK_PORT",
        value_name = "PORT"
    )]
    callback_port: Option<u16>,
    /// The keychain service name entries are stored under.
    #[arg(long, global = true, env = "PATCHBAY_KEYCHAIN_SERVICE", default_value = patchbay_core::KEYCHAIN_SERVICE, hide = true)]
    keychain_service: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the systems Patchbay can connect.
    Providers,
    /// Connect a system (asks for the Client ID and secret, then opens your browser).
    Connect {
        /// The system, e.g. quickbooks-time, aspire, quickbooks-online.
        system: String,
        /// The environment (production, sandbox) where the system has more than one.
        #[arg(long = "env", value_name = "ENV")]
        environment: Option<String>,
        /// Print the link instead of opening the browser.
        #[arg(long)]
        no_browser: bool,
        /// Seconds to wait for the browser step.
        #[arg(long, default_value_t = DEFAULT_DEADLINE.as_secs(), value_name = "SECS")]
        timeout: u64,
        /// An https page of your own registered at the vendor as the redirect URI, where the
        /// vendor refuses Patchbay's own address and no relay is set up; you then paste the
        /// address your browser ends on.
        #[arg(long, value_name = "URL")]
        redirect_page: Option<String>,
    },
    /// Show every connection and its state.
    Status {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Check a connection now: refresh if needed and make a real API call.
    Verify {
        system: String,
        #[arg(long = "env", value_name = "ENV")]
        environment: Option<String>,
    },
    /// Print a valid access token (refreshed if needed), for scripts.
    Token {
        system: String,
        #[arg(long = "env", value_name = "ENV")]
        environment: Option<String>,
    },
    /// Refresh the access token now.
    Refresh {
        system: String,
        #[arg(long = "env", value_name = "ENV")]
        environment: Option<String>,
    },
    /// Revoke the connection at the vendor (where offered) and delete it from the keychain.
    Disconnect {
        system: String,
        #[arg(long = "env", value_name = "ENV")]
        environment: Option<String>,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        /// Also delete the saved settings (mappings); by default they are kept for the next
        /// connect.
        #[arg(long)]
        forget_settings: bool,
    },
    /// Fetch the system's lists (a preview import) with progress, then counts and a sample.
    Preview {
        system: String,
        #[arg(long = "env", value_name = "ENV")]
        environment: Option<String>,
        /// Also save each list as a CSV file in this folder.
        #[arg(long, value_name = "DIR")]
        export: Option<PathBuf>,
    },
    /// Show or change the configuration chosen from imported data (QuickBooks Online's customer and
    /// supplier account mappings); `--set id=value` saves (Save Configuration).
    Mappings {
        system: String,
        #[arg(long = "env", value_name = "ENV")]
        environment: Option<String>,
        #[arg(long = "set", value_name = "ID=VALUE")]
        set: Vec<String>,
        /// Print the saved configuration as JSON, without asking the vendor (for the
        /// integration that uses the connection).
        #[arg(long)]
        json: bool,
    },
    /// Print a diagnostics report for support (no secrets).
    Report,
}

/// The system browser, honouring `BROWSER` as Linux tools do (through the `webbrowser` crate).
#[derive(Debug, Default)]
pub struct SystemBrowser;

impl Browser for SystemBrowser {
    fn open(&self, url: &str) -> std::result::Result<(), String> {
        webbrowser::open(url).map_err(|e| e.to_string())
    }
}

#[derive(Debug)]
struct PrintLink;

impl Browser for PrintLink {
    fn open(&self, _url: &str) -> std::result::Result<(), String> {
        Ok(()) // the Authorize event already printed the link
    }
}

/// Run the command line; returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    // Warnings on stderr (the output stays readable); info and up in the log file.
    patchbay_core::logging::init(patchbay_core::logging::CLI, "warn");
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("patchbay: could not start: {e}");
            return 1;
        }
    };
    let result = runtime.block_on(run(cli));
    // Do not wait for a stdin reader still blocked on the terminal.
    runtime.shutdown_background();
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("\n{}", e.message());
            // The checklist item this kind of trouble belongs to, with its fix.
            if let Some(item) = Catalog::builtin()
                .ok()
                .and_then(|c| c.common_item(e.kind()).cloned())
            {
                eprintln!("\n✗ {}\n  {}", item.title, item.fix);
            }
            if let Some(d) = e.provider_detail() {
                eprintln!("(vendor said: {})", printable(d));
            }
            tracing::debug!(error = %e.detailed());
            e.kind().exit_code()
        }
    }
}

struct Practice {
    base: Option<url::Url>,
    // Kept alive for the command's duration when started here.
    _emulator: Option<patchbay_emulator::Emulator>,
    apps: Vec<patchbay_emulator::AppInfo>,
}

async fn practice(cli: &Cli, paths: &Paths) -> Result<Practice> {
    if let Some(url) = &cli.emulator {
        return Ok(Practice {
            base: Some(url.clone()),
            _emulator: None,
            apps: Vec::new(),
        });
    }
    if !cli.practice {
        return Ok(Practice {
            base: None,
            _emulator: None,
            apps: Vec::new(),
        });
    }
    let _ = std::fs::create_dir_all(&paths.data_dir);
    let config = patchbay_emulator::EmulatorConfig {
        state_file: Some(paths.data_dir.join("practice-emulator.json")),
        ..Default::default()
    };
    let emulator = patchbay_emulator::Emulator::start(config)
        .await
        .map_err(|e| {
            Error::new(ErrorKind::Network, "Could not start the practice emulator.").with_source(e)
        })?;
    let base = url::Url::parse(&emulator.base_url()).map_err(|e| {
        Error::new(
            ErrorKind::Network,
            "The practice emulator has no valid address.",
        )
        .with_source(e)
    })?;
    Ok(Practice {
        base: Some(base),
        apps: emulator.practice_apps(),
        _emulator: Some(emulator),
    })
}

/// Pretty JSON on stdout, for scripts (`--json`).
fn print_json(value: std::result::Result<serde_json::Value, serde_json::Error>) -> Result<()> {
    let text = value
        .and_then(|v| serde_json::to_string_pretty(&v))
        .map_err(|e| Error::internal("Could not format the answer as JSON.").with_source(e))?;
    println!("{text}");
    Ok(())
}

/// A connection's saved configuration as `patchbay mappings --json` prints it.
fn saved_mappings(
    record: &patchbay_core::settings::ConnectionRecord,
) -> serde_json::Result<serde_json::Value> {
    Ok(serde_json::json!({
        "connection": record.id,
        "system": record.provider,
        "environment": record.environment,
        "saved": serde_json::to_value(&record.mappings)?,
    }))
}

fn catalog_for(cli: &Cli, settings: &Settings) -> Result<Catalog> {
    let mut files: Vec<PathBuf> = settings
        .connections()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|r| r.catalog_file)
        .collect();
    files.extend(cli.catalog.clone());
    Catalog::with_files(&files)
}

async fn run(cli: Cli) -> Result<i32> {
    let paths = Paths::from_env()?;
    let settings = Settings::new(paths.clone());
    let mut catalog = catalog_for(&cli, &settings)?;
    if let Some(port) = cli.callback_port {
        catalog.set_callback_port(port);
    }
    if let Command::Providers = cli.command {
        print_providers(&catalog);
        return Ok(0);
    }
    let service = cli.keychain_service.clone();
    let keychain = tokio::task::spawn_blocking(move || Keychain::open(&service))
        .await
        .map_err(|e| Error::keychain("The keychain did not answer.").with_source(e))?;
    // `status` and `report` read no secret and are most wanted when the keychain fails: they
    // say so instead of stopping.
    let (store, keychain_health): (Arc<dyn SecretStore>, String) = match keychain {
        Ok(k) => {
            let health = keychain_health(k.location(), None);
            (Arc::new(k), health)
        }
        Err(e) if matches!(cli.command, Command::Report | Command::Status { .. }) => {
            let health = keychain_health("", Some(e.message()));
            (Arc::new(Unavailable::new(&e)), health)
        }
        Err(e) => return Err(e),
    };
    let practice_mode = cli.practice || cli.emulator.is_some();
    let practice = practice(&cli, &paths).await?;
    // A distributor's file is checked here and a problem stops the command with what to fix
    // (status and report still answer, saying so).
    let distribution = match Distribution::load_checked(&paths.config_dir, &catalog) {
        Ok(d) => d,
        Err(e) if matches!(cli.command, Command::Report | Command::Status { .. }) => {
            eprintln!("{}", e.message());
            Distribution::default()
        }
        Err(e) => return Err(e),
    };
    // The bundled emulator plays a distributor (its apps and relay); an emulator of your own
    // (`--emulator`) is described by your distribution file.
    let practice_distribution = match &practice._emulator {
        Some(_) => Distribution::parse(patchbay_emulator::PRACTICE_DISTRIBUTION)?,
        None => distribution.clone(),
    };
    let connections = Connections::new(catalog, store, paths, practice.base.clone())?
        .with_distribution(distribution)
        .with_practice_distribution(practice_distribution);
    let id_for = |system: &str, env: &Option<String>| -> Result<String> {
        let p = connections.catalog().provider(system)?;
        let env = p.environment(env.as_deref().unwrap_or(&p.default_environment))?;
        Ok(Connections::connection_id(&p.id, &env.id, practice_mode))
    };
    let code = match &cli.command {
        Command::Providers => Ok(0),
        Command::Connect {
            system,
            environment,
            no_browser,
            timeout,
            redirect_page,
        } => {
            let p = connections.catalog().provider(system)?.clone();
            connect(
                &connections,
                &p,
                environment.clone(),
                practice_mode,
                &practice.apps,
                *no_browser,
                Duration::from_secs(*timeout),
                cli.catalog.clone(),
                redirect_page.clone(),
            )
            .await
        }
        Command::Status { json } => {
            let list = connections.list().await?;
            if *json {
                print_json(serde_json::to_value(&list))?;
            } else {
                print_status(&list);
            }
            Ok(0)
        }
        Command::Verify {
            system,
            environment,
        } => {
            let s = connections.check(&id_for(system, environment)?).await?;
            println!(
                "{} works: connected as {}.",
                s.system,
                s.record.identity.map(|i| i.to_string()).unwrap_or_default()
            );
            Ok(0)
        }
        Command::Token {
            system,
            environment,
        } => {
            let token = connections
                .access_token(&id_for(system, environment)?, false)
                .await?;
            // The one place a secret is printed, on purpose, for scripts: stdout only.
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", token.expose_secret());
            Ok(0)
        }
        Command::Refresh {
            system,
            environment,
        } => {
            let id = id_for(system, environment)?;
            connections.access_token(&id, true).await?;
            let s = connections.status(&id).await?;
            println!(
                "{} refreshed; the access token is valid until {}.",
                s.system,
                s.record
                    .expires_at
                    .map(timestamp)
                    .unwrap_or_else(|| "further notice".into())
            );
            Ok(0)
        }
        Command::Disconnect {
            system,
            environment,
            yes,
            forget_settings,
        } => {
            let id = id_for(system, environment)?;
            let s = connections.status(&id).await?;
            if !yes
                && !confirm(&format!(
                    "Disconnect {} ({})? Patchbay will revoke its access at {} where possible and delete the saved credentials from {}. You can connect again later. [y/N] ",
                    s.system, s.environment_label, s.system, s.stored_in
                ))
            {
                println!("Nothing was changed.");
                return Ok(0);
            }
            if !s.record.mappings.is_empty() {
                println!(
                    "{}",
                    if *forget_settings {
                        "The saved settings (mappings) are deleted too."
                    } else {
                        "The saved settings (mappings) are kept for when you connect again (--forget-settings deletes them)."
                    }
                );
            }
            match connections.disconnect(&id, !forget_settings).await? {
                Revocation::Revoked => println!(
                    "Disconnected {}: access revoked at {} and credentials deleted.",
                    s.system, s.system
                ),
                Revocation::NotOffered => println!(
                    "Disconnected {}: credentials deleted ({} offers no revocation; you can also remove the app inside {}).",
                    s.system, s.system, s.system
                ),
                Revocation::Failed(why) => println!(
                    "Disconnected {} locally: credentials deleted. Revoking at the vendor failed: {why}",
                    s.system
                ),
            }
            Ok(0)
        }
        Command::Preview {
            system,
            environment,
            export,
        } => preview(&connections, &id_for(system, environment)?, export.clone()).await,
        Command::Mappings {
            system,
            environment,
            set,
            json,
        } => {
            let id = id_for(system, environment)?;
            if *json && set.is_empty() {
                print_json(saved_mappings(&connections.status(&id).await?.record))?;
                return Ok(0);
            }
            let list = if set.is_empty() {
                patchbay_core::mappings::choices(&connections, &id).await?
            } else {
                let mut chosen = BTreeMap::new();
                for pair in set {
                    let (k, v) = pair.split_once('=').ok_or_else(|| {
                        Error::invalid_input(format!("\"{pair}\" should look like id=value."))
                    })?;
                    chosen.insert(k.to_string(), v.to_string());
                }
                let saved = patchbay_core::mappings::save(&connections, &id, &chosen).await?;
                if *json {
                    print_json(saved_mappings(&connections.status(&id).await?.record))?;
                    return Ok(0);
                }
                println!("Configuration saved.");
                saved
            };
            if list.is_empty() {
                println!("This system has no settings to choose.");
            }
            for m in &list {
                let name = m
                    .selected
                    .as_ref()
                    .and_then(|v| m.options.iter().find(|o| &o.value == v))
                    .map(|o| format!("{} ({})", o.name, o.value));
                println!(
                    "{} [{}]: {}{}",
                    m.label,
                    m.id,
                    name.unwrap_or_else(|| "none".into()),
                    if m.saved {
                        ""
                    } else {
                        "  (suggested, not saved yet)"
                    }
                );
            }
            Ok(0)
        }
        Command::Report => {
            print!(
                "{}",
                Report::gather(&connections, keychain_health)
                    .await
                    .to_text()
            );
            Ok(0)
        }
    };
    // A renewed sign-in the keychain refused is held in memory only: one more try before this
    // process ends, and a clear word if it still fails (it is lost with the process).
    let unsaved = connections.flush_unsaved().await;
    if !unsaved.is_empty() {
        eprintln!(
            "\nPatchbay renewed {} but {} would not save the renewed sign-in. Unlock the keychain and run the command again soon; if the vendor no longer accepts the old sign-in, connect again.",
            unsaved.join(", "),
            connections.location()
        );
        return code.map(|_| ErrorKind::Keychain.exit_code());
    }
    code
}

fn print_providers(catalog: &Catalog) {
    for p in catalog.providers() {
        let envs: Vec<&str> = p.environments.iter().map(|e| e.id.as_str()).collect();
        let how = p.auth.mechanism().describe();
        println!(
            "{:<20} {:<20} {:<30} environments: {}",
            p.id,
            p.name,
            how,
            envs.join(", ")
        );
    }
}

fn print_status(list: &[ConnectionStatus]) {
    if list.is_empty() {
        println!("No connections yet. Run `patchbay connect <system>` (see `patchbay providers`).");
        return;
    }
    let rows: Vec<[String; 6]> = list
        .iter()
        .map(|s| {
            let r = &s.record;
            [
                format!(
                    "{}{}",
                    s.system,
                    if r.practice { " (practice)" } else { "" }
                ),
                s.environment_label.clone(),
                s.state.words().to_string(),
                r.identity
                    .as_ref()
                    .map(|i| i.to_string())
                    .unwrap_or_default(),
                r.expires_at.map(timestamp).unwrap_or_else(|| "-".into()),
                r.verified_at.map(timestamp).unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    let header = [
        "SYSTEM",
        "ENVIRONMENT",
        "STATE",
        "CONNECTED AS",
        "TOKEN VALID UNTIL",
        "LAST VERIFIED",
    ];
    let widths: Vec<usize> = (0..6)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: [&str; 6]| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{:<w$}", printable(c)))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    println!("{}", line(header));
    for r in &rows {
        println!("{}", line([&r[0], &r[1], &r[2], &r[3], &r[4], &r[5]]));
    }
    for s in list {
        if let Some(why) = &s.record.needs_reconnect {
            println!("\n{}: {}", s.system, printable(why));
        }
    }
}

/// Lines from stdin, shared by the prompts and the "paste the address" fallback.
struct Input {
    interactive: bool,
}

impl Input {
    fn new() -> Input {
        Input {
            interactive: std::io::stdin().is_terminal(),
        }
    }

    fn line(&self) -> Option<String> {
        let mut s = String::new();
        // Stdin is buffered and locked internally, so prompts and the paste reader share it.
        match std::io::stdin().read_line(&mut s) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(s),
        }
    }

    fn ask(&self, label: &str, secret: bool) -> Option<String> {
        if self.interactive && secret {
            return rpassword::prompt_password(format!("{label} (hidden as you type or paste): "))
                .ok();
        }
        if self.interactive {
            eprint!("{label}: ");
            let _ = std::io::stderr().flush();
        }
        self.line()
    }
}

/// Print above the spinner; when stderr is not a terminal the spinner is hidden, so print plainly.
fn say(spinner: &ProgressBar, message: String) {
    if spinner.is_hidden() {
        eprintln!("{message}");
    } else {
        spinner.println(message);
    }
}

fn confirm(question: &str) -> bool {
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).is_ok()
        && matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

#[allow(clippy::too_many_arguments)]
async fn connect(
    connections: &Connections,
    p: &ProviderSpec,
    environment: Option<String>,
    practice: bool,
    practice_apps: &[patchbay_emulator::AppInfo],
    no_browser: bool,
    deadline: Duration,
    catalog_file: Option<PathBuf>,
    redirect_page: Option<String>,
) -> Result<i32> {
    let env = p
        .environment(environment.as_deref().unwrap_or(&p.default_environment))?
        .clone();
    eprintln!(
        "Connecting {}{}.",
        p.display_name(&env),
        if practice { " in practice mode" } else { "" }
    );
    let plan = connections.plan(&p.id, Some(&env.id), practice, redirect_page.as_deref())?;
    if plan.via == Via::NeedsPage {
        let advice = plan.advice.unwrap_or_default();
        eprintln!("\n{advice}\n(Give your page with --redirect-page https://…)");
        return Ok(ErrorKind::RedirectMismatch.exit_code());
    }
    match (&plan.redirect_uri, plan.keys_supplied) {
        (_, true) => eprintln!(
            "\nThe {} app of whoever gave you Patchbay is used: no keys to paste.\n",
            p.name
        ),
        (Some(uri), false) => eprintln!(
            "\nCallback URL to register at {} (copy it exactly):\n  {uri}\n",
            p.name
        ),
        (None, false) => {}
    }
    if let Some(advice) = &plan.advice {
        eprintln!("{advice}\n");
    }
    if let Some(app) = practice_apps
        .iter()
        .filter(|_| !plan.keys_supplied)
        .find(|a| a.provider == p.id && a.environment == env.id)
    {
        eprintln!(
            "Practice mode: use Client ID {} and secret {}\n",
            app.client_id, app.client_secret
        );
    }
    let input = Arc::new(Input::new());
    let mut fields = BTreeMap::new();
    for f in p.fields.iter().filter(|_| !plan.keys_supplied) {
        let mut tries = 0;
        let value = loop {
            tries += 1;
            let Some(raw) = input.ask(&f.label, f.secret) else {
                return Err(Error::invalid_input(format!("No {} was given.", f.label)));
            };
            let (cleaned, check) = f.check(&raw);
            if !check.removed.is_empty()
                && (input.interactive || !check.removed.ends_with("a line break"))
            {
                eprintln!("  {}: {}", f.label, check.removed);
            }
            match check.problem {
                None => break cleaned.value,
                Some(problem) if input.interactive && tries < 3 => eprintln!("  {problem}"),
                Some(problem) => return Err(Error::invalid_input(problem)),
            }
        };
        fields.insert(f.id.clone(), SecretString::from(value));
    }
    let catalog = connections.catalog().clone();
    let checklist = Arc::new(Mutex::new(Checklist::for_plan(&catalog, p, &plan)));
    let spinner = ProgressBar::new_spinner();
    spinner.set_style(
        ProgressStyle::with_template("{spinner} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let started: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
    let (paste_tx, paste_rx) = mpsc::channel::<String>(4);
    let events = {
        let checklist = checklist.clone();
        let spinner = spinner.clone();
        let started = started.clone();
        let input = input.clone();
        move |e: Event| {
            if let Ok(mut c) = checklist.lock() {
                c.observe(&e);
            }
            match &e {
                Event::Authorize { url, .. } => {
                    say(
                        &spinner,
                        format!(
                            "{}Open this link in your browser if it does not open by itself:\n  {url}\n\nIn the browser, click {}. If the browser ends on an address starting with {} but Patchbay does not go on, paste that address here and press Enter.",
                            if no_browser {
                                ""
                            } else {
                                "Opening your browser…\n"
                            },
                            p.auth
                                .browser()
                                .map_or("Allow", |o| o.consent_button.as_str()),
                            plan.redirect_uri.as_deref().unwrap_or_default()
                        ),
                    );
                    if let Ok(mut s) = started.lock() {
                        *s = Some(Instant::now());
                    }
                    // Read pasted addresses while waiting (a plain thread: stdin is blocking).
                    let input = input.clone();
                    let tx = paste_tx.clone();
                    std::thread::spawn(move || {
                        while let Some(line) = input.line() {
                            if line.trim().is_empty() {
                                continue;
                            }
                            if tx.blocking_send(line).is_err() {
                                break;
                            }
                        }
                    });
                    spinner.enable_steady_tick(Duration::from_millis(120));
                }
                Event::Failed {
                    kind: ErrorKind::BrowserLaunch,
                    message,
                } => say(&spinner, format!("! {message}")),
                Event::PasteRejected { message } => say(&spinner, format!("! {message}")),
                Event::Ok { signal } => tracing::debug!(?signal, "step ok"),
                _ => {}
            }
        }
    };
    let ticker = {
        let spinner = spinner.clone();
        let started = started.clone();
        let name = p.name.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(500)).await;
                let Some(t0) = started.lock().ok().and_then(|s| *s) else {
                    continue;
                };
                let left = deadline.saturating_sub(t0.elapsed()).as_secs();
                spinner.set_message(format!(
                    "Waiting for you to click Allow in {name}… {}:{:02} left (Ctrl-C to cancel)",
                    left / 60,
                    left % 60
                ));
            }
        })
    };
    let cancel = CancellationToken::new();
    {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                cancel.cancel();
            }
        });
    }
    let browser: &dyn Browser = if no_browser {
        &PrintLink
    } else {
        &SystemBrowser
    };
    let request = ConnectRequest {
        provider: p.id.clone(),
        environment: Some(env.id.clone()),
        practice,
        fields,
        catalog_file,
        redirect_page,
    };
    let hooks = ConnectHooks {
        browser,
        events: &events,
        cancel,
        pasted: p.auth.browser().is_some().then_some(paste_rx),
        deadline,
    };
    let result = connections.connect(request, hooks).await;
    ticker.abort();
    spinner.finish_and_clear();
    match result {
        Ok(s) => {
            println!(
                "Connected {} as {}.\nThe credentials are kept in {}. To reconnect later, run `patchbay connect {}` again; `patchbay status` shows every connection.",
                s.record.label,
                s.record.identity.map(|i| i.to_string()).unwrap_or_default(),
                s.stored_in,
                p.id
            );
            Ok(0)
        }
        Err(e) => {
            eprintln!("\n{}", e.message());
            if let Ok(c) = checklist.lock() {
                for item in c.failed() {
                    eprintln!(
                        "\n✗ {}\n  {}",
                        item.title,
                        item.fix.as_deref().unwrap_or("")
                    );
                    if let Some(s) = &item.support {
                        eprintln!("  {s}");
                    }
                }
            }
            if let Some(d) = e.provider_detail() {
                eprintln!("(vendor said: {})", printable(d));
            }
            Ok(e.kind().exit_code())
        }
    }
}

async fn preview(connections: &Connections, id: &str, export: Option<PathBuf>) -> Result<i32> {
    use patchbay_core::preview::{PreviewEvent, PreviewOptions};
    let bars = indicatif::MultiProgress::new();
    let style = ProgressStyle::with_template("{prefix:<28} [{bar:30}] {pos:>7}/{len:<7} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    let open: Arc<Mutex<BTreeMap<String, ProgressBar>>> = Arc::default();
    let cancel = CancellationToken::new();
    {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                cancel.cancel();
            }
        });
    }
    let events = {
        let open = open.clone();
        let bars = bars.clone();
        move |e: PreviewEvent| {
            let Ok(mut open) = open.lock() else { return };
            match e {
                PreviewEvent::Started { list, label, total } => {
                    let bar = bars.add(ProgressBar::new(total.unwrap_or(0)));
                    bar.set_style(style.clone());
                    bar.set_prefix(label.clone());
                    if bars.is_hidden() {
                        eprintln!("{label}: fetching…");
                    }
                    open.insert(list, bar);
                }
                PreviewEvent::Progress {
                    list,
                    fetched,
                    total,
                    pages,
                    eta_secs,
                } => {
                    if let Some(bar) = open.get(&list) {
                        // Without a total (most vendors do not give one) the bar grows with the count.
                        bar.set_length(total.unwrap_or(fetched).max(fetched));
                        bar.set_position(fetched);
                        let eta = eta_secs
                            .map(|s| format!(", about {s} s left"))
                            .unwrap_or_default();
                        bar.set_message(format!(
                            "{pages} page{}{eta}",
                            if pages == 1 { "" } else { "s" }
                        ));
                    }
                }
                PreviewEvent::Waiting { list, message, .. } => match open.get(&list) {
                    Some(bar) if !bars.is_hidden() => bar.set_message(message),
                    _ => eprintln!("{message}"),
                },
                PreviewEvent::Finished { list, count } => {
                    if let Some(bar) = open.get(&list) {
                        bar.set_length(count);
                        bar.finish_with_message("done");
                    }
                }
            }
        }
    };
    let opts = PreviewOptions {
        export_dir: export,
        cancel,
        ..Default::default()
    };
    let results = patchbay_core::preview::run(connections, id, &opts, &events).await?;
    println!();
    for r in &results {
        println!("{}: {}", r.label, r.count);
    }
    for r in &results {
        if r.sample.is_empty() {
            continue;
        }
        println!("\n{} (first {} of {})", r.label, r.sample.len(), r.count);
        let widths: Vec<usize> = (0..r.columns.len())
            .map(|i| {
                r.sample
                    .iter()
                    .map(|row| row[i].chars().count().min(32))
                    .chain([r.columns[i].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: &[String]| {
            cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{:<w$}", printable(c).chars().take(32).collect::<String>()))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
        };
        println!("{}", line(&r.columns));
        for row in &r.sample {
            println!("{}", line(row));
        }
        if let Some(path) = &r.csv {
            println!("saved: {}", path.display());
        }
    }
    Ok(0)
}
