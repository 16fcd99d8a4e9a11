// Generates a permission per app command, so the capability file can grant the webview exactly
// the commands the UI calls and nothing else.
fn main() {
    let commands = &[
        "app_state",
        "set_practice",
        "systems",
        "guide",
        "clean_field",
        "connect",
        "cancel_connect",
        "paste_address",
        "reopen_browser",
        "copy",
        "connections",
        "check_connection",
        "disconnect",
        "keep_fresh",
        "set_keep_fresh",
        "about",
        "update_offer",
        "install_update",
        "licenses",
        "open_help",
        "save_report",
        "open_log_folder",
        "preview",
        "cancel_preview",
        "save_export",
        "mappings",
        "save_mappings",
        "painted",
    ];
    // The page is embedded at build time: a new or changed file under ui/ means a new binary.
    println!("cargo:rerun-if-changed=../ui");
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(commands)),
    )
    .unwrap_or_else(|e| panic!("tauri build step failed: {e}"));
}
