// Mappings: the guide's customer and supplier settings, chosen from the imported accounts, then
// Save Configuration. Re-opening shows (and lets the admin change) what was saved.

import * as ipc from "../ipc.js";
import { h, announce, notice } from "../dom.js";

/** The mapping choices and Save Configuration with its success message. */
export function mappingsPanel(connection, savedText, onSaved = () => {}) {
  const form = h("div", { class: "mapping-list" }, h("p", { role: "status" }, "Reading your accounts…"));
  const message = h("div", { "data-testid": "saved-message" });
  const save = h("button", { type: "button", class: "primary", "data-testid": "save-configuration", disabled: true }, "Save Configuration");
  const selects = new Map();

  function render(list) {
    selects.clear();
    form.replaceChildren(...list.map((m) => {
      const id = `mapping-${m.id}`;
      const select = h("select", { id, "data-testid": id },
        m.options.map((o) => h("option", { value: o.value, selected: o.value === m.selected }, o.name)));
      selects.set(m.id, select);
      return h("div", { class: "field" },
        h("label", { for: id }, m.label),
        h("p", { class: "hint" }, m.help, m.saved ? "" : " Patchbay suggests the selected account; nothing is saved until you click Save Configuration."),
        select);
    }));
    save.disabled = list.length === 0;
  }

  async function load() {
    message.replaceChildren();
    try {
      render(await ipc.mappings(connection.id));
    } catch (err) {
      form.replaceChildren(h("p", { class: "problem" }, err.message));
    }
  }

  save.addEventListener("click", async () => {
    save.disabled = true;
    const chosen = Object.fromEntries([...selects].map(([k, s]) => [k, s.value]));
    try {
      render(await ipc.saveMappings(connection.id, chosen));
      message.replaceChildren(notice(savedText));
      announce(savedText);
      onSaved();
    } catch (err) {
      message.replaceChildren(notice(err.message, { problem: true }));
    }
    save.disabled = false;
  });

  load();
  return h("div", { class: "mappings-panel" }, form,
    h("div", { class: "actions" }, save,
      h("button", { type: "button", class: "secondary", "data-testid": "refresh-mappings", onclick: load }, "Refresh")),
    message);
}

export function renderMappings(app, connection) {
  return h("section", { class: "screen mappings", "data-testid": "mappings" },
    h("h1", {}, "Customer and supplier mappings"),
    h("p", { class: "lead" }, `Choose where ${connection.system} records what Patchbay brings in, then click Save Configuration.`),
    mappingsPanel(connection, "Configuration saved."),
    h("div", { class: "nav" }, h("button", { type: "button", class: "secondary", "data-testid": "done", onclick: () => app.landing() }, "Done")));
}
