fn main() {
    // The pages are embedded at build time; styles.css is a link to Patchbay's stylesheet.
    println!("cargo:rerun-if-changed=ui");
    println!("cargo:rerun-if-changed=../../ui/styles.css");
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(&["painted"])),
    )
    .unwrap_or_else(|e| panic!("tauri build step failed: {e}"));
}
