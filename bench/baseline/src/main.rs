//! The smallest Tauri 2 app: one window showing one static page. The page reports its first
//! paint the way Patchbay's does (two animation frames, then one command), so the benchmark
//! times both the same way.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

#[tauri::command]
fn painted() {
    eprintln!("first screen painted");
}

fn main() {
    if let Err(e) = tauri::Builder::default()
        // The same start-up mark as Patchbay's debug log, so the phases can be compared.
        .setup(|_| {
            eprintln!("start-up: setup ms=0");
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![painted])
        .run(tauri::generate_context!())
    {
        eprintln!("baseline could not start: {e}");
        std::process::exit(1);
    }
}
