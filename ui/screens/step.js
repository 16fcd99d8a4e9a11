// One guide step per screen: progress list, the vendor's instructions, and exactly the controls
// the step needs (copy the callback URL, paste fields, or the Connect/Allow step), with the live
// checklist beside it.

import * as ipc from "../ipc.js";
import { h, announce, copiedFeedback } from "../dom.js";
import { checklistPanel, fixesFor } from "./checklist.js";
import { importPanel } from "./preview.js";
import { mappingsPanel } from "./mappings.js";

/** Remove the UTF-16 offsets the core reported, so the cleaned secret never crosses IPC. */
function removeAt(raw, offsets) {
  const drop = new Set(offsets);
  let out = "";
  for (let i = 0; i < raw.length; i++) if (!drop.has(i)) out += raw[i];
  return out;
}

/** The guide's steps, the current one marked, each ticked once its own signal has passed (not
 * because Next was clicked). `current`: the step shown, or -1 after the last one. */
export function progress(app, current = app.step) {
  const list = h("ol", { "data-testid": "progress" });
  const render = () => list.replaceChildren(...app.guide.steps.map((s, i) => {
    const done = app.proven(s);
    return h("li", { "data-testid": "progress-step", "data-done": String(done), class: done ? "done" : "", "aria-current": i === current ? "step" : false },
      done ? h("span", { class: "tick", "aria-hidden": "true" }, "✓") : null,
      s.title,
      done ? h("span", { class: "sr-only" }, " (done)") : null);
  }));
  render();
  const nav = h("nav", { class: "progress", "aria-label": "Steps" }, list);
  nav.update = render;
  return nav;
}

function copyRow(label, value, testid, onCopy) {
  const feedback = h("span", { class: "feedback", "data-testid": "copy-feedback", role: "status" });
  const button = h("button", { type: "button", class: "secondary", "data-testid": testid }, "Copy");
  button.addEventListener("click", async () => {
    try { await onCopy(); copiedFeedback(feedback, label); } catch (err) { announce(err.message); }
  });
  return h("div", { class: "copy-row" },
    h("span", { class: "copy-label" }, label),
    h("code", { class: "copy-value", "data-testid": testid === "copy-callback" ? "callback-url" : "copy-text" }, value),
    button, feedback);
}

/** The guide's "eye icon": an open eye to show the text, a crossed-out eye to hide it again. */
function eyeIcon(crossed) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "22");
  svg.setAttribute("height", "22");
  svg.setAttribute("aria-hidden", "true");
  const paths = [
    "M1.5 12s3.8-7 10.5-7 10.5 7 10.5 7-3.8 7-10.5 7S1.5 12 1.5 12z",
    "M12 8.6a3.4 3.4 0 1 0 0 6.8 3.4 3.4 0 0 0 0-6.8z",
  ];
  if (crossed) paths.push("M3 3l18 18");
  for (const d of paths) {
    const p = document.createElementNS(ns, "path");
    p.setAttribute("d", d);
    p.setAttribute("fill", "none");
    p.setAttribute("stroke", "currentColor");
    p.setAttribute("stroke-width", "2");
    p.setAttribute("stroke-linecap", "round");
    svg.append(p);
  }
  return svg;
}

/** A paste field: cleaned on paste and on leaving it, with what was removed said in words. */
function field(app, f, onChange) {
  const id = `field-${f.id}`;
  const input = h("input", { id, type: f.secret ? "password" : "text", "data-testid": id, autocomplete: "off", spellcheck: "false",
    "aria-describedby": `${id}-report ${id}-problem` });
  input.value = app.values[f.id] || "";
  const report = h("p", { id: `${id}-report`, class: "report", "data-testid": `${id}-report`, role: "status" });
  const problem = h("p", { id: `${id}-problem`, class: "problem", "data-testid": `${id}-problem` });
  const show = (r) => {
    report.textContent = r && r.removed ? `Patchbay ${r.removed}.` : "";
    problem.textContent = r && r.problem ? r.problem : "";
    input.setAttribute("aria-invalid", r && r.problem ? "true" : "false");
  };
  show(app.reports[f.id]);
  let latest = 0;
  async function clean(raw) {
    // Only the newest answer counts: a slower, older one must not overwrite a newer paste.
    const mine = ++latest;
    const r = await ipc.cleanField(app.guide.provider.id, f.id, raw);
    if (mine !== latest) return;
    input.value = removeAt(raw, r.remove_at);
    app.values[f.id] = input.value;
    app.reports[f.id] = r;
    show(r);
    if (r.removed) announce(`${f.label}: Patchbay ${r.removed}`);
    if (r.problem) announce(r.problem);
    onChange();
  }
  input.addEventListener("paste", (e) => {
    e.preventDefault();
    clean(e.clipboardData.getData("text")).catch((err) => announce(err.message));
  });
  input.addEventListener("change", () => clean(input.value).catch((err) => announce(err.message)));
  input.clean = () => clean(input.value);
  const parts = [h("label", { for: id }, f.label), h("div", { class: "input-row" }, input)];
  if (f.secret) {
    const toggle = h("button", { type: "button", class: "eye", "data-testid": `${id}-toggle`, "aria-pressed": "false", "aria-label": `Show ${f.label}`, title: `Show ${f.label}` });
    toggle.append(eyeIcon(false));
    toggle.addEventListener("click", () => {
      const showing = input.type === "password";
      input.type = showing ? "text" : "password";
      toggle.setAttribute("aria-pressed", String(showing));
      const name = `${showing ? "Hide" : "Show"} ${f.label}`;
      toggle.setAttribute("aria-label", name);
      toggle.title = name;
      toggle.replaceChildren(eyeIcon(showing));
    });
    parts[1].append(toggle);
  }
  return { el: h("div", { class: "field" }, parts, report, problem), input, hasProblem: () => Boolean(app.reports[f.id]?.problem) };
}

function practiceBox(app, fields) {
  const creds = app.guide.practice_credentials;
  if (!creds || !fields.length) return null;
  const fill = h("button", { type: "button", class: "secondary", "data-testid": "fill-practice" }, "Fill in for me");
  fill.addEventListener("click", async () => {
    for (const f of fields) {
      const value = f.f.id === "client_id" ? creds.client_id : creds.client_secret;
      await f.clean(value);
    }
  });
  return h("div", { class: "practice", "data-testid": "practice-credentials" },
    h("p", {}, "Practice keys: ", h("code", {}, creds.client_id), " and ", h("code", {}, creds.client_secret)),
    fill);
}

/** Where the vendor sends the browser back: the address to copy and, where the vendor refuses
 * Patchbay's own address and there is no relay, the admin's own https page. */
function redirectPanel(app) {
  const { provider, environment, redirect } = app.guide;
  const parts = [];
  if (app.guide.callback_url) {
    parts.push(
      copyRow("Callback URL", app.guide.callback_url, "copy-callback", () =>
        ipc.copy("callback_url", { provider: provider.id, environment: environment.id, redirectPage: app.redirectPage })),
      h("p", { class: "hint" }, `Paste it into ${provider.name}'s redirect URL field exactly as copied.`));
  }
  const extra = [];
  if (redirect.advice) extra.push(h("p", { class: "note", "data-testid": "redirect-advice" }, redirect.advice));
  if (redirect.via === "needs_page" || redirect.via === "own_page" || (redirect.via === "loopback" && redirect.advice)) {
    const input = h("input", { id: "redirect-page", type: "url", "data-testid": "redirect-page", spellcheck: "false",
      "aria-describedby": "redirect-page-problem" });
    input.value = app.redirectPage || "";
    const problem = h("p", { id: "redirect-page-problem", class: "problem", "data-testid": "redirect-page-problem" });
    const use = h("button", { type: "button", class: "secondary", "data-testid": "redirect-page-use" }, "Use this page");
    use.addEventListener("click", async () => {
      problem.textContent = "";
      try {
        app.guide = await ipc.guide(provider.id, environment.id, input.value);
        app.redirectPage = app.guide.redirect.redirect_uri;
        app.showStep();
        announce("Your page will be used");
      } catch (err) {
        problem.textContent = err.message || String(err);
        problem.scrollIntoView({ block: "nearest" });
      }
    });
    extra.push(h("div", { class: "field" },
      h("label", { for: "redirect-page" }, `My own https page, exactly as registered at ${provider.name}`),
      h("div", { class: "input-row" }, input, use), problem));
  }
  // Where Patchbay's own address may well work, what to do otherwise stays folded away.
  if (redirect.via === "loopback" && extra.length) {
    parts.push(h("details", { class: "redirect-help" },
      h("summary", { "data-testid": "redirect-help" }, `${provider.name} will not save this address?`), extra));
  } else {
    parts.push(...extra);
  }
  return h("div", { class: "callback" }, parts);
}

/** The Connect / Authenticate step, with the waiting panel for the browser's Allow. */
function connectPanel(app, step) {
  const oauth = app.guide.provider.mechanism === "authorization_code";
  const button = h("button", { type: "button", class: "primary big", "data-testid": "connect-button" }, oauth ? "Connect" : "Authenticate");
  const status = h("p", { class: "status", role: "status" });
  const error = h("div", { class: "error", "data-testid": "connect-error", role: "alert", hidden: true });
  const waiting = h("div", { class: "waiting", "data-testid": "waiting", hidden: true });
  const countdown = h("span", { class: "countdown", "data-testid": "countdown" });
  const pasteInput = h("input", { id: "paste-address", type: "text", "data-testid": "paste-address", spellcheck: "false" });
  const pasteProblem = h("p", { class: "problem", "data-testid": "paste-problem" });
  const linkFeedback = h("span", { class: "feedback", "data-testid": "copy-feedback", role: "status" });
  let timer = null;

  function stopWaiting() {
    clearInterval(timer);
    waiting.hidden = true;
  }
  function linkActions() {
    return h("div", { class: "actions" },
      h("button", { type: "button", class: "secondary", "data-testid": "copy-link", onclick: async () => {
        try { await ipc.copy("authorize_url"); copiedFeedback(linkFeedback, "Link"); } catch (err) { announce(err.message); }
      } }, "Copy the link"),
      h("button", { type: "button", class: "secondary", "data-testid": "reopen-browser", onclick: () => ipc.reopenBrowser().catch((err) => announce(err.message)) }, "Open the browser again"),
      linkFeedback,
      h("button", { type: "button", class: "danger-outline", "data-testid": "cancel-connect", onclick: () => ipc.cancelConnect() }, "Cancel"));
  }
  function pasteRow() {
    return [
      h("label", { for: "paste-address" }, "If Patchbay does not move on by itself after you allow access, copy the whole address your browser shows and paste it here:"),
      h("div", { class: "input-row" }, pasteInput,
        h("button", { type: "button", class: "secondary", "data-testid": "paste-submit", onclick: () => {
          pasteProblem.textContent = "";
          ipc.pasteAddress(pasteInput.value).catch((err) => { pasteProblem.textContent = err.message; });
        } }, "Use this address")),
      pasteProblem,
    ];
  }
  /** Waiting for the browser: one state, with the countdown and Cancel. */
  function startWaiting(seconds) {
    const end = Date.now() + seconds * 1000;
    const tick = () => {
      const left = Math.max(0, Math.round((end - Date.now()) / 1000));
      countdown.textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
    };
    tick();
    status.textContent = "";
    clearInterval(timer);
    timer = setInterval(tick, 1000);
    waiting.dataset.state = "waiting";
    waiting.replaceChildren(
      h("h3", {}, `Waiting for ${app.guide.provider.name}… `, countdown, " left"),
      h("p", {}, `Your browser is opening ${app.guide.provider.name}. Sign in if asked, then click ${app.guide.consent_button || "Allow"}. Patchbay moves on by itself.`),
      linkActions(),
      ...pasteRow());
    waiting.hidden = false;
  }
  /** The browser could not be opened: the link to open by hand and the paste field, nothing
   * claiming it is opening. */
  function browserFailed() {
    clearInterval(timer);
    waiting.dataset.state = "browser_failed";
    waiting.replaceChildren(
      h("h3", {}, "Your browser did not open"),
      h("p", {}, `Click Copy the link, paste it into your web browser's address bar, sign in and click ${app.guide.consent_button || "Allow"}. Patchbay moves on by itself when you have.`),
      linkActions(),
      ...pasteRow());
    waiting.hidden = false;
  }

  const listener = {
    event(ev) {
      if (ev.type === "authorize") startWaiting(ev.deadline_secs);
      if (ev.type === "failed" && ev.kind === "browser_launch") browserFailed();
      if (ev.type === "paste_rejected") pasteProblem.textContent = ev.message;
      if (ev.type === "ok" && ev.signal === "authorized") { stopWaiting(); status.textContent = "Allowed. Finishing the connection…"; }
    },
  };

  button.addEventListener("click", async () => {
    button.disabled = true;
    error.hidden = true;
    status.textContent = oauth ? "Checking and opening your browser…" : "Checking with the vendor…";
    app.listeners.add(listener);
    app.setConnecting(true);
    try {
      const result = await ipc.connect(app.guide.provider.id, app.guide.environment.id, {
        client_id: app.values.client_id || "",
        client_secret: app.values.client_secret || "",
      }, app.redirectPage, (update) => app.connectUpdate(update));
      // The guide goes on after connecting (import, mappings): its next step; else Connected.
      if (app.step < app.guide.steps.length - 1) {
        app.connection = result;
        announce(`Connected: ${result.label}`);
        app.go(1);
      } else {
        app.connected(result);
      }
    } catch (err) {
      stopWaiting();
      status.textContent = "";
      // The problem once, here where the admin is looking, with the failed checks' fixes.
      // One next action: the button itself, now "Try again", above the problem and its fix.
      error.replaceChildren(h("p", { class: "error-message" }, err.message || String(err)),
        ...fixesFor(err.failed || []));
      error.hidden = false;
      button.textContent = "Try again";
      button.disabled = false;
    } finally {
      app.setConnecting(false);
      app.listeners.delete(listener);
    }
  });
  return h("div", { class: "connect" }, button, status, waiting, error);
}

/** "Your settings are being imported": the banner with progress, then Next once finished. */
function importStep(app, next) {
  const banner = h("p", { class: "import-banner", role: "status", "data-testid": "import-banner" },
    "Your settings are being imported…");
  next.disabled = true;
  const panel = importPanel(app.connection, (found) => {
    app.finish(app.guide.steps[app.step].id);
    banner.textContent = `Your settings are imported and refreshed: ${found.map((r) => `${r.count} ${r.label.toLowerCase()}`).join(", ")}.`;
    banner.classList.add("done");
    next.disabled = false;
  }, true);
  return h("div", {}, banner, panel);
}

export function renderStep(app, step) {
  const panel = checklistPanel(app);
  const fieldsUi = (step.action === "fields" ? step.fields : []).map((f) => {
    const ui = field(app, f, () => { next.disabled = fieldsUi.some((x) => x.hasProblem()); });
    ui.f = f;
    ui.clean = (v) => { ui.input.value = v; return ui.input.clean(); };
    return ui;
  });
  // After connecting, the way back is not through the steps again.
  const connected = step.action === "import" || step.action === "mappings";
  const last = app.step === app.guide.steps.length - 1;
  const back = h("button", { type: "button", class: "secondary", "data-testid": "back", hidden: connected }, "Back");
  // Connecting moves on by itself; there is nothing to skip to before it has worked.
  const next = h("button", { type: "button", class: "primary", "data-testid": "next", hidden: last || step.action === "connect" }, "Next");
  const done = h("button", { type: "button", class: "secondary", "data-testid": "done",
    hidden: !(connected && last), onclick: () => app.landing() }, "Done");
  // Where the vendor refuses Patchbay's address, there is no going on without a page to use.
  const needsPage = step.action === "copy_callback" && app.guide.redirect.via === "needs_page";
  next.disabled = needsPage || fieldsUi.some((x) => x.hasProblem());
  back.addEventListener("click", () => app.go(-1));
  next.addEventListener("click", async () => {
    for (const f of fieldsUi) if (f.input.value !== (app.values[f.f.id] || "") || !app.reports[f.f.id]) await f.input.clean();
    if (fieldsUi.some((x) => x.hasProblem())) return;
    app.go(1);
  });
  const body = h("div", { class: "step-body", "data-testid": "step" },
    h("p", { class: "eyebrow" }, `${app.guide.display_name} · Step ${app.step + 1} of ${app.guide.steps.length}`),
    h("h2", { "data-testid": "step-heading" }, step.title),
    h("ol", { class: "instructions" }, step.instructions.map((i) => h("li", {}, i))),
    step.note ? h("p", { class: "note" }, step.note) : null,
    step.caution ? h("p", { class: "caution", role: "note" }, h("strong", {}, "Caution: "), step.caution) : null,
    step.copy.map((c) => copyRow(c.label, c.value, "copy-value", () => ipc.copy("value", { provider: app.guide.provider.id, step: step.id, label: c.label }))),
    step.action === "copy_callback" ? redirectPanel(app) : null,
    practiceBox(app, fieldsUi),
    fieldsUi.map((f) => f.el),
    step.action === "connect" ? connectPanel(app, step) : null,
    step.action === "import" ? importStep(app, next) : null,
    step.action === "mappings"
      ? mappingsPanel(app.connection, "Configuration saved. You are finished! Patchbay and QuickBooks are connected.", () => app.finish(step.id))
      : null,
    h("div", { class: "nav" }, back, next, done));
  const steps = progress(app);
  const listener = { checklist: (items) => { panel.update(items); steps.update(); } };
  app.listeners.add(listener);
  const root = h("section", { class: "screen wizard", "data-testid": "wizard" }, steps, body, panel);
  // Stop listening when this screen is replaced.
  new MutationObserver((_, obs) => { if (!root.isConnected) { app.listeners.delete(listener); obs.disconnect(); } })
    .observe(document.getElementById("main"), { childList: true });
  return root;
}
