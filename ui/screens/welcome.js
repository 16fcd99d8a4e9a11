// Welcome: what Patchbay does, what to have ready, and practice mode. Shown while there is no
// connection yet (the first run, or after everything was disconnected). Systems come from the
// catalog: no system is named in code.

import { h } from "../dom.js";
import { updateSlot } from "./update.js";

function list(names) {
  if (names.length < 2) return names.join("");
  return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

export function renderWelcome(app) {
  const names = app.systems.map((s) => s.name);
  const practicing = app.info.practice;
  const [offer, offerText] = practicing
    ? ["Practice mode is on",
      "The steps use practice copies of the vendors: no account needed, nothing real is touched. Switch it off at the top right when you are ready for your real accounts."]
    : ["Not ready yet, or want to see how it goes?",
      "Practice mode walks the same steps against practice copies of the vendors: no account needed, nothing real is touched. Switch it off at the top right when you are ready."];
  const root = h("section", { class: "screen welcome", "data-testid": "welcome" });
  root.append(
    h("h1", {}, "Welcome to Patchbay"),
    updateSlot(),
    h("p", { class: "lead" },
      `Patchbay connects your office's systems (${list(names)}) one careful step at a time, `
      + "in each vendor's own words. It keeps the keys in this computer's keychain and checks each connection with a real request."),
    h("div", { class: "before" },
      h("h2", { class: "small" }, "Before you start, have ready:"),
      h("ul", { "data-testid": "welcome-needs" },
        h("li", {}, "Admin rights in the system you are connecting (you will create or approve an app there)."),
        h("li", {}, "About ten minutes for each system."),
        h("li", {}, "A web browser where you can sign in to that system."))),
    h("div", { class: "practice-offer" }, h("h2", { class: "small" }, offer), h("p", {}, offerText)),
    h("div", { class: "nav" },
      practicing ? null : h("button", { type: "button", class: "secondary", "data-testid": "welcome-practice", onclick: () => app.startPractice() }, "Try it in practice mode"),
      h("button", { type: "button", class: "primary", "data-testid": "welcome-start", onclick: () => app.choose() }, practicing ? "Start practising" : "Start")));
  return root;
}
