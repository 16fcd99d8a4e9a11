//! `patchbay-emulator [--port N] [--state FILE] [--scale small|large]`: runs the vendor
//! emulators on 127.0.0.1 until Ctrl-C.

use patchbay_emulator::{DataScale, Emulator, EmulatorConfig};
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: patchbay-emulator [--port N] [--state FILE] [--scale small|large]";

fn parse_args() -> Result<EmulatorConfig, String> {
    let mut config = EmulatorConfig {
        port: 8790,
        ..EmulatorConfig::default()
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--port" => {
                config.port = value("--port")?
                    .parse()
                    .map_err(|_| format!("--port needs a number\n{USAGE}"))?
            }
            "--state" => config.state_file = Some(PathBuf::from(value("--state")?)),
            "--scale" => {
                config.scale = match value("--scale")?.as_str() {
                    "small" => DataScale::small(),
                    "large" => DataScale::large(),
                    other => return Err(format!("unknown scale {other:?}\n{USAGE}")),
                }
            }
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(config)
}

#[tokio::main]
async fn main() -> ExitCode {
    let config = match parse_args() {
        Ok(c) => c,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let emulator = match Emulator::start(config).await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("patchbay-emulator: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let base = emulator.base_url();
    println!("Patchbay emulator listening on {base}");
    println!("Vendor console: {base}/_emulator/");
    println!("Real URLs map to {base}/HOST/PATH, e.g. {base}/rest.tsheets.com/api/v1/current_user");
    println!();
    println!("Practice apps:");
    for app in emulator.practice_apps() {
        println!("  {} / {}", app.provider, app.environment);
        println!("    client id:     {}", app.client_id);
        println!("    client secret: {}", app.client_secret);
        if !app.redirect_uris.is_empty() {
            println!("    redirect URIs: {}", app.redirect_uris.join(", "));
        }
    }
    println!();
    println!("Press Ctrl-C to stop.");
    let _ = tokio::signal::ctrl_c().await;
    emulator.shutdown().await;
    ExitCode::SUCCESS
}
