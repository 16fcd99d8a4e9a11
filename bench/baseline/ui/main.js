// First paint: two animation frames after the content is in place, then tell Rust.
requestAnimationFrame(() => requestAnimationFrame(() => window.__TAURI__.core.invoke("painted")));
