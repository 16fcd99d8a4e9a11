// Preview import: one progress bar per list with counts and time left, then the counts and a
// small sample of each list, "Save as CSV files", Refresh, and (where the system has settings to
// choose) the way to the Mappings screen.

import * as ipc from "../ipc.js";
import { h, announce, notice, baseName } from "../dom.js";

function duration(secs) {
  if (secs < 90) return `${secs} s`;
  const min = Math.round(secs / 60);
  return min < 90 ? `${min} min` : `${Math.round(min / 60)} h`;
}

function sampleTable(r) {
  return h("div", { class: "sample", "data-testid": "preview-sample", "data-list": r.id },
    h("h3", {}, `${r.label}: first ${r.sample.length} of ${r.count}`),
    h("div", { class: "table-wrap" },
      h("table", {},
        h("thead", {}, h("tr", {}, r.columns.map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, r.sample.map((row) => h("tr", {}, row.map((v) => h("td", {}, v))))))));
}

/**
 * The import with one progress bar per list, then the counts and samples, Save as CSV files and
 * Refresh. `onDone(found)` is called after each finished import. `folded`: the samples sit in a
 * closed "first rows" section (inside a guide step, where the step's button must stay in view).
 */
export function importPanel(connection, onDone, folded = false) {
  const lists = h("ul", { class: "lists" });
  const rows = new Map();
  const status = h("p", { class: "status", role: "status", "data-testid": "preview-status" });
  const results = h("div", { class: "results" });
  const savedPath = h("div", { class: "saved-files", "data-testid": "saved-path" });
  const cancel = h("button", { type: "button", class: "danger-outline", "data-testid": "cancel-preview", onclick: () => ipc.cancelPreview() }, "Stop");
  const save = h("button", { type: "button", class: "secondary", "data-testid": "save-csv", hidden: true }, "Save as CSV files…");
  const refresh = h("button", { type: "button", class: "secondary", "data-testid": "refresh-preview", hidden: true }, "Refresh");

  function row(ev) {
    const bar = h("progress", { "data-testid": "preview-progress", "data-list": ev.list, "aria-label": ev.label });
    if (ev.total) bar.max = ev.total;
    const count = h("span", { class: "count", "data-testid": "preview-count", "data-list": ev.list }, "starting…");
    const note = h("span", { class: "note", "data-testid": "preview-note", "data-list": ev.list });
    lists.append(h("li", {}, h("span", { class: "list-label" }, ev.label), bar, count, note));
    rows.set(ev.list, { bar, count, note, total: ev.total });
  }

  const listener = (ev) => {
    if (ev.type === "started") row(ev);
    const r = rows.get(ev.list);
    if (!r) return;
    if (ev.type === "progress") {
      if (ev.total) {
        r.bar.max = ev.total;
        r.bar.value = ev.fetched;
        r.count.textContent = `${ev.fetched} of ${ev.total}`;
        r.note.textContent = ev.eta_secs ? `about ${duration(ev.eta_secs)} left` : "";
      } else {
        // The vendor does not say how many there are: a moving (indeterminate) bar, the count
        // so far and the page, and no made-up time estimate.
        r.bar.removeAttribute("value");
        r.count.textContent = `${ev.fetched} so far`;
        r.note.textContent = `page ${ev.pages}; ${connection.system} does not say how many there are`;
      }
    }
    if (ev.type === "waiting") r.note.textContent = ev.message;
    if (ev.type === "finished") finished(r, ev.count);
  };

  /** A list is done: its bar full and its count final (from its event or the import's result,
   * whichever comes first: events and the result travel separately). */
  function finished(r, count) {
    if (r.note.textContent === "done") return;
    r.bar.max = Math.max(count, 1);
    r.bar.value = Math.max(count, 1);
    r.count.textContent = `${count}`;
    r.note.textContent = "done";
  }

  async function run() {
    lists.replaceChildren();
    rows.clear();
    results.replaceChildren();
    savedPath.textContent = "";
    [save, refresh].forEach((b) => { b.hidden = true; });
    cancel.hidden = false;
    status.textContent = `Fetching your data from ${connection.system}…`;
    try {
      const found = await ipc.preview(connection.id, listener);
      for (const r of found) if (rows.has(r.id)) finished(rows.get(r.id), r.count);
      status.textContent = `Done: ${found.map((r) => `${r.count} ${r.label.toLowerCase()}`).join(", ")}.`;
      announce(status.textContent);
      // Inside a guide step the banner says it.
      if (folded) status.textContent = "";
      results.append(...found.filter((r) => r.sample.length).map(sampleTable));
      save.hidden = false;
      onDone(found);
    } catch (err) {
      status.textContent = err.message || String(err);
      announce(status.textContent);
    } finally {
      cancel.hidden = true;
      refresh.hidden = false;
    }
  }

  save.addEventListener("click", async () => {
    const say = (text, problem = false) => savedPath.replaceChildren(notice(text, { problem }));
    try {
      savedPath.replaceChildren(h("p", { class: "status" }, "Choose a folder in the window that opened…"));
      const saved = await ipc.saveExport(connection.id);
      if (!saved) {
        say("Nothing was saved: no folder was chosen.");
        return;
      }
      say(`Saved ${saved.files.length} CSV files in your folder “${baseName(saved.folder)}”: ${saved.files.join(", ")}. Each opens in a spreadsheet.`);
      announce("CSV files saved");
    } catch (err) {
      say(err.message, true);
    }
  });
  refresh.addEventListener("click", run);
  run();
  const shown = folded
    ? h("details", { class: "samples" }, h("summary", { "data-testid": "show-samples" }, "See the first rows of each list"), results)
    : results;
  return h("div", { class: "import" }, lists, status, h("div", { class: "actions" }, cancel, save, refresh), savedPath, shown);
}

export function renderPreview(app, connection) {
  const system = app.systems.find((s) => s.id === connection.provider) || {};
  const toMappings = h("button", { type: "button", class: "primary", "data-testid": "to-mappings", hidden: true,
    onclick: () => app.mappings(connection) }, "Next: mappings");
  return h("section", { class: "screen preview", "data-testid": "preview" },
    h("p", { class: "eyebrow" }, connection.label),
    h("h1", {}, system.preview_label || "See your data"),
    h("p", { class: "lead" }, "Patchbay reads a few lists to prove the data comes through. Nothing is changed in your account."),
    importPanel(connection, () => { toMappings.hidden = !system.has_mappings; }),
    h("div", { class: "nav" },
      h("button", { type: "button", class: "secondary", "data-testid": "done", onclick: () => app.landing() }, "Done"),
      toMappings));
}
