// The live troubleshooting checklist beside every step: the core decides each item's state. Each
// item is titled with what must be true and shows its state in words and a shape, not colour
// alone. A problem's message and fix are said once, in the step where the admin is looking (the
// connect error); here the item only says which check failed. Advice no signal can check is a tip.
// On a narrow window the checklist folds to one summary line ("2 OK, 1 problem") that opens it.

import { h } from "../dom.js";

const WORDS = { pending: "Waiting", checking: "Checking…", ok: "OK", failed: "Problem", not_needed: "Not needed" };
// Shapes as well as colour: an empty ring, a half-filled ring, a tick, an exclamation mark in a
// square, a dash.
const SHAPES = { pending: "", checking: "◐", ok: "✓", failed: "!", not_needed: "–" };

/** The items shown: a quiet one (about Patchbay itself) only when it failed. */
function shown(items) {
  return items.filter((i) => !i.quiet || i.state === "failed");
}

export function renderChecklist(items) {
  const list = h("ul", { class: "checklist-items" });
  for (const item of shown(items)) {
    list.append(h("li", { class: `item ${item.state}`, "data-testid": "checklist-item", "data-item-id": item.id, "data-state": item.state },
      h("span", { class: "mark", "aria-hidden": "true" }, SHAPES[item.state]),
      h("span", { class: "item-title" }, item.title),
      h("span", { class: "state-word", "data-testid": "checklist-state" }, WORDS[item.state])));
  }
  return list;
}

/** "3 OK, 1 problem, 2 waiting": the states in words, problems first after OK. */
export function summarize(items) {
  const count = (state) => shown(items).filter((i) => i.state === state).length;
  const parts = [
    [count("ok"), "OK", "OK"],
    [count("failed"), "problem", "problems"],
    [count("checking"), "checking", "checking"],
    [count("pending"), "waiting", "waiting"],
  ].filter(([n]) => n > 0).map(([n, one, many]) => `${n} ${n === 1 ? one : many}`);
  return parts.join(", ") || "Nothing to check";
}

export function checklistPanel(app) {
  const body = h("div", { id: "checklist-body", class: "checklist-body" }, renderChecklist(app.checklist));
  const tips = app.guide && app.guide.tips && app.guide.tips.length
    ? h("div", { class: "tips", "data-testid": "checklist-tips" },
        h("h3", { class: "small" }, "Tips"),
        h("ul", {}, app.guide.tips.map((t) => h("li", { "data-testid": "checklist-tip" }, t))))
    : null;
  const summary = h("span", { class: "checklist-summary", "data-testid": "checklist-summary" }, summarize(app.checklist));
  const toggle = h("button", { type: "button", class: "secondary small-button checklist-toggle", "data-testid": "checklist-toggle",
    "aria-controls": "checklist-body", "aria-expanded": "false" }, "Show");
  const panel = h("aside", { class: "checklist", "data-testid": "checklist", "aria-labelledby": "checklist-title" },
    h("div", { class: "checklist-head" },
      h("h2", { id: "checklist-title", class: "small" }, "Troubleshooting checklist"), summary, toggle),
    h("div", { class: "checklist-fold" }, h("p", { class: "hint" }, "Patchbay checks these as you go."), body, tips));
  // Folded only where the window is narrow (styles.css); the admin's choice is kept across steps.
  const layout = () => {
    panel.classList.toggle("open", Boolean(app.checklistOpen));
    toggle.setAttribute("aria-expanded", String(Boolean(app.checklistOpen)));
    toggle.textContent = app.checklistOpen ? "Hide" : "Show";
  };
  toggle.addEventListener("click", () => { app.checklistOpen = !app.checklistOpen; layout(); });
  layout();
  panel.update = (items) => {
    body.replaceChildren(renderChecklist(items));
    summary.textContent = summarize(items);
  };
  return panel;
}

/** The failed items' fixes (and who to ask), for the step that shows the problem. */
export function fixesFor(items) {
  return items.filter((i) => i.state === "failed" && i.problem).map((i) =>
    h("div", { class: "fix", "data-testid": "connect-fix", "data-item-id": i.id },
      h("p", {}, h("strong", {}, "How to fix: "), i.problem.fix),
      i.problem.support ? h("p", { class: "hint" }, i.problem.support) : null));
}
