//! `patchbay connect`: the wizard's steps in a terminal. The Callback URL and advice first, the
//! keys asked for (hidden, cleaned as pasted), the browser opened, then a countdown while waiting,
//! with "paste the address your browser ended on" read from the same terminal.

use indicatif::{ProgressBar, ProgressStyle};
use patchbay_core::app::views::ConnectUpdate;
use patchbay_core::app::{App, ConnectFailure, ConnectOrder};
use patchbay_core::checklist::Event;
use patchbay_core::redirect::Via;
use patchbay_core::sanitize::printable;
use patchbay_core::{Browser, Error, ErrorKind, Result};
use secrecy::SecretString;
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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

/// `patchbay connect`: the order as asked (its keys are asked for here), and whether to leave
/// the browser closed and print the link instead.
pub async fn run(app: &App, mut order: ConnectOrder, no_browser: bool) -> Result<i32> {
    let p = app.catalog().provider(&order.provider)?.clone();
    let env = p
        .environment(
            order
                .environment
                .as_deref()
                .unwrap_or(&p.default_environment),
        )?
        .clone();
    let practice = app.is_practice();
    eprintln!(
        "Connecting {}{}.",
        p.display_name(&env),
        if practice { " in practice mode" } else { "" }
    );
    let plan = app
        .plan(&p.id, Some(&env.id), order.redirect_page.as_deref())
        .await?;
    if plan.via == Via::NeedsPage {
        let advice = plan.advice.clone().unwrap_or_default();
        eprintln!("\n{advice}\n(Give your page with --redirect-page https://…)");
        return Ok(ErrorKind::RedirectMismatch.exit_code());
    }
    explain(&p.name, &plan);
    if let Some(keys) = app.practice_keys(&p.id, &env.id, &plan).await {
        eprintln!(
            "Practice mode: use Client ID {} and secret {}\n",
            keys.client_id, keys.client_secret
        );
    }
    let input = Arc::new(Input::new());
    if !plan.keys_supplied {
        order.fields = ask_keys(&p.fields, &input)?;
    }
    let spinner = ProgressBar::new_spinner();
    spinner.set_style(
        ProgressStyle::with_template("{spinner} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let started: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
    let consent = p
        .auth
        .browser()
        .map_or("Allow", |o| o.consent_button.as_str());
    let on_update = |update: ConnectUpdate| match &update.event {
        Event::Authorize { url, .. } => {
            let opening = if no_browser {
                ""
            } else {
                "Opening your browser…\n"
            };
            say(
                &spinner,
                format!(
                    "{opening}Open this link in your browser if it does not open by itself:\n  {url}\n\nIn the browser, click {consent}. If the browser ends on an address starting with {} but Patchbay does not go on, paste that address here and press Enter.",
                    plan.redirect_uri.as_deref().unwrap_or_default()
                ),
            );
            if let Ok(mut s) = started.lock() {
                *s = Some(Instant::now());
            }
            // Read pasted addresses while waiting (a plain thread: stdin is blocking).
            if let Ok(tx) = app.paste_sender() {
                let input = input.clone();
                std::thread::spawn(move || {
                    while let Some(line) = input.line() {
                        if !line.trim().is_empty() && tx.blocking_send(line).is_err() {
                            break;
                        }
                    }
                });
            }
            spinner.enable_steady_tick(Duration::from_millis(120));
        }
        Event::Failed {
            kind: ErrorKind::BrowserLaunch,
            message,
        }
        | Event::PasteRejected { message } => say(&spinner, format!("! {message}")),
        Event::Ok { signal } => tracing::debug!(?signal, "step ok"),
        _ => {}
    };
    let ticker = countdown(
        spinner.clone(),
        started.clone(),
        p.name.clone(),
        order.deadline,
    );
    let browser: &dyn Browser = if no_browser {
        &PrintLink
    } else {
        &SystemBrowser
    };
    order.environment = Some(env.id);
    // Ctrl-C: the connect stops itself (cancelled, the port released) and says so.
    let connect = app.connect(order, browser, &on_update);
    let result = crate::stoppable(connect, || app.cancel_connect()).await;
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
        Err(f) => Ok(failed(&f)),
    }
}

/// Where the vendor's answer will come back, before any key is asked for.
fn explain(system: &str, plan: &patchbay_core::redirect::RedirectPlan) {
    match (&plan.redirect_uri, plan.keys_supplied) {
        (_, true) => eprintln!(
            "\nThe {system} app of whoever gave you Patchbay is used: no keys to paste.\n"
        ),
        (Some(uri), false) => {
            eprintln!("\nCallback URL to register at {system} (copy it exactly):\n  {uri}\n")
        }
        (None, false) => {}
    }
    if let Some(advice) = &plan.advice {
        eprintln!("{advice}\n");
    }
}

/// Each key, cleaned as pasted; a wrong format is said and asked again (three tries at a
/// terminal, none from a pipe).
fn ask_keys(
    fields: &[patchbay_core::catalog::FieldSpec],
    input: &Input,
) -> Result<BTreeMap<String, SecretString>> {
    let mut keys = BTreeMap::new();
    for f in fields {
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
        keys.insert(f.id.clone(), SecretString::from(value));
    }
    Ok(keys)
}

/// The problem, each failed check with its fix, and the vendor's words for support; the exit
/// code.
fn failed(f: &ConnectFailure) -> i32 {
    eprintln!("\n{}", f.error.message());
    for (item, problem) in f
        .failed
        .iter()
        .filter_map(|i| Some((i, i.problem.as_ref()?)))
    {
        eprintln!("\n✗ {}\n  {}", item.title, problem.fix);
        if let Some(s) = &problem.support {
            eprintln!("  {s}");
        }
    }
    if let Some(d) = f.error.provider_detail() {
        eprintln!("(vendor said: {})", printable(d));
    }
    f.error.kind().exit_code()
}

/// "Waiting for you to click Allow… 4:59 left", updated twice a second once the browser step
/// has started.
fn countdown(
    spinner: ProgressBar,
    started: Arc<Mutex<Option<Instant>>>,
    name: String,
    deadline: Duration,
) -> tokio::task::JoinHandle<()> {
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
}
