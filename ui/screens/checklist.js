// The live troubleshooting checklist beside every step: the core decides each item's state. Each
// item is titled with what must be true and shows its state in words and a shape, not colour
// alone. A problem's message and fix are said once, in the step where the admin is looking (the
// connect error); here the item only says which check failed. Advice no signal can check is a tip.

import { h } from "../dom.js";

const WORDS = { pending: "Waiting", ok: "OK", failed: "Problem" };
// Shapes as well as colour: an empty ring, a tick, an exclamation mark in a square.
const SHAPES = { pending: "", ok: "✓", failed: "!" };

export function renderChecklist(items) {
  const list = h("ul", { class: "checklist-items" });
  for (const item of items) {
    list.append(h("li", { class: `item ${item.state}`, "data-testid": "checklist-item", "data-item-id": item.id, "data-state": item.state },
      h("span", { class: "mark", "aria-hidden": "true" }, SHAPES[item.state]),
      h("span", { class: "item-title" }, item.title),
      h("span", { class: "state-word", "data-testid": "checklist-state" }, WORDS[item.state])));
  }
  return list;
}

export function checklistPanel(app) {
  const body = h("div", {}, renderChecklist(app.checklist));
  const tips = app.guide && app.guide.tips && app.guide.tips.length
    ? h("div", { class: "tips", "data-testid": "checklist-tips" },
        h("h3", { class: "small" }, "Tips"),
        h("ul", {}, app.guide.tips.map((t) => h("li", { "data-testid": "checklist-tip" }, t))))
    : null;
  const panel = h("aside", { class: "checklist", "data-testid": "checklist", "aria-labelledby": "checklist-title" },
    h("h2", { id: "checklist-title", class: "small" }, "Troubleshooting checklist"),
    h("p", { class: "hint" }, "Patchbay checks these as you go."),
    body, tips);
  panel.update = (items) => body.replaceChildren(renderChecklist(items));
  return panel;
}

/** The failed items' fixes (and who to ask), for the step that shows the problem. */
export function fixesFor(items) {
  return items.filter((i) => i.state === "failed" && i.fix).map((i) =>
    h("div", { class: "fix", "data-testid": "connect-fix", "data-item-id": i.id },
      h("p", {}, h("strong", {}, "How to fix: "), i.fix),
      i.support ? h("p", { class: "hint" }, i.support) : null));
}
