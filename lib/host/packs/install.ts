// `openscope verbs add`: appends a built pack to verbs.toml. Refuses a catalog that is already
// invalid or writable by others, and any verb name the catalog already has (no silent override);
// the combined text is checked by the catalog loader before it replaces the file (write + rename).
import { chownSync, existsSync, readFileSync, renameSync, statSync, writeFileSync, unlinkSync } from "node:fs";
import { dirname } from "node:path";
import { parseCatalog, type Catalog } from "../../capability/catalog.ts";
import { usageError } from "../../errors.ts";
import { refuseWritableByOthers } from "../file-mode.ts";
import { buildPackToml, type Pack } from "./pack.ts";

export interface PackAddition {
  verbs: string[];
  catalog: Catalog; // the pack's verbs as the loader reads them
  toml: string;
  values: Record<string, string | string[]>;
}

/** The verbs.toml text a pack would add, checked against the current catalog, without writing. */
export function planPackAddition(catalogPath: string, pack: Pack, opts: { prefix?: string; setFlags?: readonly string[] }): PackAddition & { combined: string } {
  const built = buildPackToml(pack, opts);
  const existing = existsSync(catalogPath) ? readExisting(catalogPath) : "";
  const current = parseCatalog(existing, catalogPath);
  const clash = [...built.catalog.keys()].filter((name) => current.has(name));
  if (clash.length > 0)
    throw usageError(`${catalogPath} already has ${clash.length === 1 ? "verb" : "verbs"} ${clash.join(", ")}`, [
      `add the pack under another prefix: openscope verbs add ${pack.name} --as ${pack.name}2 …`,
      "or remove those verbs from verbs.toml first",
    ]);
  const sep = existing === "" ? "" : existing.endsWith("\n") ? "\n" : "\n\n";
  const combined = existing + sep + built.toml;
  parseCatalog(combined, catalogPath); // the loader's own verdict on the whole file
  return { verbs: [...built.catalog.keys()], catalog: built.catalog, toml: built.toml, values: built.values, combined };
}

function readExisting(path: string): string {
  refuseWritableByOthers(path, "verb catalog");
  return readFileSync(path, "utf8");
}

/** Appends the pack's verbs to verbs.toml (created 0644 when missing), atomically. */
export function addPackToCatalog(catalogPath: string, pack: Pack, opts: { prefix?: string; setFlags?: readonly string[] }): PackAddition {
  const plan = planPackAddition(catalogPath, pack, opts);
  if (!existsSync(dirname(catalogPath)))
    throw usageError(`no configuration folder ${dirname(catalogPath)}`, ["run: openscope init (or give --home DIR)"]);
  const st = existsSync(catalogPath) ? statSync(catalogPath) : undefined;
  const tmp = `${catalogPath}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, plan.combined, { mode: st ? st.mode & 0o755 : 0o644, flag: "wx" });
    if (st) chownSync(tmp, st.uid, st.gid); // the file keeps its owner
    renameSync(tmp, catalogPath);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* not written */
    }
    throw usageError(`cannot write ${catalogPath}: ${(e as Error).message}`);
  }
  return { verbs: plan.verbs, catalog: plan.catalog, toml: plan.toml, values: plan.values };
}
