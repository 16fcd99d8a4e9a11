// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // Answered before any window or display is touched: installers, package checks and support
    // ask the installed binary which version it is.
    if std::env::args().nth(1).as_deref() == Some("--version") {
        println!("Patchbay {}", env!("CARGO_PKG_VERSION"));
        return;
    }
    patchbay_app::run();
}
