// The setup both reload suites share: test/daemon/status-reload.test.ts (from source) and
// test/e2e/reload.test.ts (the compiled daemon, SIGHUP). A relay, a daemon on the test catalog,
// a live share of echo.word, and verbs.toml's path and text so a test can change it on disk.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Cluster, testCatalog, type Mode, type OpenedShare, type Recipient } from "./cluster.ts";

/** A verb the tests add to verbs.toml on disk, then reload. */
export const ECHO_TWICE = `
[verb."echo.twice"]
summary = "Echo a word twice"
adapter = "exec"
argv = ["echo", "{word}", "{word}"]
timeout = "5s"
max_output = "4KiB"
params.word = { pattern = "^[a-z]{1,16}$" }
`;

export interface ReloadFixture {
  c: Cluster;
  vendor: Recipient;
  share: OpenedShare;
  catalogPath: string;
  /** verbs.toml as the daemon first loaded it. */
  original: string;
}

export async function startReloadFixture(mode: Mode): Promise<ReloadFixture> {
  const c = new Cluster(mode);
  await c.startRelay();
  await c.init(testCatalog(join(c.dir, "data")));
  const catalogPath = join(c.home, "verbs.toml");
  const original = readFileSync(catalogPath, "utf8");
  await c.startDaemon();
  const { vendor, share } = await c.shareTo({ grant: ["echo.word"] });
  return { c, vendor, share, catalogPath, original };
}
