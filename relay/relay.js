// Patchbay's HTTPS callback relay.
//
// Some vendors (QuickBooks Online production, QuickBooks Time) only send the admin's browser
// back to an https address on the internet, never to Patchbay on the admin's own computer. This
// static page is that address. It passes the vendor's answer (the part of the address after
// "?") unchanged to Patchbay's listener by a top-level navigation (Chrome's Local Network Access
// gates fetches and frames to local addresses, not top-level navigations), and shows the
// address to paste into Patchbay by hand for when that does not arrive.
//
// Nothing here builds HTML: every text goes in through textContent or a field's value.
"use strict";

(function () {
  var DEFAULT_TARGET = "http://localhost:8765/callback";
  // Time the admin sees "Handing over..." before the browser leaves this page.
  var FORWARD_DELAY_MS = 300;
  // Still on this page this long after the hand-over started: it did not arrive (blocked,
  // waiting on a browser prompt, or nothing listening).
  var ARRIVAL_TIMEOUT_MS = 4000;
  var MAX_QUERY_LENGTH = 8192;
  var STORAGE_PREFIX = "patchbay-relay:forwarded:";

  var TEXT = {
    nothing: "This page passes your sign-in to Patchbay. There is nothing to do here.",
    forwarding: "Handing your sign-in over to Patchbay on this computer\u2026",
    forwardingDenied: "The sign-in was cancelled. Letting Patchbay on this computer know\u2026",
    forwardingError: function (code) {
      return "The sign-in did not finish" + (code ? " (the answer was \u201c" + code + "\u201d)" : "") +
        ". Letting Patchbay on this computer know\u2026";
    },
    missed: "Patchbay did not receive your sign-in.",
    missedDenied: "The sign-in was cancelled, and Patchbay did not receive that answer.",
    missedError: function (code) {
      return "The sign-in did not finish" + (code ? " (the answer was \u201c" + code + "\u201d)" : "") +
        ", and Patchbay did not receive that answer.";
    },
    badSetup: "This page is not set up correctly, so it did not hand your sign-in over to Patchbay.",
    badSetupNote: "Please also tell whoever gave you Patchbay that this sign-in page needs its Patchbay setting fixed.",
    notAnswer: "This address does not look like a sign-in answer, so it was not handed over to Patchbay.",
    notAnswerNote: "If you were connecting a system, go back to Patchbay and click Connect again.",
    leadBadSetup: "Copy this address and paste it into Patchbay, in the box for the address your browser ended on.",
    leadWaiting: "If Patchbay does not move on within a few seconds, copy this address and paste it into Patchbay, in the box for the address your browser ended on.",
    leadMissed: "Copy this address and paste it into Patchbay, in the box for the address your browser ended on. If Patchbay already says it is connected, you can close this tab.",
    leadOtherComputer: "Patchbay must be open on the computer where you clicked Connect. If that is another computer, copy this address and send it there.",
    copied: "Copied",
    copyByHand: "The address is selected: press Ctrl+C (on a Mac, \u2318C) to copy it."
  };

  var $ = function (id) { return document.getElementById(id); };
  var statusEl = $("relay-status");
  var staticEl = $("relay-static");
  var manualEl = $("relay-manual");
  var leadEl = $("relay-manual-lead");
  var addressEl = $("relay-address");
  var copyEl = $("relay-copy");
  var copyNoteEl = $("relay-copy-note");
  var noteEl = $("relay-note");

  // --- The target: http://localhost:<port>/<path> or http://127.0.0.1:<port>/<path> only. ---

  function configuredTarget() {
    var meta = document.querySelector('meta[name="patchbay-callback"]');
    if (!meta) return { ok: true, url: DEFAULT_TARGET };
    var raw = (meta.getAttribute("content") || "").trim();
    var m = /^http:\/\/(localhost|127\.0\.0\.1):([0-9]{1,5})(\/[A-Za-z0-9._~\-\/]*)$/.exec(raw);
    if (!m) return { ok: false };
    var port = Number(m[2]);
    if (port < 1 || port > 65535 || m[2].charAt(0) === "0") return { ok: false };
    return { ok: true, url: raw };
  }

  // --- The vendor's answer: forwarded exactly as received, if it is a plain sign-in answer. ---

  // What a plain answer may hold. The address as received: URL characters only.
  var PLAIN_RAW = /^[A-Za-z0-9\-._~%+=&!$'()*,;:@\/?]*$/;
  // Names: short words.
  var PLAIN_NAME = /^[A-Za-z0-9_.\-]{1,64}$/;
  // Values once decoded (code, state, realmId, error, iss, ...): the characters vendors use
  // for codes, ids and addresses; no spaces, quotes, angle brackets or backslashes.
  var PLAIN_VALUE = /^[A-Za-z0-9\-._~+\/=!*:@,;$()]*$/;
  // The vendor's words about an error (error_description, error_uri) may be a sentence:
  // anything but control characters, direction-changing marks (they could make the shown
  // text say something else), quotes, angle brackets and backslashes.
  var PLAIN_WORDS = /^[^\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"<>`\\]*$/;
  var WORD_PARAMS = { error_description: true, error_uri: true };

  function decode(s) {
    return decodeURIComponent(s.replace(/\+/g, " "));
  }

  /** Returns { params } for a plain answer, or null. */
  function parseAnswer(search) {
    var raw = search.charAt(0) === "?" ? search.slice(1) : search;
    if (!raw || raw.length > MAX_QUERY_LENGTH || !PLAIN_RAW.test(raw)) return null;
    var params = Object.create(null);
    var parts = raw.split("&");
    for (var i = 0; i < parts.length; i++) {
      if (parts[i] === "") continue;
      var eq = parts[i].indexOf("=");
      var name, value;
      try {
        name = decode(eq < 0 ? parts[i] : parts[i].slice(0, eq));
        value = decode(eq < 0 ? "" : parts[i].slice(eq + 1));
      } catch (e) {
        return null; // broken %-encoding
      }
      if (!PLAIN_NAME.test(name)) return null;
      if (!(WORD_PARAMS[name] ? PLAIN_WORDS : PLAIN_VALUE).test(value)) return null;
      // A repeated name is ambiguous; Patchbay would not accept it either.
      if (name in params) return null;
      params[name] = value;
    }
    if (!params.code && !params.error) return null;
    return { params: params };
  }

  // A short fingerprint of the answer, so the browser's session storage never keeps the code.
  function fingerprint(s) {
    var h = 0x811c9dc5;
    for (var i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    return ("0000000" + h.toString(16)).slice(-8) + ":" + s.length;
  }

  function wasForwarded(key) {
    try {
      if (window.history.state && window.history.state.patchbayForwarded === key) return true;
    } catch (e) { /* no history state */ }
    try {
      return window.sessionStorage.getItem(STORAGE_PREFIX + key) !== null;
    } catch (e) {
      return false;
    }
  }

  // Marked twice: the history entry's state comes back with Back even where session storage
  // is turned off.
  function markForwarded(key) {
    try { window.history.replaceState({ patchbayForwarded: key }, ""); } catch (e) { /* ignore */ }
    try { window.sessionStorage.setItem(STORAGE_PREFIX + key, String(Date.now())); } catch (e) { /* ignore */ }
  }

  // --- What the admin sees. ---

  function setState(name) {
    document.body.setAttribute("data-state", name);
  }

  function showManual(address, lead, first) {
    addressEl.textContent = address; // the field's default, as text
    addressEl.value = address;
    leadEl.textContent = lead;
    manualEl.hidden = false;
    manualEl.classList.toggle("first", !!first);
    if (first) {
      // Straight after the status line, ahead of everything else.
      statusEl.parentNode.insertBefore(manualEl, statusEl.nextSibling);
    }
    fitAddress();
  }

  // The whole address in view, without scrolling inside the field (a style property set from
  // script, which the page's content policy allows; no style attribute in the markup).
  function fitAddress() {
    if (manualEl.hidden) return;
    addressEl.style.height = "auto";
    addressEl.style.height = (addressEl.scrollHeight + addressEl.offsetHeight - addressEl.clientHeight) + "px";
  }
  window.addEventListener("resize", fitAddress);

  function showNote(text) {
    noteEl.textContent = text;
    noteEl.hidden = false;
  }

  function copied() {
    copyEl.textContent = TEXT.copied;
    copyEl.classList.add("done");
    copyNoteEl.textContent = "";
  }

  function selectAddress() {
    addressEl.focus();
    addressEl.select();
    try { addressEl.setSelectionRange(0, addressEl.value.length); } catch (e) { /* ignore */ }
  }

  function copyByHand() {
    selectAddress();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    if (ok) copied();
    else copyNoteEl.textContent = TEXT.copyByHand;
  }

  copyEl.addEventListener("click", function () {
    var text = addressEl.value;
    if (navigator.clipboard && typeof navigator.clipboard.writeText === "function") {
      navigator.clipboard.writeText(text).then(function () {
        copied();
        selectAddress();
      }, copyByHand);
    } else {
      copyByHand();
    }
  });
  addressEl.addEventListener("focus", function () { addressEl.select(); });

  // --- The hand-over. ---

  staticEl.hidden = true;

  var search = window.location.search;
  if (!search || search === "?") {
    setState("nothing");
    statusEl.textContent = TEXT.nothing;
    return;
  }

  var answer = parseAnswer(search);
  if (!answer) {
    setState("refused");
    statusEl.textContent = TEXT.notAnswer;
    showNote(TEXT.notAnswerNote);
    return;
  }

  var errorCode = answer.params.error || "";
  var shownCode = PLAIN_NAME.test(errorCode) ? errorCode : "";
  var denied = errorCode === "access_denied";
  var texts = !errorCode
    ? { forwarding: TEXT.forwarding, missed: TEXT.missed }
    : denied
      ? { forwarding: TEXT.forwardingDenied, missed: TEXT.missedDenied }
      : { forwarding: TEXT.forwardingError(shownCode), missed: TEXT.missedError(shownCode) };

  // The address to paste is this page's own with the answer: Patchbay accepts it whatever port
  // it listens on (the page's target may name another), since it is the registered address.
  var here = window.location;
  var ownAddress = here.protocol + "//" + here.host + here.pathname + search;

  var target = configuredTarget();
  if (!target.ok) {
    // Never send the answer anywhere but this computer.
    setState("bad-setup");
    statusEl.textContent = TEXT.badSetup;
    showManual(ownAddress, TEXT.leadBadSetup, true);
    showNote(TEXT.badSetupNote);
    return;
  }

  var address = target.url + search;
  var key = fingerprint(search);
  var missedShown = false;

  function missed() {
    if (missedShown) return;
    missedShown = true;
    setState("missed");
    statusEl.textContent = texts.missed;
    showManual(ownAddress, TEXT.leadMissed, true);
    showNote(TEXT.leadOtherComputer);
  }

  // Shown again with the same answer (Back from the browser's "can't reach" page, a reload):
  // it was handed over once already and did not arrive. Never hand it over twice.
  if (wasForwarded(key)) {
    missed();
    return;
  }

  setState("forwarding");
  statusEl.textContent = texts.forwarding;
  showManual(ownAddress, TEXT.leadWaiting, false);

  // Back to this page from the browser's memory of it (the page was kept, not reloaded).
  window.addEventListener("pageshow", function (e) {
    if (e.persisted) missed();
  });

  window.setTimeout(function () {
    if (missedShown) return; // brought back from the browser's memory before the hand-over
    markForwarded(key);
    window.setTimeout(missed, ARRIVAL_TIMEOUT_MS);
    window.location.assign(address);
  }, FORWARD_DELAY_MS);
})();
