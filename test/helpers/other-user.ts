// Running `openscope` as a user who is not root. The checkout may sit inside a folder only root
// can enter (a fresh clone in a 0700 temp folder, as CI makes), so the program is bundled once
// into a world-readable folder, and that folder is also the working directory.
import { chmodSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { $ } from "bun";
import { ROOT } from "./spawn.ts";

let bundled: Promise<{ argv: string[]; cwd: string }> | undefined;

/** `[bun, openscope.js]` and a cwd that any user can read; built on first use. */
export function openscopeForOtherUsers(): Promise<{ argv: string[]; cwd: string }> {
  bundled ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), "openscope-any-user-"));
    chmodSync(dir, 0o755);
    const out = join(dir, "openscope.js");
    await $`bun build ${join(ROOT, "daemon.ts")} --target bun --outfile ${out}`.cwd(ROOT).quiet();
    chmodSync(out, 0o644);
    return { argv: [process.execPath, out], cwd: dir };
  })();
  return bundled;
}
