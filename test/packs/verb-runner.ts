// Runs one pack verb the way the daemon does: the pack expanded into a catalog by the loader,
// defaults filled, the argv rendered by lib/exec/argv.ts and run by lib/exec/process.ts (scrubbed
// environment, cwd "/", no shell). For the packs' real-component tests.
import { renderArgv } from "../../lib/exec/argv.ts";
import { startVerb } from "../../lib/exec/process.ts";
import type { Catalog, VerbDef } from "../../lib/capability/catalog.ts";
import { buildPackToml } from "../../lib/host/packs/pack.ts";
import { findPack } from "../../lib/host/packs/registry.ts";

export function packCatalog(pack: string, setFlags: string[] = [], prefix?: string): Catalog {
  return buildPackToml(findPack(pack), { setFlags, prefix }).catalog;
}

/** The call's values: the given ones, else each parameter's default. */
export function withDefaults(verb: VerbDef, given: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, p] of Object.entries(verb.params)) {
    const v = given[name] ?? p.default;
    if (v !== undefined) out[name] = v;
  }
  return out;
}

export interface VerbRun {
  argv: string[];
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

export async function runPackVerb(catalog: Catalog, name: string, given: Record<string, string> = {}): Promise<VerbRun> {
  const verb = catalog.get(name);
  if (!verb) throw new Error(`no verb ${name}`);
  const argv = renderArgv(verb, withDefaults(verb, given));
  const out: Record<"stdout" | "stderr", Uint8Array[]> = { stdout: [], stderr: [] };
  const running = startVerb({ argv, timeoutMs: verb.timeoutMs, maxOutputBytes: verb.maxOutputBytes }, (stream, chunk) => {
    out[stream].push(...chunk.map((c) => c.slice()));
  });
  const r = await running.done;
  const text = (chunks: Uint8Array[]) => Buffer.concat(chunks).toString("utf8");
  return { argv, exitCode: r.exitCode, stdout: text(out.stdout), stderr: text(out.stderr) };
}
