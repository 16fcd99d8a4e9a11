// The only module that touches window.__TAURI__: every call to the Rust side goes through here.
// Commands reject with {kind, message}; callers show `message`.

const tauri = window.__TAURI__;

function call(name, args) {
  return tauri.core.invoke(name, args || {});
}

export const appState = () => call("app_state");
export const setPractice = (on) => call("set_practice", { on });
export const systems = () => call("systems");
/** A system's steps for one environment; `redirectPage` is the admin's own https page, if any. */
export const guide = (provider, environment, redirectPage) =>
  call("guide", { provider, environment, redirectPage: redirectPage || null });
export const cleanField = (provider, field, raw) => call("clean_field", { provider, field, raw });
/** A channel for one call's progress: `callback(message)` for each message Rust sends. */
function channel(callback) {
  const c = new tauri.core.Channel();
  c.onmessage = callback;
  return c;
}

/** Connect; `onUpdate({event, checklist})` for each step, over this call's own channel. */
export const connect = (provider, environment, fields, redirectPage, onUpdate) =>
  call("connect", {
    provider, environment, fields, redirectPage: redirectPage || null, onUpdate: channel(onUpdate),
  });
export const cancelConnect = () => call("cancel_connect");
export const pasteAddress = (address) => call("paste_address", { address });
export const reopenBrowser = () => call("reopen_browser");
/** Copy a value Rust knows: what = callback_url | authorize_url | value | report. */
export const copy = (what, extra) => call("copy", { item: Object.assign({ what }, extra || {}) });
export const connections = () => call("connections");
export const checkConnection = (id) => call("check_connection", { id });
/** Disconnect; `keepSettings`: the saved mappings stay for the next connect. */
export const keepFresh = () => call("keep_fresh");
export const setKeepFresh = (on) => call("set_keep_fresh", { on });
export const disconnect = (id, keepSettings) => call("disconnect", { id, keepSettings });
/** About and help: version, OS, where things are kept, the guides. */
export const about = () => call("about");
export const updateOffer = () => call("update_offer");
export const installUpdate = () => call("install_update");
/** The bundled crates' licenses, as ui/licenses.json (a JSON string). */
export const licenses = () => call("licenses");
/** A system's own help pages in the system browser. */
export const openHelp = (provider) => call("open_help", { provider });
/** "Save report…": the system's save dialog, then the file; the saved path, or null. */
export const saveReport = () => call("save_report");
/** Show the log folder in the file manager: {path, opened}. */
export const openLogFolder = () => call("open_log_folder");
/** The first screen is painted (start-up is timed to here). */
export const painted = (page) => call("painted", { page });

/** The preview import; `onEvent(event)` for its progress, over this call's own channel. */
export const preview = (id, onEvent) => call("preview", { id, onEvent: channel(onEvent) });
export const cancelPreview = () => call("cancel_preview");
export const saveExport = (id) => call("save_export", { id });
export const mappings = (id) => call("mappings", { id });
export const saveMappings = (id, chosen) => call("save_mappings", { id, chosen });
