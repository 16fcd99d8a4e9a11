// Home: every connection with its live state, and one-click Check / Reconnect / Disconnect.

import * as ipc from "../ipc.js";
import { h, announce, when, ago, copiedFeedback, notice, baseName } from "../dom.js";
import { updateSlot } from "./update.js";
import { keepFreshPanel } from "./keepfresh.js";
import { whoToAsk } from "./about.js";

// A connection whose access needs renewing is connected all the same: it renews itself on use.
const STATE_WORDS = {
  connected: "Connected",
  needs_refresh: "Connected",
  needs_reconnect: "Needs reconnect",
  keychain_unavailable: "Keychain unavailable",
};

/** Buttons that need the keychain, off with the reason when it cannot be used. */
function needsKeychain(app) {
  return app.info.keychain.ok
    ? {}
    : { disabled: true, title: `Not possible while ${app.info.keychain.location || "the keychain"} cannot be used (see the message at the top).` };
}

function card(app, c, refresh) {
  const who = c.identity ? [c.identity.who, c.identity.company].filter(Boolean).join(" at ") : "";
  // While the keychain cannot be used, the message at the top says why (once); the card only
  // points at it.
  const problem = c.state === "keychain_unavailable" && !app.info.keychain.ok
    ? "This connection waits for the keychain (see the message at the top)."
    : c.needs_reconnect || (c.last_error ? c.last_error.message : "");
  const note = h("p", { class: "card-note", "data-testid": "card-note" });
  const check = h("button", { type: "button", class: "secondary", "data-testid": "check-now", ...needsKeychain(app) }, "Check now");
  check.addEventListener("click", async () => {
    check.disabled = true;
    note.textContent = "Checking…";
    try {
      await ipc.checkConnection(c.id);
      announce(`${c.label} works`);
      await refresh();
    } catch (err) {
      note.textContent = err.message;
      announce(err.message);
      check.disabled = false;
    }
  });
  return h("li", { class: "card", "data-testid": "connection-card", "data-connection-id": c.id },
    h("div", { class: "card-head" },
      h("h2", {}, c.label),
      c.practice ? h("span", { class: "badge" }, "Practice") : null,
      h("span", { class: `chip ${c.state}`, "data-testid": "connection-state" }, STATE_WORDS[c.state] || c.state)),
    h("p", { "data-testid": "connection-identity" }, who ? `Connected as ${who}` : "Not verified yet"),
    h("p", { class: "card-checked", "data-testid": "connection-checked" },
      c.verified_at ? `Checked ${ago(c.verified_at)}` : "Not checked yet",
      c.state === "connected" || c.state === "needs_refresh" ? "; stays connected by itself." : "."),
    h("details", { class: "support-details", "data-testid": "support-details" },
      h("summary", {}, "Details for support"),
      h("dl", { class: "facts" },
        h("dt", {}, "Access renews"), h("dd", {}, c.expires_at ? `by itself; current access valid until ${when(c.expires_at)}` : "by itself"),
        h("dt", {}, "Last checked"), h("dd", {}, when(c.verified_at)),
        h("dt", {}, "Connection"), h("dd", {}, c.id),
        h("dt", {}, "Kept in"), h("dd", {}, c.stored_in))),
    problem ? h("p", { class: "card-problem", role: "note" }, problem) : null,
    note,
    h("div", { class: "actions" },
      check,
      h("button", { type: "button", "data-testid": "preview-data", onclick: () => app.preview(c), ...needsKeychain(app) },
        app.systems.find((s) => s.id === c.provider)?.preview_label || "See your data"),
      app.systems.find((s) => s.id === c.provider)?.has_mappings
        ? h("button", { type: "button", "data-testid": "open-mappings", onclick: () => app.mappings(c), ...needsKeychain(app) }, "Mappings")
        : null,
      h("button", { type: "button", "data-testid": "reconnect", onclick: () => app.start(c.provider, c.environment), ...needsKeychain(app) }, "Reconnect"),
      h("button", { type: "button", class: "danger-outline", "data-testid": "disconnect", onclick: () => confirmDisconnect(c, refresh), ...needsKeychain(app) }, "Disconnect")));
}

function confirmDisconnect(c, refresh) {
  const dialog = document.getElementById("disconnect-dialog");
  document.getElementById("disconnect-title").textContent = `Disconnect ${c.label}?`;
  document.getElementById("disconnect-text").textContent =
    `Patchbay will revoke its access at ${c.system} where ${c.system} allows it and delete the saved credentials from ${c.stored_in}. ` +
    "The connection stops working until you connect again.";
  // Saved settings are never deleted unasked: the admin chooses (kept by default).
  const keep = document.getElementById("disconnect-keep");
  keep.checked = true;
  const keepRow = document.getElementById("disconnect-keep-row");
  keepRow.hidden = Object.keys(c.mappings || {}).length === 0;
  const yes = document.getElementById("confirm-disconnect");
  const no = document.getElementById("cancel-disconnect");
  const close = () => { dialog.close(); yes.onclick = null; no.onclick = null; };
  no.onclick = close;
  yes.onclick = async () => {
    yes.disabled = true;
    try {
      const r = await ipc.disconnect(c.id, keep.checked);
      lastResult = r.revocation === "failed"
        ? { text: `${c.label} is disconnected on this computer, but ${c.system} could not be told. ${r.message}`, problem: true }
        : { text: `${c.label} is disconnected.${keep.checked && !keepRow.hidden ? " Your mappings are kept for when you connect again." : ""}` };
    } catch (err) {
      lastResult = { text: err.message, problem: true };
    }
    announce(lastResult.text);
    yes.disabled = false;
    close();
    await refresh();
  };
  dialog.showModal();
}

/** Who to ask (whoever distributes this Patchbay, if they said) and each connected system's own
 * help, in its guide's words. */
function contacts(app, list) {
  const ids = [...new Set(list.map((c) => c.provider))];
  const systems = ids.map((id) => app.systems.find((s) => s.id === id)).filter((s) => s && s.vendor_help);
  return h("div", { class: "contacts", "data-testid": "support-contacts" },
    whoToAsk(app.info.support),
    systems.map((s) => h("p", { class: "hint", "data-testid": "vendor-help" }, s.vendor_help)));
}

/** The result of the last action on Home (a disconnect), shown until dismissed. */
let lastResult = null;

function noticeBar() {
  if (!lastResult) return null;
  return notice(lastResult.text, { problem: lastResult.problem, testid: "home-notice", onDismiss: () => { lastResult = null; } });
}

export function renderHome(app, list) {
  const root = h("section", { class: "screen home", "data-testid": "home" });
  const refresh = async () => app.show(renderHome, await ipc.connections());
  const feedback = h("span", { class: "feedback", "data-testid": "copy-feedback" });
  const logNote = h("p", { class: "hint", "data-testid": "log-folder-note" });
  const reportNote = h("div", { "data-testid": "report-note" });
  root.append(
    h("div", { class: "screen-head" },
      h("h1", {}, "Your connections"),
      h("button", { type: "button", class: "primary", "data-testid": "add-connection", onclick: () => app.choose(), ...needsKeychain(app) }, "Add a connection")),
    ...[noticeBar()].filter(Boolean),
    updateSlot(),
    list.length
      ? h("ul", { class: "cards" }, list.map((c) => card(app, c, refresh)))
      : h("p", {}, "No connections yet. Click Add a connection to start."),
    list.length ? keepFreshPanel() : null,
    h("div", { class: "support" },
      h("button", { type: "button", class: "secondary", "data-testid": "copy-report", onclick: async () => {
        try { await ipc.copy("report"); copiedFeedback(feedback, "Support report"); } catch (err) { announce(err.message); }
      } }, "Copy support report"),
      h("button", { type: "button", class: "secondary", "data-testid": "save-report", onclick: async () => {
        try {
          const path = await ipc.saveReport();
          reportNote.replaceChildren(notice(path ? `Report saved as ${baseName(path)}.` : "Nothing was saved: no file was chosen."));
        } catch (err) { reportNote.replaceChildren(notice(err.message, { problem: true })); }
        announce(reportNote.querySelector("p").textContent);
      } }, "Save report…"),
      h("button", { type: "button", class: "secondary", "data-testid": "open-log-folder", onclick: async () => {
        try {
          const folder = await ipc.openLogFolder();
          logNote.textContent = folder.opened ? `Logs: ${folder.path}` : `Your file manager did not open. The logs are in ${folder.path}`;
        } catch (err) { announce(err.message); }
      } }, "Open log folder"),
      feedback,
      reportNote,
      logNote,
      h("p", { class: "hint" }, "The report has no passwords or keys in it; paste it or attach the saved file to an email to whoever supports you."),
      contacts(app, list)));
  return root;
}
