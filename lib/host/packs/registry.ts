// The packs built into this binary: one TOML file each in this folder, imported as text so
// `bun build --compile` embeds them (no download, no file read at run time). Adding a pack is
// adding a file and a line here; test/packs/ then checks every verb of it.
import { usageError } from "../../errors.ts";
import { parsePack, type Pack } from "./pack.ts";
import docker from "./docker.toml" with { type: "text" };
import http from "./http.toml" with { type: "text" };
import kubernetes from "./kubernetes.toml" with { type: "text" };
import nginx from "./nginx.toml" with { type: "text" };
import postgres from "./postgres.toml" with { type: "text" };
import systemd from "./systemd.toml" with { type: "text" };

/** Each pack's file text, by pack name (the file's own [pack] name must agree). */
export const PACK_SOURCES: Readonly<Record<string, string>> = Object.freeze({ systemd, docker, kubernetes, postgres, nginx, http });

let parsed: Map<string, Pack> | undefined;

/** Every built-in pack, in listing order. */
export function allPacks(): Pack[] {
  if (!parsed) {
    parsed = new Map();
    for (const [name, text] of Object.entries(PACK_SOURCES)) {
      const pack = parsePack(text as unknown as string);
      if (pack.name !== name) throw usageError(`pack file ${name}.toml names itself ${pack.name}`);
      parsed.set(name, pack);
    }
  }
  return [...parsed.values()];
}

export function findPack(name: string): Pack {
  const pack = allPacks().find((p) => p.name === name);
  if (!pack)
    throw usageError(`no pack named ${JSON.stringify(name.slice(0, 40))}`, [`packs: ${allPacks().map((p) => p.name).join(", ")}`, "see: openscope verbs packs"]);
  return pack;
}
