// The layering rule of the tree (README "Layout"): the pure layers (capability, wire, noise,
// crypto, share, redact, the relay's state machine and its protocol table, and the shared vocabulary at
// lib/'s top) import no platform module and no I/O edge, so they take values and return values.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve, dirname } from "node:path";
import { ROOT } from "./helpers/spawn.ts";

const LIB = join(ROOT, "lib");
const PURE_DIRS = ["capability", "wire", "noise", "crypto", "share", "redact"];
const PURE_FILES = ["relay/state.ts", "relay/protocol.ts", "client/link.ts", "errors.ts", "version.ts", "units.ts", "bytes.ts"];
const EDGE_DIRS = ["store", "host", "exec", "daemon", "control", "client", "platform"];

function tsFiles(dir: string): string[] {
  let out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(tsFiles(p));
    else if (name.endsWith(".ts")) out.push(p);
  }
  return out;
}

function pureFiles(): string[] {
  const files = PURE_FILES.map((f) => join(LIB, f));
  for (const d of PURE_DIRS) {
    try {
      files.push(...tsFiles(join(LIB, d)));
    } catch {
      /* a layer not written yet */
    }
  }
  return files;
}

/** Every import specifier of a module (static, dynamic and re-exports). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specs: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*["']([^"']+)["']/g)) specs.push(m[1]!);
  for (const m of text.matchAll(/import\(\s*["']([^"']+)["']\s*\)/g)) specs.push(m[1]!);
  for (const m of text.matchAll(/(?:^|\n)\s*import\s*["']([^"']+)["']/g)) specs.push(m[1]!);
  return specs;
}

describe("layout", () => {
  test("lib/ keeps at most 5 files at its top; the rest lives in one folder per layer", () => {
    const top = readdirSync(LIB).filter((n) => statSync(join(LIB, n)).isFile());
    expect(top.length).toBeLessThanOrEqual(5);
  });

  test("the pure layers import no node:*, bun:* or I/O edge", () => {
    const offences: string[] = [];
    for (const file of pureFiles()) {
      for (const spec of importsOf(file)) {
        const rel = relative(ROOT, file);
        if (spec.startsWith("node:") || spec.startsWith("bun:") || spec === "bun") offences.push(`${rel} imports ${spec}`);
        if (spec.startsWith(".")) {
          const target = relative(LIB, resolve(dirname(file), spec));
          const layer = target.split("/")[0]!;
          if (EDGE_DIRS.includes(layer)) offences.push(`${rel} imports the edge ${target}`);
          if (target === "relay/server.ts" || target === "relay/tokens.ts") offences.push(`${rel} imports the edge ${target}`);
        }
      }
    }
    expect(offences).toEqual([]);
  });

  test("cmd/ reaches the control API only through control/client.ts", () => {
    const offences: string[] = [];
    for (const file of tsFiles(join(ROOT, "cmd")))
      for (const spec of importsOf(file)) {
        const target = relative(LIB, resolve(dirname(file), spec));
        if (target.startsWith("control/") && target !== "control/client.ts") offences.push(`${relative(ROOT, file)} imports ${target}`);
      }
    expect(offences).toEqual([]);
  });

  test("the check itself sees a forbidden import", () => {
    const fake = 'import { Database } from "bun:sqlite";\nimport { x } from "../store/store.ts";\n';
    const specs = [...fake.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*["']([^"']+)["']/g)].map((m) => m[1]);
    expect(specs).toEqual(["bun:sqlite", "../store/store.ts"]);
  });

  test("no module imports node:crypto or node:readline at its top (cold start)", () => {
    // A compiled binary wraps every module to load lazily except the builtins: a static import of
    // one is paid by every start, `--version` included (node:crypto ≈ 6 ms). Take node:crypto from
    // lib/platform/node-crypto.ts and import readline where a prompt is shown.
    const offences: string[] = [];
    const files = [...tsFiles(LIB), ...tsFiles(join(ROOT, "cmd")), ...["daemon.ts", "relay.ts", "client.ts"].map((f) => join(ROOT, f))];
    for (const file of files) {
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/(?:^|\n)\s*import\s+(?!type\s)[^;]*?from\s*["'](node:)?(crypto|readline|readline\/promises)["']/g)) {
        offences.push(`${relative(ROOT, file)} imports ${m[1] ?? ""}${m[2]}`);
      }
    }
    expect(offences).toEqual([]);
  });
});
