// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // Answered before any window or display is touched: installers, package checks and support
    // ask the installed binary which version it is.
    if std::env::args().nth(1).as_deref() == Some("--version") {
        // A Windows release build has no console of its own: print to the one it was started from.
        #[cfg(windows)]
        attach_parent_console();
        println!("Patchbay {}", env!("CARGO_PKG_VERSION"));
        return;
    }
    patchbay_app::run();
}

#[cfg(windows)]
#[allow(unsafe_code)]
fn attach_parent_console() {
    use windows_sys::Win32::System::Console::{ATTACH_PARENT_PROCESS, AttachConsole};
    // SAFETY: AttachConsole only connects this process to its parent's console; it fails
    // harmlessly when there is none (started from Explorer) or the output is already redirected.
    unsafe {
        AttachConsole(ATTACH_PARENT_PROCESS);
    }
}
