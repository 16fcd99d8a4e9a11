// The wizard controller: which screen is shown, the answers kept across Back/Next, the live
// checklist, and practice mode. Screens render into <main> and call back into `app`.

import * as ipc from "./ipc.js";
import { announce, focusHeading } from "./dom.js";
import { renderHome } from "./screens/home.js";
import { renderChoose } from "./screens/choose.js";
import { renderWelcome } from "./screens/welcome.js";
import { renderStep } from "./screens/step.js";
import { renderConnected } from "./screens/connected.js";
import { renderPreview } from "./screens/preview.js";
import { renderMappings } from "./screens/mappings.js";
import { showAbout } from "./screens/about.js";

const main = document.getElementById("main");

export const app = {
  info: null,           // app_state
  systems: [],          // the catalog's systems
  guide: null,          // the chosen system's steps, callback URL and checklist
  step: 0,              // index into guide.steps
  values: {},           // field id -> cleaned value (kept across Back/Next)
  redirectPage: null,   // the admin's own https page, where the vendor refuses Patchbay's address
  reports: {},          // field id -> clean_field report
  checklist: [],        // items as the core reports them
  checklistOpen: false, // the folded checklist (narrow windows) opened by the admin
  signals: new Set(),   // the signals this flow has passed: they tick the steps they prove
  finished: new Set(),  // steps proven by their own result (imported, saved)
  listeners: new Set(), // screens interested in connect events

  show(render, ...args) {
    main.replaceChildren();
    const screen = render(this, ...args);
    main.append(screen);
    focusHeading(screen);
  },

  /** A connect starts or ends: leaving for Help mid-connect would strand the wait. */
  setConnecting(on) {
    const help = document.getElementById("help-button");
    help.disabled = on;
    help.title = on ? "Finish or cancel the connection first" : "";
  },

  choose() {
    this.show(renderChoose);
  },

  /** Home, or the welcome while there is no connection yet. */
  async landing() {
    const list = await ipc.connections();
    this.info.has_connections = list.length > 0;
    this.guide = null;
    this.show(list.length ? renderHome : renderWelcome, list);
  },

  /** The welcome's "Try it in practice mode": practice on, then choose a system. */
  async startPractice() {
    try {
      applyInfo(await ipc.setPractice(true));
      announce("Practice mode is on");
      this.choose();
    } catch (err) {
      announce(err.message || String(err));
    }
  },

  /** Start (or restart, for Reconnect) the steps of one system. */
  async start(provider, environment) {
    this.guide = await ipc.guide(provider, environment);
    this.redirectPage = null;
    this.step = 0;
    this.values = {};
    this.reports = {};
    this.checklist = this.guide.checklist;
    this.signals = new Set();
    this.finished = new Set();
    this.showStep();
  },

  showStep() {
    this.show(renderStep, this.guide.steps[this.step]);
  },

  go(delta) {
    const next = this.step + delta;
    if (next < 0) return this.choose();
    if (next >= this.guide.steps.length) return;
    this.step = next;
    this.showStep();
  },

  connected(status) {
    this.show(renderConnected, status);
  },

  preview(connection) {
    this.show(renderPreview, connection);
  },

  mappings(connection) {
    this.show(renderMappings, connection);
  },

  /** Whether a step of the guide is proven done: by its signal, or by its own result. */
  proven(step) {
    return step.proven_by ? this.signals.has(step.proven_by) : this.finished.has(step.id);
  },

  /** A step after connecting proved by its own result (imported, saved): ticked now. */
  finish(stepId) {
    this.finished.add(stepId);
    for (const l of this.listeners) l.checklist?.(this.checklist);
  },

  /** A step of the connect in progress, from the core: the checklist, then the screens. */
  connectUpdate({ event, checklist }) {
    this.updateChecklist(checklist, event);
    for (const l of this.listeners) l.event?.(event);
  },

  /** Apply a connect event and its checklist from the core; announce what was settled. */
  updateChecklist(items, event) {
    if (event && event.type === "ok") this.signals.add(event.signal);
    const before = new Map(this.checklist.map((i) => [i.id, i.state]));
    this.checklist = items;
    for (const item of items) {
      if (before.get(item.id) !== item.state && (item.state === "ok" || item.state === "failed")) {
        announce(`${item.title}: ${item.state === "ok" ? "ok" : "problem found"}`);
      }
    }
    for (const l of this.listeners) l.checklist?.(items);
  },
};

function applyInfo(info) {
  app.info = info;
  document.getElementById("practice-toggle").checked = info.practice;
  document.querySelector("[data-testid=practice-banner]").hidden = !info.practice;
  const alert = document.querySelector("[data-testid=keychain-alert]");
  alert.hidden = info.keychain.ok;
  alert.textContent = info.keychain.ok ? "" : info.keychain.message;
  const dist = document.querySelector("[data-testid=distribution-alert]");
  dist.hidden = !info.distribution_problem;
  dist.textContent = info.distribution_problem
    ? `${info.distribution_problem} Patchbay works without it; tell whoever gave you Patchbay.`
    : "";
}

// Start-up milestones of the page (ms since navigation started), reported with the first paint.
const marks = { module: performance.now() };

async function boot() {
  document.getElementById("practice-toggle").addEventListener("change", async (e) => {
    try {
      applyInfo(await ipc.setPractice(e.target.checked));
      announce(e.target.checked ? "Practice mode is on" : "Practice mode is off");
      if (app.guide) await app.start(app.guide.provider.id, app.guide.environment.id);
      // The welcome's practice offer follows the switch.
      else if (main.querySelector("[data-testid=welcome]")) app.show(renderWelcome);
    } catch (err) {
      e.target.checked = !e.target.checked;
      announce(err.message || String(err));
    }
  });
  document.getElementById("help-button").addEventListener("click", () =>
    showAbout(app).catch((err) => announce(err.message || String(err))));
  applyInfo(await ipc.appState());
  app.systems = await ipc.systems();
  marks.ready = performance.now();
  // With no connection yet (the first run) the welcome; later runs land on Home.
  if (app.info.has_connections) await app.landing();
  else app.show(renderWelcome);
  // Two frames later the first screen is on the glass.
  marks.rendered = performance.now();
  requestAnimationFrame(() => {
    marks.frame = performance.now();
    requestAnimationFrame(() => {
      marks.painted = performance.now();
      ipc.painted(marks).catch(() => {});
    });
  });
}

boot().catch((err) => {
  main.textContent = `Patchbay could not start: ${err.message || err}`;
});
