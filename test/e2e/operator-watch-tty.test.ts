// The operator's live view (`openscope share watch ID` on a terminal, SPEC.md §17.1) driven
// through tmux on the compiled binaries: the header, a call's output appearing while the verb still
// runs, escape sequences in that output shown escaped, `k` killing the running call (the recipient
// is told "cancelled by the operator"), `a` approving a waiting call, the interactive client saying a
// call waits for approval (Ctrl-C there withdraws it), `e` extending the share, `x x` revoking it,
// after which the view ends; `d` asking for a one-line reason (Esc cancels, Enter alone sends the
// default). The screen is read with capture-pane, polled.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { Cluster, commandFor, testCatalog, type OpenedShare, type Recipient } from "../helpers/cluster.ts";
import { waitFor } from "../helpers/spawn.ts";
import { startClient, type LiveClient } from "../helpers/e2e.ts";
import { terminal } from "../helpers/tmux.ts";

setDefaultTimeout(90_000);

const mode = (process.env.OPENSCOPE_E2E_MODE as "binary" | "source" | undefined) ?? "binary";
let c: Cluster;
let vendor: Recipient;
let share: OpenedShare;
const { tmux, screen, keys, screenShows } = terminal("watch");

/** The id of a waiting request the screen shows and no earlier call of this test file did. */
const seenRequests = new Set<string>();
async function newRequest(): Promise<string> {
  const id = await waitFor(() => [...screen().matchAll(/⏳ request ([0-9a-f]{8}): needs\.ok waits/g)].map((m) => m[1]!).find((r) => !seenRequests.has(r)), "a new request", 30_000);
  seenRequests.add(id);
  return id;
}

/** A one-shot call kept running in the background, to watch it from the operator's side. */
function callInBackground(verb: string, params: string[] = []): LiveClient {
  return startClient(vendor, mode, ["--passport", share.handle, "--fingerprint", share.fingerprint, "call", verb, ...params]);
}

beforeAll(async () => {
  c = new Cluster(mode);
  await c.startRelay();
  await c.init(`${testCatalog(join(c.dir, "data"))}
[verb."tick.tock"]
summary = "Print a numbered tick every 200 ms for a minute"
adapter = "exec"
argv = ["sh", "-c", "i=0; while [ $i -lt 300 ]; do echo tick $i; i=$((i+1)); sleep 0.2; done"]
timeout = "90s"
max_output = "64KiB"

[verb."evil.print"]
summary = "Print terminal escape sequences"
adapter = "exec"
argv = ["printf", "\\\\033]0;PWNED\\\\007\\\\033[2Jcleared\\\\n"]
timeout = "5s"
max_output = "4KiB"

[verb."needs.ok"]
summary = "Touch a marker, once the operator says so"
adapter = "exec"
argv = ["touch", ${JSON.stringify(join(c.dir, "data", "run", "approved.marker"))}]
timeout = "5s"
max_output = "4KiB"
approval = "always"
`);
  await c.startDaemon();
  ({ vendor, share } = await c.shareTo({ grant: ["tick.tock", "evil.print", "needs.ok", "echo.word"] }));
  const cmd = [...commandFor(mode, "openscope"), "share", "watch", share.id].map((a) => `'${a}'`).join(" ");
  // The shell line outlives the view so its exit code stays on the screen.
  const shell = `env OPENSCOPE_HOME='${c.home}' NO_COLOR=1 ${cmd}; echo "WATCH-EXITED:$?"; sleep 120`;
  tmux("new-session", "-d", "-s", "main", "-x", "200", "-y", "60", shell);
}, 60_000);

afterAll(async () => {
  try {
    tmux("kill-server");
  } catch {}
  await c?.stop();
});

describe("share watch on a terminal", () => {
  test("the header names the share, the recipient, whether connected and the time left; the status line shows the keys", async () => {
    const s = await screenShows(`share ${share.id} → vendor-b (agent you)`);
    expect(s).toMatch(/live, (10m|9m\d+s) left · not connected/);
    await screenShows("share opened: to vendor-b"); // the history may come a moment after the header
    await screenShows("k kill · a approve · d deny · x revoke · e +15m · q quit");
  });

  test("a running call's output appears live; k kills it and the recipient is told by whom", async () => {
    const call = callInBackground("tick.tock");
    await screenShows(/▶ [0-9a-f]{8}\.1 tick\.tock: allowed/, "the allowed call");
    // Output is on the screen while the verb still runs.
    await screenShows(/[0-9a-f]{8}\.1 │ tick 3$/m, "tick 3 streamed");
    await screenShows(/1 running \([0-9a-f]{8}\.1 /, "the running call in the status line");
    expect(call.stdout()).toContain("tick 3");
    keys("k");
    await screenShows(/→ killed [0-9a-f]{8}\.1/, "the kill");
    await screenShows(/✂ [0-9a-f]{8}\.1 tick\.tock: killed by the operator/, "the killed row");
    await screenShows(/■ [0-9a-f]{8}\.1 tick\.tock: exit .* cancelled by the operator/, "the outcome");
    expect(await call.exited).toBe(1);
    expect(call.stderr()).toContain("tick.tock was cancelled by the operator");
    const rows = await c.auditRows(share.id);
    expect(rows.filter((r) => r.verb === "tick.tock").map((r) => r.kind)).toEqual(["call.allowed", "call.killed", "call.outcome"]);
  });

  test("escape sequences in a verb's output are shown escaped, never acted on", async () => {
    const r = await vendor.call(share, "evil.print");
    expect(r.code).toBe(0);
    const s = await screenShows("cleared", "the evil output");
    expect(s).toContain("\\e]0;PWNED\\u{7}\\e[2Jcleared");
    // The view is still all there (a real clear-screen would have wiped the header).
    expect(s).toContain(`share ${share.id} → vendor-b`);
  });

  test("a waits-for-approval call is shown; a approves it and it runs", async () => {
    const call = callInBackground("needs.ok");
    await newRequest();
    keys("a");
    await screenShows(/→ approved request [0-9a-f]{8}/, "the approval");
    await screenShows(/■ [0-9a-f]{8}\.1 needs\.ok: exit 0/, "the approved call's outcome");
    expect(await call.exited).toBe(0);
  });

  test("d asks for a one-line reason: Esc cancels, typed text is sent, Enter alone sends the default; an answer from elsewhere drops it", async () => {
    const first = callInBackground("needs.ok");
    const req = await newRequest();
    keys("d");
    await screenShows(`deny request ${req} (needs.ok): reason (Enter: "denied by the operator", Esc: cancel)>`, "the reason prompt");
    keys("Escape");
    await screenShows(`request ${req} not denied; it still waits`, "the cancel");
    keys("d");
    await screenShows(`deny request ${req} (needs.ok): reason`, "the prompt again");
    // Control keys never reach the line; Backspace edits it; the status line's keys are text here.
    keys("-l", "not during the freezeX");
    keys("C-a", "BSpace");
    await screenShows(/reason \(Enter: "denied by the operator", Esc: cancel\)> not during the freeze$/m, "the typed reason");
    keys("Enter");
    await screenShows(`→ denied request ${req}: not during the freeze`, "the denial with its reason");
    await screenShows(`✘ request ${req} denied`, "the denial event");
    expect(await first.exited).toBe(3);
    expect(first.stderr()).toContain("not during the freeze");

    const second = callInBackground("needs.ok");
    const again = await newRequest();
    keys("d");
    await screenShows(`deny request ${again} (needs.ok): reason`, "the prompt for the second request");
    keys("Enter");
    await screenShows(`→ denied request ${again}: denied by the operator`, "the default reason");
    expect(await second.exited).toBe(3);
    expect(second.stderr()).toContain("denied by the operator");
    // The status line is back with its keys.
    await screenShows(/k kill · a approve · d deny · x revoke · e \+15m · q quit$/m, "the status line again");

    // Answered elsewhere while the reason is being typed: the line goes, nothing is sent.
    const third = callInBackground("needs.ok");
    const late = await newRequest();
    keys("d");
    await screenShows(`deny request ${late} (needs.ok): reason`, "the prompt for the third request");
    keys("-l", "too late");
    expect((await c.openscope(["approve", late])).code).toBe(0);
    await screenShows(`request ${late} no longer waits (see above); your reason was not sent`, "the dropped prompt");
    expect(await third.exited).toBe(0);
    await screenShows(/k kill · a approve · d deny · x revoke · e \+15m · q quit$/m, "the status line after the dropped prompt");
  });

  test("the interactive client says the call waits for approval; Ctrl-C there withdraws it", async () => {
    const client = [...commandFor(mode, "openscope-reflect-client"), "--passport", share.handle, "--fingerprint", share.fingerprint].map((x) => `'${x}'`).join(" ");
    tmux("new-session", "-d", "-s", "client", "-x", "200", "-y", "40", `env XDG_CONFIG_HOME='${vendor.configHome}' NO_COLOR=1 ${client}; sleep 120`);
    const clientScreen = () => tmux("capture-pane", "-p", "-J", "-t", "client").trimEnd();
    await waitFor(() => /openscope>$/.test(clientScreen()), "the client's prompt", 30_000);
    tmux("send-keys", "-t", "client", "-l", "needs.ok");
    tmux("send-keys", "-t", "client", "Enter");
    const waiting = await waitFor(() => /waiting for the operator's approval \(request ([0-9a-f]{8})\).*\(Ctrl-C withdraws it\)/.exec(clientScreen()), "the client's waiting line", 30_000);
    await screenShows(`⏳ request ${waiting[1]}: needs.ok waits for your approval`, "the request in the watch");
    tmux("send-keys", "-t", "client", "C-c");
    await screenShows(`✘ request ${waiting[1]} denied (cancelled)`, "the withdrawal in the watch");
    await waitFor(() => /✘ denied: needs\.ok was withdrawn before the operator answered\n\[[0-9hms]+ left\] openscope>$/.test(clientScreen()), "the client told, and its prompt back", 30_000).catch((e) => {
      throw new Error(`${(e as Error).message}\n--- client ---\n${clientScreen()}`);
    });
    tmux("kill-session", "-t", "client");
  });

  test("e extends the share by 15 minutes; x twice revokes it and the view ends", async () => {
    keys("e");
    await screenShows(`→ share ${share.id} now expires at`, "the extension");
    await screenShows(/· (1[6-9]|2[0-5])m(\d+s)? left/, "the new time left: 15 minutes more than it had");
    keys("x");
    await screenShows(`press x again to revoke share ${share.id}`);
    keys("x");
    await screenShows(`→ share ${share.id} revoked`);
    await screenShows("share revoked");
    await screenShows("WATCH-EXITED:0");
    const listed = await c.openscope(["share", "list", "--json"]);
    expect((JSON.parse(listed.stdout) as Array<{ id: string; state: string }>).find((s) => s.id === share.id)!.state).toBe("revoked");
  });
});
