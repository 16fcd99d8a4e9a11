//! The command line's words: its options and subcommands as clap reads them (the help text
//! admins see), kept apart from what each subcommand does (`lib.rs`).

use clap::{Parser, Subcommand};
use patchbay_core::connections::DEFAULT_DEADLINE;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "patchbay",
    version,
    about = "Connect QuickBooks Time, Aspire and QuickBooks Online, and keep the connections healthy."
)]
pub(crate) struct Cli {
    /// Use the bundled practice emulators instead of the real vendors (no account needed).
    #[arg(long, global = true)]
    pub(crate) practice: bool,
    /// Use an already running emulator at this address (implies --practice).
    #[arg(long, global = true, env = "PATCHBAY_EMULATOR_URL", value_name = "URL")]
    pub(crate) emulator: Option<url::Url>,
    /// Also read systems from this catalog file (see the README for the format).
    #[arg(long, global = true, env = "PATCHBAY_CATALOG", value_name = "FILE")]
    pub(crate) catalog: Option<PathBuf>,
    /// Listen for the vendor's answer on this port instead of the catalog's (register the
    /// Callback URL with this port at the vendor).
    #[arg(
        long,
        global = true,
        env = "PATCHBAY_CALLBACK_PORT",
        value_name = "PORT"
    )]
    pub(crate) callback_port: Option<u16>,
    /// The keychain service name entries are stored under.
    #[arg(long, global = true, env = "PATCHBAY_KEYCHAIN_SERVICE", default_value = patchbay_core::KEYCHAIN_SERVICE, hide = true)]
    pub(crate) keychain_service: String,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// One connection, or `--all` and what goes with it (`verify`/`check` and `refresh`).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct OneOrAll {
    /// The system, e.g. quickbooks-time, aspire, quickbooks-online.
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub(crate) system: Option<String>,
    /// The environment (production, sandbox) where the system has more than one.
    #[arg(long = "env", value_name = "ENV")]
    pub(crate) environment: Option<String>,
    /// Every connection, one after the other, with a summary.
    #[arg(long)]
    pub(crate) all: bool,
    /// With --all: the summary as JSON, for scripts.
    #[arg(long, requires = "all")]
    pub(crate) json: bool,
    /// With --all: run as the daily job (recorded as such for Home and the report).
    #[arg(long, requires = "all", hide = true)]
    pub(crate) scheduled: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
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
