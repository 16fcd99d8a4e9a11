//! Plain-text tables for the terminal: `status`, `providers` and the preview's sample rows.

use patchbay_core::app::KeepFresh;
use patchbay_core::app::views::System;
use patchbay_core::connections::ConnectionStatus;
use patchbay_core::report::timestamp;
use patchbay_core::sanitize::printable;
use patchbay_core::upkeep::Summary;

/// Columns padded to their widest cell (at most `max` characters a cell), two spaces apart; what
/// the vendor sent is made printable first.
pub fn render(header: &[String], rows: &[Vec<String>], max: usize) -> String {
    let cell = |c: &str| printable(c).chars().take(max).collect::<String>();
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .chain([&header[i]])
                .map(|c| cell(c).chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{:<w$}", cell(c)))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    std::iter::once(line(header))
        .chain(rows.iter().map(|r| line(r)))
        .map(|l| l + "\n")
        .collect()
}

/// `patchbay providers`.
pub fn providers(systems: &[System]) -> String {
    systems
        .iter()
        .map(|s| {
            let envs: Vec<&str> = s.environments.iter().map(|e| e.id.as_str()).collect();
            format!(
                "{:<20} {:<20} {:<30} environments: {}\n",
                s.id,
                s.name,
                s.how,
                envs.join(", ")
            )
        })
        .collect()
}

/// `patchbay status`: one row a connection, then why any needs reconnecting.
pub fn status(list: &[ConnectionStatus]) -> String {
    if list.is_empty() {
        return "No connections yet. Run `patchbay connect <system>` (see `patchbay providers`).\n"
            .into();
    }
    let header = [
        "SYSTEM",
        "ENVIRONMENT",
        "STATE",
        "CONNECTED AS",
        "TOKEN VALID UNTIL",
        "LAST VERIFIED",
    ]
    .map(String::from);
    let when = |t: Option<i64>| t.map(timestamp).unwrap_or_else(|| "-".into());
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|s| {
            let r = &s.record;
            let practice = if r.practice { " (practice)" } else { "" };
            vec![
                format!("{}{practice}", s.system),
                s.environment_label.clone(),
                s.state.words().to_string(),
                r.identity
                    .as_ref()
                    .map(|i| i.to_string())
                    .unwrap_or_default(),
                when(r.expires_at),
                when(r.verified_at),
            ]
        })
        .collect();
    let mut out = render(&header, &rows, usize::MAX);
    for s in list {
        if let Some(why) = &s.record.needs_reconnect {
            out.push_str(&format!("\n{}: {}\n", s.system, printable(why)));
        }
    }
    out
}

/// `patchbay keep-fresh`: on or off, and what the daily job last found.
pub fn keep_fresh(k: &KeepFresh) -> String {
    let mut out = if k.on {
        format!(
            "Keep my connections fresh: on ({} runs `patchbay refresh --all` once a day).\n",
            k.scheduler
        )
    } else {
        "Keep my connections fresh: off (`patchbay keep-fresh on` to switch it on).\n".to_string()
    };
    let Some(run) = &k.last_run else {
        return out + "It has not run yet.\n";
    };
    out += &format!("Last run {}: {}.\n", timestamp(run.at), run.found);
    for n in &run.needs_you {
        out += &format!("  {}\n", printable(n));
    }
    out
}

/// `patchbay refresh --all` / `check --all`: one row a connection, then what needs doing.
pub fn sweep(summary: &Summary) -> String {
    if summary.outcomes.is_empty() {
        return "No connections yet: nothing to check.\n".into();
    }
    let header = ["SYSTEM", "ENVIRONMENT", "RENEWED", "RESULT"].map(String::from);
    let rows: Vec<Vec<String>> = summary
        .outcomes
        .iter()
        .map(|o| {
            let result = match (o.ok, o.needs_admin) {
                (true, _) => "works",
                (false, true) => "needs you",
                (false, false) => "try again later",
            };
            vec![
                o.system.clone(),
                o.environment.clone(),
                if o.refreshed { "yes" } else { "no" }.into(),
                result.into(),
            ]
        })
        .collect();
    let mut out = render(&header, &rows, usize::MAX);
    for o in summary.outcomes.iter().filter(|o| !o.ok) {
        out += &format!(
            "\n{} ({}): {}\n",
            printable(&o.system),
            printable(&o.environment),
            printable(o.message.as_deref().unwrap_or(""))
        );
    }
    let (ok, all) = (
        summary.outcomes.iter().filter(|o| o.ok).count(),
        summary.outcomes.len(),
    );
    out += &if summary.needs_admin() {
        format!("\n{ok} of {all} connections work; the ones above need you.\n")
    } else if ok < all {
        format!("\n{ok} of {all} connections work; the others will be tried again.\n")
    } else if all == 1 {
        "\nThe connection works.\n".to_string()
    } else {
        format!("\nAll {all} connections work.\n")
    };
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use patchbay_test_support::assert_says;

    #[test]
    fn columns_line_up_and_long_or_hostile_cells_are_cut() {
        let header = ["ID", "NAME"].map(String::from);
        let rows = vec![
            vec!["1".to_string(), "Ann\u{1b}[31m Lee".to_string()],
            vec!["12345".to_string(), "x".repeat(50)],
        ];
        let text = render(&header, &rows, 10);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "ID     NAME");
        assert!(!text.contains('\u{1b}'), "no terminal escapes: {text:?}");
        assert_eq!(lines[2], format!("12345  {}", "x".repeat(10)));
        assert_eq!(lines.len(), 3);
    }

    #[test]
    fn no_connections_says_how_to_make_one() {
        assert!(status(&[]).contains("patchbay connect <system>"));
    }

    #[test]
    fn providers_name_each_system_and_how_it_signs_in() {
        let catalog = patchbay_core::Catalog::builtin().unwrap();
        let systems: Vec<System> = catalog.providers().iter().map(System::of).collect();
        let text = providers(&systems);
        assert!(text.contains("aspire") && text.contains("API key (Client ID + secret)"));
        assert!(text.contains("environments: production, sandbox"));
        assert_eq!(text.lines().count(), systems.len());
    }

    #[test]
    fn a_sweep_says_what_works_and_what_needs_the_admin() {
        use patchbay_core::ErrorKind;
        use patchbay_core::upkeep::{Outcome, Summary};
        let outcome = |system: &str, kind: Option<ErrorKind>| Outcome {
            connection: system.into(),
            system: system.into(),
            environment: "Production".into(),
            refreshed: kind.is_none(),
            ok: kind.is_none(),
            kind,
            message: kind.map(|k| format!("{k}\u{1b}[2J happened.")),
            needs_admin: kind.is_some_and(patchbay_core::upkeep::needs_admin),
        };
        let all_ok = Summary {
            at: 0,
            outcomes: vec![outcome("Aspire", None)],
        };
        assert!(sweep(&all_ok).ends_with("The connection works.\n"));
        let mixed = Summary {
            at: 0,
            outcomes: vec![
                outcome("Aspire", None),
                outcome("QuickBooks Time", Some(ErrorKind::ApiNotEnabled)),
                outcome("QuickBooks Online", Some(ErrorKind::ProviderDown)),
            ],
        };
        let text = sweep(&mixed);
        assert_says(
            &text,
            &[
                "needs you",
                "try again later",
                "QuickBooks Time (Production): api_not_enabled",
            ],
        );
        assert!(!text.contains('\u{1b}'), "vendor words printed raw");
        assert!(text.ends_with("1 of 3 connections work; the ones above need you.\n"));
        assert_eq!(mixed.exit_code(), 8);
        let passing = Summary {
            at: 0,
            outcomes: vec![outcome("QuickBooks Online", Some(ErrorKind::RateLimited))],
        };
        assert_eq!(passing.exit_code(), 6);
        assert!(sweep(&passing).contains("will be tried again"));
    }

    #[test]
    fn keep_fresh_says_whether_it_is_on_and_what_the_last_run_found() {
        use patchbay_core::app::LastRun;
        let mut k = KeepFresh {
            on: false,
            available: true,
            scheduler: "Task Scheduler".into(),
            last_run: None,
        };
        let off = keep_fresh(&k);
        assert!(
            off.contains("off (`patchbay keep-fresh on`") && off.ends_with("It has not run yet.\n")
        );
        k.on = true;
        k.last_run = Some(LastRun {
            at: 0,
            found: "1 of 2 connections work".into(),
            needs_you: vec!["Aspire (Sandbox): connect it again\u{1b}[2J".into()],
        });
        let on = keep_fresh(&k);
        assert_says(
            &on,
            &[
                "on (Task Scheduler runs",
                ": 1 of 2 connections work.\n  Aspire (Sandbox): connect it again",
            ],
        );
        assert!(!on.contains('\u{1b}'), "needs-you lines printed raw: {on}");
    }
}
