// Connected: who/which company it is, where the credentials are kept, how to reconnect.

import { h, announce } from "../dom.js";
import { checklistPanel } from "./checklist.js";
import { progress } from "./step.js";

export function renderConnected(app, status) {
  const who = status.identity ? [status.identity.who, status.identity.company].filter(Boolean).join(" at ") : "your account";
  const system = app.systems.find((s) => s.id === status.provider) || {};
  announce(`Connected: ${status.label}`);
  const steps = app.guide ? app.guide.steps.length : 0;
  const body = h("div", { class: "connected-body" },
    steps ? h("p", { class: "eyebrow", "data-testid": "flow-progress" }, `${app.guide.display_name} · All ${steps} steps done`) : null,
    h("h1", {}, "Connected"),
    h("p", { class: "lead", "data-testid": "connected-identity" }, `${status.label} is connected as ${who}.`),
    h("p", { "data-testid": "stored-in" }, `Your credentials are kept in ${status.stored_in} on this computer, never in a plain file.`),
    h("p", {}, "To reconnect later (for example when access expires or a key changes), open Patchbay and click Reconnect next to this connection."),
    h("div", { class: "nav" },
      h("button", { type: "button", class: "secondary", "data-testid": "done", onclick: () => app.landing() }, "Done"),
      system.has_preview && h("button", { type: "button", class: "primary", "data-testid": "preview-data", onclick: () => app.preview(status) },
        system.preview_label)));
  return h("section", { class: `screen done-screen${steps ? " with-steps" : ""}`, "data-testid": "connected" },
    steps ? progress(app, -1) : null, body, checklistPanel(app));
}
