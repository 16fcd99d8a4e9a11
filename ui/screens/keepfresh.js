// Home's "Keep my connections fresh": a daily check this computer runs by itself (the app asks
// the core to register it with the system's scheduler), and what that check last found.

import { h, announce, ago } from "../dom.js";
import * as ipc from "../ipc.js";

function lastRun(k) {
  const run = k.last_run;
  if (!run) return k.on ? "It has not run yet: the first check is tomorrow morning." : "";
  return `The daily check last ran ${ago(run.at)}: ${run.found}.`;
}

/** The panel, filled in once the state is read. */
export function keepFreshPanel() {
  const panel = h("section", { class: "keep-fresh", "data-testid": "keep-fresh" });
  ipc.keepFresh().then((k) => fill(panel, k), () => panel.remove());
  return panel;
}

function fill(panel, k) {
  const box = h("input", { type: "checkbox", role: "switch", id: "keep-fresh-toggle", "data-testid": "keep-fresh-toggle", checked: k.on, disabled: !k.available && !k.on });
  const status = h("p", { class: "hint", "data-testid": "keep-fresh-last-run" }, lastRun(k));
  const problem = h("p", { class: "problem-text", role: "alert", "data-testid": "keep-fresh-problem" });
  box.addEventListener("change", async () => {
    const on = box.checked;
    box.disabled = true;
    problem.textContent = "";
    try {
      const now = await ipc.setKeepFresh(on);
      fill(panel, now);
      announce(on ? "Patchbay will check your connections once a day." : "The daily check is off.");
    } catch (err) {
      box.checked = !on;
      box.disabled = false;
      problem.textContent = err.message;
      announce(err.message);
    }
  });
  panel.replaceChildren(...[
    h("label", { class: "fresh-switch", for: "keep-fresh-toggle" }, box, h("span", {}, "Keep my connections fresh")),
    h("p", { class: "hint" }, k.available
      ? "Once a day this computer renews each sign-in before it lapses and checks every connection, even when Patchbay is closed. You are told here when one needs you."
      : "The daily check needs Patchbay's command line, which is not installed with this copy."),
    status,
    k.last_run?.needs_you.length ? h("ul", { class: "needs-you", "data-testid": "keep-fresh-needs-you" }, k.last_run.needs_you.map((n) => h("li", {}, n))) : null,
    problem].filter(Boolean));
}
