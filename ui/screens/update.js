// The offer of a newer Patchbay, on Home and the welcome: found by the day's look at start-up
// (the app decides whether to look at all), installed only when the admin says so. "Not now"
// hides it until the next look, a day later at the soonest.

import { h, announce, notice } from "../dom.js";
import * as ipc from "../ipc.js";

let dismissed = false;

/** An empty slot that shows the offer once the start-up look has answered. */
export function updateSlot() {
  const slot = h("div", { class: "update-slot", "data-testid": "update-slot" });
  if (!dismissed) {
    ipc.updateOffer().then((offer) => { if (offer && !dismissed) slot.replaceChildren(offerBar(slot, offer)); }, () => {});
  }
  return slot;
}

function offerBar(slot, offer) {
  const install = h("button", { type: "button", class: "primary", "data-testid": "install-update" }, "Install and restart");
  const later = h("button", { type: "button", class: "secondary", "data-testid": "later-update", onclick: () => { dismissed = true; slot.replaceChildren(); } }, "Not now");
  install.onclick = async () => {
    install.disabled = true; later.disabled = true;
    install.textContent = "Installing…";
    announce("Installing the update. Patchbay restarts when it is done.");
    try {
      await ipc.installUpdate();
    } catch (err) {
      dismissed = true;
      slot.replaceChildren(notice(err.message, { problem: true, testid: "update-problem" }));
      announce(err.message);
    }
  };
  return h("div", { class: "notice update", role: "status", "data-testid": "update-offer" },
    h("div", {},
      h("p", {}, h("strong", {}, `Patchbay ${offer.version} is available`), ` (you have ${offer.current}). Installing takes a minute; your connections stay as they are.`),
      offer.notes ? h("p", { class: "hint", "data-testid": "update-notes" }, offer.notes) : null),
    h("div", { class: "actions" }, install, later));
}
