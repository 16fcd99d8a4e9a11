// The live troubleshooting checklist beside every step: the core decides each item's state.

import { h } from "../dom.js";

const WORDS = { pending: "Not checked yet", ok: "OK", failed: "Problem" };

export function renderChecklist(items) {
  const list = h("ul", { class: "checklist-items" });
  for (const item of items) {
    list.append(h("li", { class: `item ${item.state}`, "data-testid": "checklist-item", "data-item-id": item.id, "data-state": item.state },
      h("span", { class: "mark", "aria-hidden": "true" }),
      h("div", { class: "item-text" },
        h("span", { class: "sr-only" }, `${WORDS[item.state]}: `),
        h("span", { class: "item-title" }, item.title),
        item.state === "failed" && item.message ? h("p", { class: "item-message" }, item.message) : null,
        item.state === "failed" && item.fix ? h("p", { class: "item-fix", "data-testid": "checklist-fix" }, h("strong", {}, "How to fix: "), item.fix) : null,
        item.state === "failed" && item.support ? h("p", { class: "item-support" }, item.support) : null)));
  }
  return list;
}

export function checklistPanel(app) {
  const body = h("div", {}, renderChecklist(app.checklist));
  const panel = h("aside", { class: "checklist", "data-testid": "checklist", "aria-labelledby": "checklist-title" },
    h("h2", { id: "checklist-title", class: "small" }, "Troubleshooting checklist"),
    h("p", { class: "hint" }, "Patchbay checks these as you go."),
    body);
  panel.update = (items) => body.replaceChildren(renderChecklist(items));
  return panel;
}
