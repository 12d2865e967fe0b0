// The permission rules for the operator's files on disk (SPEC.md §15.1): an input that decides
// authority (verbs.toml, the database) is refused when group or others could have written it; a
// file holding a secret (config.toml with the relay token, the relay's tokens file) is refused
// also when others can read it. One wording for every file.
import { statSync } from "node:fs";
import { usageError } from "../errors.ts";

/** Refuses a root-owned input that group or others could have written. */
export function refuseWritableByOthers(path: string, what: string): void {
  const st = statSync(path);
  if ((st.mode & 0o022) !== 0) throw usageError(`${what} ${path} is writable by group or others`, [`chmod go-w ${path}`]);
}

/** Refuses a file holding secrets that group or others could have written, or others can read. */
export function refuseExposedSecretFile(path: string, what: string): void {
  refuseWritableByOthers(path, what);
  const st = statSync(path);
  if ((st.mode & 0o004) !== 0) throw usageError(`${what} ${path} is readable by others`, [`chmod o-r ${path}`]);
}
