// Reading verbs.toml from disk: the root-owned file check, then the pure parser of lib/capability/catalog.ts.
import { existsSync, readFileSync } from "node:fs";
import { parseCatalog, type Catalog } from "../capability/catalog.ts";
import { usageError } from "../errors.ts";
import { refuseWritableByOthers } from "./file-mode.ts";

export function readCatalogFile(path: string): Catalog {
  if (!existsSync(path)) throw usageError(`no verb catalog at ${path}`, ["run: openscope init (it writes a sample catalog)"]);
  refuseWritableByOthers(path, "verb catalog");
  return parseCatalog(readFileSync(path, "utf8"), path);
}
