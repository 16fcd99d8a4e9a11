// About and help: the version, each system's guide (its steps here, and the vendor's own help
// pages in the browser), who to ask, what is kept where and how to remove it, and the licenses
// of the open-source packages Patchbay is built on.

import * as ipc from "../ipc.js";
import { h, announce } from "../dom.js";

function guides(app) {
  return h("ul", { class: "guides", "data-testid": "about-guides" },
    app.systems.map((s) => {
      const note = h("span", { class: "hint", "data-testid": "help-note" });
      return h("li", { "data-testid": "about-guide", "data-provider": s.id },
        h("strong", {}, s.name), ` follows "${s.guide}" in ${s.steps} steps.`,
        s.vendor_help ? h("p", { class: "hint" }, s.vendor_help) : null,
        h("div", { class: "actions" },
          h("button", { type: "button", class: "secondary", "data-testid": "open-steps", onclick: () => app.start(s.id, s.default_environment).catch((err) => { note.textContent = err.message; announce(err.message); }) }, "Open the steps"),
          s.has_help_page
            ? h("button", { type: "button", class: "secondary", "data-testid": "open-help", onclick: async () => {
              try { await ipc.openHelp(s.id); note.textContent = `${s.name}'s help opened in your browser.`; } catch (err) { note.textContent = err.message; }
              announce(note.textContent);
            } }, `${s.name}'s own help pages`)
            : null,
          note));
    }));
}

/** Who to ask: whoever distributes this Patchbay (if they said), with the report. */
export function whoToAsk(support) {
  if (!support) {
    return h("p", { "data-testid": "who-to-ask" },
      "Ask whoever set up Patchbay for you, and send them the support report (Save report… on Home).");
  }
  return h("p", { "data-testid": "who-to-ask" },
    h("strong", {}, `Still need help? Ask ${support.name}: `),
    `email ${support.email}`, support.phone ? ` or call ${support.phone}` : "", ". ",
    support.hours || "");
}

function kept(about) {
  return h("div", { "data-testid": "about-kept" },
    h("dl", { class: "facts" },
      h("dt", {}, "Passwords and keys"), h("dd", {}, about.credentials),
      h("dt", {}, "Connections and settings"), h("dd", {}, about.settings),
      h("dt", {}, "Logs"), h("dd", {}, about.logs)),
    h("p", { class: "hint" },
      `To remove everything: on Home, Disconnect each connection (that revokes Patchbay's access where the system allows it and deletes its keys from ${about.credentials}), `
      + "then uninstall Patchbay and delete the two folders above."));
}

function licenses() {
  const out = h("div", { "data-testid": "licenses" });
  const show = h("button", { type: "button", class: "secondary", "data-testid": "show-licenses", onclick: async () => {
    show.disabled = true;
    try {
      const list = JSON.parse(await ipc.licenses()).licenses;
      const crates = new Set(list.flatMap((l) => l.used_by));
      out.replaceChildren(
        h("p", { "data-testid": "licenses-count" }, `Patchbay is built on ${crates.size} open-source packages, under these licenses:`),
        ...list.map((l) => h("details", { class: "license" },
          h("summary", {}, `${l.name}: ${l.used_by.join(", ")}`),
          h("pre", {}, l.text))));
      show.remove();
    } catch (err) {
      out.textContent = err.message || String(err);
      show.disabled = false;
    }
  } }, "Show the licenses");
  out.append(show);
  return out;
}

export async function showAbout(app) {
  const fromStep = Boolean(document.querySelector("#main [data-testid=wizard]"));
  const about = await ipc.about();
  app.show(renderAbout, about, fromStep);
}

/** Back to the guide step the admin was on (its answers are kept), or else Home. */
function back(app, fromStep) {
  if (fromStep && app.guide) app.showStep();
  else app.landing().catch((err) => announce(err.message || String(err)));
}

function renderAbout(app, about, fromStep) {
  const root = h("section", { class: "screen about", "data-testid": "about" });
  root.append(
    h("div", { class: "screen-head" },
      h("h1", {}, "About and help"),
      h("button", { type: "button", class: "secondary", "data-testid": "about-back", onclick: () => back(app, fromStep) }, "Back")),
    h("p", { "data-testid": "about-version" }, `Patchbay ${about.version} on ${about.os}`),
    h("h2", {}, "The guides"),
    guides(app),
    h("h2", {}, "Who to ask"),
    whoToAsk(app.info.support),
    h("h2", {}, "What is kept where"),
    kept(about),
    h("h2", {}, "Open-source licenses"),
    licenses());
  return root;
}
