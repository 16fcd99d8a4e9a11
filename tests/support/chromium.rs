//! Debian's headless Chromium as the admin's browser (MACHINE.md's recipe), behind the name the
//! OS or a program launches: a script that takes the URL, logs it, and lets Chromium load it,
//! follow its redirects and (with `run_timers`) run its scripts' timers as a person's browser does
//! while they look, then write the last page's DOM to `dom_out`.

use std::path::Path;

/// Write the launcher script at `script` (e.g. a `BROWSER` program or an `xdg-open`).
pub fn write_launcher(script: &Path, log: &Path, dom_out: Option<&Path>, run_timers: bool) {
    let text = r#"#!/bin/sh
echo "$1" >> '{{LOG}}'
d=$(mktemp -d)
( chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$d" {{TIMERS}} --dump-dom "$1" > '{{OUT}}' 2>/dev/null; rm -rf "$d" ) &
"#
    .replace("{{LOG}}", &log.display().to_string())
    .replace(
        "{{OUT}}",
        &dom_out.map_or("/dev/null".to_string(), |p| p.display().to_string()),
    )
    // A headless browser otherwise stops at the first page's load, before a delayed navigation.
    .replace(
        "{{TIMERS}}",
        if run_timers {
            "--virtual-time-budget=5000"
        } else {
            ""
        },
    );
    if let Some(dir) = script.parent() {
        std::fs::create_dir_all(dir).expect("launcher folder");
    }
    std::fs::write(script, text).expect("launcher script");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(script, std::fs::Permissions::from_mode(0o755))
            .expect("launcher is executable");
    }
}
