// docs/packs.md is generated from the pack files: it must list every pack's verbs, parameters and
// --set keys as the packs are now (regenerate with: bun scripts/packs-doc.ts).
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { packsDoc } from "../../scripts/packs-doc.ts";
import { allPacks } from "../../lib/host/packs/registry.ts";
import { ROOT } from "../helpers/spawn.ts";

test("docs/packs.md is current (bun scripts/packs-doc.ts)", () => {
  expect(readFileSync(join(ROOT, "docs", "packs.md"), "utf8")).toBe(packsDoc());
});

test("docs/packs.md names every pack, verb, parameter and setting", () => {
  const doc = packsDoc();
  for (const p of allPacks()) {
    expect(doc).toContain(`## ${p.name} (version ${p.version})`);
    for (const s of p.settings) expect(doc).toContain(`| \`${s.key}\` |`);
    for (const [verb, body] of Object.entries(p.verbs)) {
      expect(doc).toContain(`| \`${p.name}.${verb}\` |`);
      for (const param of Object.keys((body.params ?? {}) as object)) expect(doc).toContain(`\`${param}\`: `);
    }
  }
});
