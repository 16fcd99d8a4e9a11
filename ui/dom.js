// Small DOM helpers: elements are built with textContent only (no HTML from data).

/** h("button", {class: "x", "data-testid": "y", onclick: fn}, "text", child...) */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Say something to screen readers (the live region). */
export function announce(text) {
  const region = document.getElementById("announcer");
  region.textContent = "";
  // A fresh text node after a tick makes repeated messages announce again.
  setTimeout(() => { region.textContent = text; }, 30);
}

/** Move focus to a screen's heading so keyboard and screen-reader users start there. */
export function focusHeading(root) {
  const heading = root.querySelector("h1, h2");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus();
  }
}

export function when(unix) {
  return unix ? new Date(unix * 1000).toLocaleString() : "not yet";
}

/** How long ago, in words ("just now", "5 minutes ago", "yesterday"). */
export function ago(unix) {
  if (!unix) return "not yet";
  const secs = Math.max(0, Date.now() / 1000 - unix);
  const n = (v, unit) => `${v} ${unit}${v === 1 ? "" : "s"} ago`;
  if (secs < 60) return "just now";
  if (secs < 3600) return n(Math.floor(secs / 60), "minute");
  if (secs < 86400) return n(Math.floor(secs / 3600), "hour");
  if (secs < 2 * 86400) return "yesterday";
  return n(Math.floor(secs / 86400), "day");
}

/** A "Copied" note next to a copy button for two seconds. */
export function copiedFeedback(holder, label) {
  holder.textContent = "Copied";
  announce(`${label} copied`);
  clearTimeout(holder.timer);
  holder.timer = setTimeout(() => { holder.textContent = ""; }, 2000);
}

/** A visible result the admin can dismiss: saved files, saved configuration, a disconnect.
 * `onDismiss` runs when they do. */
export function notice(text, { problem = false, onDismiss = () => {}, testid = "notice" } = {}) {
  const bar = h("div", { class: `notice${problem ? " problem" : ""}`, role: problem ? "alert" : "status", "data-testid": testid },
    h("p", {}, text),
    h("button", { type: "button", class: "secondary", "data-testid": "dismiss-notice", onclick: () => { bar.remove(); onDismiss(); } }, "Dismiss"));
  return bar;
}

/** The last part of a path the admin chose ("Exports" of C:\\Users\\ann\\Exports). */
export function baseName(path) {
  return String(path).split(/[\\/]/).filter(Boolean).pop() || String(path);
}
