#!/usr/bin/env node
// Prints the Tauri configuration a release build merges (`tauri build --config FILE`) so that it
// updates itself: the updater artifacts signed (with TAURI_SIGNING_PRIVATE_KEY, at build time),
// and the app given the public key and the feed it checks. Used by the release workflow and by
// scripts/test.sh, which builds the Linux installer the same way with a throwaway key.
//
//   node scripts/updater-config.cjs PUBLIC_KEY FEED_URL > tauri.updater.conf.json
"use strict";

const [pubkey, feed] = process.argv.slice(2);
if (!pubkey || !feed) {
  console.error("usage: updater-config.cjs PUBLIC_KEY FEED_URL");
  process.exit(2);
}
if (!/^https:\/\/[^/]+\//.test(feed)) {
  console.error(`updater-config: the feed must be an https:// address, not ${feed}`);
  process.exit(2);
}
const config = {
  bundle: { createUpdaterArtifacts: true },
  plugins: { updater: { pubkey: pubkey.trim(), endpoints: [feed] } },
};
process.stdout.write(JSON.stringify(config, null, 2) + "\n");
