//! The smallest Tauri 2 app: one window showing one static page. The page reports its first
//! paint the way Patchbay's does (two animation frames, then one command), so the benchmark
//! times both the same way.
//!
//! `BASELINE_PAGE=first-screen.html` shows a static copy of Patchbay's first screen instead
//! (the same markup and stylesheet, no modules, no commands): what drawing that screen costs
//! in Tauri before any of Patchbay's own work.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

#[tauri::command]
fn painted() {
    eprintln!("first screen painted");
}

fn main() {
    let page = std::env::var("BASELINE_PAGE").unwrap_or_else(|_| "index.html".into());
    if let Err(e) = tauri::Builder::default()
        .setup(move |app| {
            // The same start-up mark as Patchbay's debug log, so the phases can be compared.
            eprintln!("start-up: setup ms=0");
            tauri::WebviewWindowBuilder::new(app, "main", tauri::WebviewUrl::App(page.into()))
                .title("Baseline")
                .inner_size(1024.0, 700.0)
                .build()?;
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![painted])
        .run(tauri::generate_context!())
    {
        eprintln!("baseline could not start: {e}");
        std::process::exit(1);
    }
}
