//! The `patchbay` command line: everything the wizard does, for admins who script and for
//! support people helping remotely. Each subcommand is a few lines over the core's [`App`] (the
//! same one the window uses); `connect` (the interactive steps) and the tables have their own
//! modules.

mod connect;
mod preview;
mod table;
mod user_path;

use clap::{Parser, Subcommand};
use patchbay_core::app::{App, ConnectOrder, Export, Options, PracticeMode};
use patchbay_core::catalog::Catalog;
use patchbay_core::connections::{DEFAULT_DEADLINE, Revocation};
use patchbay_core::history::Trigger;
use patchbay_core::report::timestamp;
use patchbay_core::sanitize::printable;
use patchbay_core::settings::Paths;
use patchbay_core::upkeep::{self, Sweep};
use patchbay_core::{Error, Result};
use secrecy::ExposeSecret;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

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

/// One connection, or `--all` and what goes with it (`verify`/`check` and `refresh`).
#[derive(Debug, Clone, clap::Args)]
struct OneOrAll {
    /// The system, e.g. quickbooks-time, aspire, quickbooks-online.
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    system: Option<String>,
    /// The environment (production, sandbox) where the system has more than one.
    #[arg(long = "env", value_name = "ENV")]
    environment: Option<String>,
    /// Every connection, one after the other, with a summary.
    #[arg(long)]
    all: bool,
    /// With --all: the summary as JSON, for scripts.
    #[arg(long, requires = "all")]
    json: bool,
    /// With --all: run as the daily job (recorded as such for Home and the report).
    #[arg(long, requires = "all", hide = true)]
    scheduled: bool,
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
    /// Check a connection now: refresh if needed and make a real API call (`--all`: every
    /// connection, with a summary; the exit code says whether one needs you).
    #[command(alias = "check")]
    Verify {
        #[command(flatten)]
        target: OneOrAll,
    },
    /// Print a valid access token (refreshed if needed), for scripts.
    Token {
        system: String,
        #[arg(long = "env", value_name = "ENV")]
        environment: Option<String>,
    },
    /// Refresh the access token now (`--all`: every connection whose sign-in is due, then a
    /// real API call for each, with a summary; what the daily job runs).
    Refresh {
        #[command(flatten)]
        target: OneOrAll,
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
    /// "Keep my connections fresh": have this computer run `patchbay refresh --all` once a day
    /// (on), stop it (off), or show it and what it last found (status).
    KeepFresh {
        #[arg(value_parser = ["on", "off", "status"], default_value = "status")]
        action: String,
    },
    /// For the Windows installer: add the folder patchbay is installed in to your PATH, or
    /// take it off (uninstall).
    #[command(hide = true)]
    Path {
        #[arg(value_parser = ["add", "remove"])]
        action: String,
        dir: String,
    },
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

/// Pretty JSON on stdout, for scripts (`--json`).
/// A desktop notification (best effort: the summary and Home say the same).
fn notify(n: &patchbay_core::app::Notice) {
    if let Err(e) = notify_rust::Notification::new()
        .appname("Patchbay")
        .summary(&n.title)
        .body(&n.body)
        .show()
    {
        tracing::warn!(error = %e, "could not show a notification");
    }
}

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

/// Run `work`; at Ctrl-C, `stop` asks it to end (it then says it was cancelled) and it is still
/// awaited, so whatever it holds (a port, a lock) is released the normal way.
async fn stoppable<T>(work: impl std::future::Future<Output = T>, stop: impl FnOnce()) -> T {
    tokio::pin!(work);
    tokio::select! {
        r = &mut work => r,
        _ = tokio::signal::ctrl_c() => {
            stop();
            work.await
        }
    }
}

fn confirm(question: &str) -> bool {
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).is_ok()
        && matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

async fn run(cli: Cli) -> Result<i32> {
    if let Command::Path { action, dir } = &cli.command {
        user_path::run(action == "add", dir)?;
        return Ok(0);
    }
    let paths = Paths::from_env()?;
    let mut catalog = patchbay_core::app::catalog_for(&paths, cli.catalog.clone())?;
    if let Some(port) = cli.callback_port {
        catalog.set_callback_port(port);
    }
    if let Command::Providers = cli.command {
        let systems: Vec<_> = catalog
            .providers()
            .iter()
            .map(patchbay_core::app::views::System::of)
            .collect();
        print!("{}", table::providers(&systems));
        return Ok(0);
    }
    // `status` and `report` read no secret and are most wanted when the keychain or the
    // distribution file fails: they say so instead of stopping.
    let diagnosing = matches!(cli.command, Command::Report | Command::Status { .. });
    let app = App::start(Options {
        paths,
        catalog,
        keychain_service: cli.keychain_service.clone(),
        without_keychain: diagnosing,
        without_distribution: diagnosing,
        practice: match (&cli.emulator, cli.practice) {
            (Some(url), _) => PracticeMode::At(url.clone()),
            (None, true) => PracticeMode::Bundled,
            (None, false) => PracticeMode::Off,
        },
        remember_practice: false,
    })
    .await?;
    if let Some(problem) = app.distribution_problem() {
        eprintln!("{problem}");
    }
    let code = command(&app, &cli).await;
    // A renewed sign-in the keychain refused is held in memory only: one more try before this
    // process ends, and a clear word if it still fails (it is lost with the process).
    if let Some(message) = app.finish().await {
        eprintln!("\n{message}");
        return code.map(|_| patchbay_core::ErrorKind::Keychain.exit_code());
    }
    code
}

async fn command(app: &App, cli: &Cli) -> Result<i32> {
    let connections = app.connections().await;
    let id_for = |system: &str, env: &Option<String>| app.connection_id(system, env.as_deref());
    let one = |t: &OneOrAll| match &t.system {
        Some(system) => id_for(system, &t.environment),
        None => Err(Error::invalid_input(
            "Name a system (see `patchbay providers`), or give --all.",
        )),
    };
    match &cli.command {
        Command::Providers | Command::Path { .. } => Ok(0),
        Command::Connect {
            system,
            environment,
            no_browser,
            timeout,
            redirect_page,
        } => {
            let order = ConnectOrder {
                provider: system.clone(),
                environment: environment.clone(),
                fields: BTreeMap::new(),
                redirect_page: redirect_page.clone(),
                catalog_file: cli.catalog.clone(),
                deadline: Duration::from_secs(*timeout),
            };
            connect::run(app, order, *no_browser).await
        }
        Command::Status { json } => {
            let list = connections.list().await?;
            if *json {
                print_json(serde_json::to_value(&list))?;
            } else {
                print!("{}", table::status(&list));
            }
            Ok(0)
        }
        Command::Verify { target } | Command::Refresh { target } if target.all => {
            let what = match &cli.command {
                Command::Refresh { .. } => Sweep::Refresh,
                _ => Sweep::Check,
            };
            let trigger = if target.scheduled {
                Trigger::Scheduled
            } else {
                Trigger::Command
            };
            let summary = upkeep::sweep(&connections, what, trigger).await?;
            if target.scheduled {
                for n in app.take_notices() {
                    notify(&n);
                }
            }
            if target.json {
                print_json(serde_json::to_value(&summary))?;
            } else {
                print!("{}", table::sweep(&summary));
            }
            Ok(summary.exit_code())
        }
        Command::Verify { target } => {
            let id = one(target)?;
            let s = upkeep::check_one(&connections, &id, Trigger::Command).await?;
            let who = s.record.identity.map(|i| i.to_string()).unwrap_or_default();
            println!("{} works: connected as {who}.", s.system);
            Ok(0)
        }
        Command::Token {
            system,
            environment,
        } => {
            let id = id_for(system, environment)?;
            let token = connections.access_token(&id, false).await?;
            // The one place a secret is printed, on purpose, for scripts: stdout only.
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", token.expose_secret());
            Ok(0)
        }
        Command::Refresh { target } => {
            let id = one(target)?;
            connections.access_token(&id, true).await?;
            let s = connections.status(&id).await?;
            let until = s.record.expires_at.map(timestamp);
            println!(
                "{} refreshed; the access token is valid until {}.",
                s.system,
                until.unwrap_or_else(|| "further notice".into())
            );
            Ok(0)
        }
        Command::KeepFresh { action } => {
            let k = match action.as_str() {
                "on" => app.set_keep_fresh(true).await?,
                "off" => app.set_keep_fresh(false).await?,
                _ => app.keep_fresh(),
            };
            print!("{}", table::keep_fresh(&k));
            Ok(0)
        }
        Command::Disconnect {
            system,
            environment,
            yes,
            forget_settings,
        } => {
            let id = id_for(system, environment)?;
            disconnect(app, &id, *yes, *forget_settings).await
        }
        Command::Preview {
            system,
            environment,
            export,
        } => {
            let id = id_for(system, environment)?;
            let export = export.clone().map_or(Export::None, Export::To);
            let bars = preview::Bars::new();
            let show = |e| bars.show(e);
            let run = app.preview(&id, export, &show);
            let results = stoppable(run, || app.cancel_preview()).await?;
            print!("{}", preview::summary(&results));
            Ok(0)
        }
        Command::Mappings {
            system,
            environment,
            set,
            json,
        } => mappings(app, &id_for(system, environment)?, set, *json).await,
        Command::Report => {
            print!("{}", app.report_text().await);
            Ok(0)
        }
    }
}

async fn disconnect(app: &App, id: &str, yes: bool, forget_settings: bool) -> Result<i32> {
    let connections = app.connections().await;
    let s = connections.status(id).await?;
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
            if forget_settings {
                "The saved settings (mappings) are deleted too."
            } else {
                "The saved settings (mappings) are kept for when you connect again (--forget-settings deletes them)."
            }
        );
    }
    let name = &s.system;
    match app.disconnect(id, !forget_settings).await? {
        Revocation::Revoked => {
            println!("Disconnected {name}: access revoked at {name} and credentials deleted.")
        }
        Revocation::NotOffered => println!(
            "Disconnected {name}: credentials deleted ({name} offers no revocation; you can also remove the app inside {name})."
        ),
        Revocation::Failed(why) => println!(
            "Disconnected {name} locally: credentials deleted. Revoking at the vendor failed: {why}"
        ),
    }
    Ok(0)
}

async fn mappings(app: &App, id: &str, set: &[String], json: bool) -> Result<i32> {
    let connections = app.connections().await;
    if json && set.is_empty() {
        print_json(saved_mappings(&connections.status(id).await?.record))?;
        return Ok(0);
    }
    let list = if set.is_empty() {
        patchbay_core::mappings::choices(&connections, id).await?
    } else {
        let mut chosen = BTreeMap::new();
        for pair in set {
            let (k, v) = pair.split_once('=').ok_or_else(|| {
                Error::invalid_input(format!("\"{pair}\" should look like id=value."))
            })?;
            chosen.insert(k.to_string(), v.to_string());
        }
        let saved = patchbay_core::mappings::save(&connections, id, &chosen).await?;
        if json {
            print_json(saved_mappings(&connections.status(id).await?.record))?;
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
        let suggested = if m.saved {
            ""
        } else {
            "  (suggested, not saved yet)"
        };
        println!(
            "{} [{}]: {}{suggested}",
            m.label,
            m.id,
            name.unwrap_or_else(|| "none".into())
        );
    }
    Ok(0)
}
