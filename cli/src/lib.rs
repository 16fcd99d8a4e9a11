//! The `patchbay` command line: everything the wizard does, for admins who script and for
//! support people helping remotely. Each subcommand is a few lines over the core's [`App`] (the
//! same one the window uses); the options and subcommands (`args`), `connect` (the interactive
//! steps) and the tables have their own modules.

mod args;
mod connect;
mod preview;
mod table;
mod user_path;

use args::{Cli, Command, OneOrAll};
use clap::Parser;
use patchbay_core::app::{App, ConnectOrder, Export, Options, PracticeMode};
use patchbay_core::catalog::Catalog;
use patchbay_core::connections::Revocation;
use patchbay_core::history::Trigger;
use patchbay_core::report::timestamp;
use patchbay_core::sanitize::printable;
use patchbay_core::settings::Paths;
use patchbay_core::upkeep::{self, Sweep};
use patchbay_core::{Error, Result};
use secrecy::ExposeSecret;
use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

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
