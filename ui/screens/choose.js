// Choose a system and environment, rendered from the catalog (no system is named in code).

import { h } from "../dom.js";

export function renderChoose(app) {
  let chosen = app.guide ? app.guide.provider.id : null;
  let env = app.guide ? app.guide.environment.id : null;
  const root = h("section", { class: "screen choose", "data-testid": "choose" });
  const envBox = h("fieldset", { class: "envs" });
  const before = h("div", { class: "before" });
  const next = h("button", { type: "button", class: "primary", "data-testid": "choose-next", disabled: !chosen }, "Next");

  const system = () => app.systems.find((s) => s.id === chosen);
  function renderDetails() {
    const s = system();
    envBox.replaceChildren();
    before.replaceChildren();
    next.disabled = !s;
    if (!s) return;
    if (!s.environments.some((e) => e.id === env)) env = s.default_environment;
    if (s.environments.length > 1) {
      envBox.append(h("legend", {}, `Which ${s.name} do you want to connect?`));
      for (const e of s.environments) {
        const input = h("input", { type: "radio", name: "environment", value: e.id, checked: e.id === env });
        input.addEventListener("change", () => { env = e.id; });
        envBox.append(h("label", { class: "radio", "data-testid": "environment-option", "data-environment": e.id }, input, e.label));
      }
    }
    if (s.before_you_start.length) {
      before.append(h("h2", { class: "small" }, "Before you start, make sure you have:"),
        h("ul", {}, s.before_you_start.map((b) => h("li", {}, b))));
    }
  }

  const options = h("div", { class: "systems", role: "radiogroup", "aria-label": "System" });
  for (const s of app.systems) {
    const input = h("input", { type: "radio", name: "system", value: s.id, checked: s.id === chosen });
    input.addEventListener("change", () => { chosen = s.id; renderDetails(); });
    options.append(h("label", { class: "system", "data-testid": "system-option", "data-provider": s.id },
      input,
      h("span", { class: "system-text" },
        h("strong", {}, s.name),
        s.formerly ? h("span", { class: "formerly" }, ` (formerly ${s.formerly})`) : null,
        h("span", { class: "summary" }, s.summary))));
  }
  next.addEventListener("click", () => app.start(chosen, env));
  root.append(
    h("h1", {}, "Add a connection"),
    h("p", { class: "lead" }, "Which system do you want to connect? Patchbay then shows the vendor's steps one at a time."),
    // The systems, and beside them the chosen one's environments and what to have ready.
    h("div", { class: "choose-body" }, options, h("div", { class: "choose-details", "data-testid": "choose-details" }, envBox, before)),
    h("div", { class: "nav" },
      h("button", { type: "button", class: "secondary", "data-testid": "back-home", onclick: () => app.landing() }, "Back"),
      next));
  renderDetails();
  return root;
}
