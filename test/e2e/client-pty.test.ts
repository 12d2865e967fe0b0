// The interactive prompt of the compiled client driven through a real terminal (tmux): the
// person types the verification code they heard (a wrong one is refused without showing the
// right one), the passport card, `list`, a call whose output appears, a long call
// cancelled with Ctrl-C (the daemon kills the verb and audits it cancelled, the prompt returns),
// a live countdown and an extension notice, tab completion of verb names and enum values, Ctrl-C
// on a typed line and on an empty one. The screen is read with capture-pane, polled with deadlines.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Cluster, commandFor, type OpenedShare, type Recipient } from "../helpers/cluster.ts";
import { waitFor } from "../helpers/spawn.ts";
import { pidsUnder } from "../helpers/procs.ts";
import { terminal } from "../helpers/tmux.ts";

setDefaultTimeout(60_000);

let c: Cluster;
let vendor: Recipient;
let share: OpenedShare;
const { tmux, screen, keys, typeText, screenShows } = terminal("pty");
const count = (s: string, needle: string) => s.split(needle).length - 1;

beforeAll(async () => {
  c = await Cluster.start("binary");
  const g = await c.openscope(["grant", "add", "--agent", "you", "--verb", "echo.word", "--verb", "slow.sleep", "--verb", "ssh.restart_service"]);
  expect(g.code).toBe(0);
  vendor = c.recipient("vendor");
  expect((await c.openscope(["recipients", "add", "vendor-b", await vendor.keygen()])).code).toBe(0);
  share = await c.openShare(["--agent", "you", "--verb", "echo.word", "--verb", "slow.sleep", "--verb", "ssh.restart_service:service=web|api", "--to", "vendor-b", "--ttl", "10m"]);
  const cmd = [...commandFor("binary", "openscope-reflect-client"), "--passport", share.handle].map((a) => `'${a}'`).join(" ");
  // The shell line outlives the client so its exit code stays on the screen.
  const shell = `env XDG_CONFIG_HOME='${vendor.configHome}' NO_COLOR=1 ${cmd}; echo "CLIENT-EXITED:$?"; sleep 120`;
  tmux("new-session", "-d", "-s", "main", "-x", "200", "-y", "60", shell);
}, 60_000);

afterAll(async () => {
  try {
    tmux("kill-server");
  } catch {}
  await c?.stop();
});

describe("the interactive prompt in a terminal", () => {
  test("asks for the code the operator read; a wrong one is refused, the right one shows the passport card", async () => {
    const s = await screenShows("Type the code you heard");
    // The client never shows the value it expects: the person must have heard it.
    expect(s).not.toContain(share.fingerprint);
    expect(s).not.toContain(share.code);
    typeText("00000-00000-00000-00000-00000-0");
    keys("Enter");
    const after = await screenShows("That code does not match this handle's daemon.");
    expect(after).not.toContain(share.code);
    // Typed as people do: lowercase, with spaces for the hyphens.
    typeText(share.code.toLowerCase().replaceAll("-", " "));
    keys("Enter");
    const card = await screenShows(/\[[0-9hms]+ left\] openscope>$/, "the prompt with a countdown");
    // The checked fingerprint comes first, on its own line, before any text the daemon chose.
    expect(card).toMatch(new RegExp(`^daemon ${share.fingerprint.replace(/[+/]/g, "\\$&")} \\(verified\\)$`, "m"));
    expect(card.indexOf(`daemon ${share.fingerprint}`)).toBeLessThan(card.indexOf("Passport from you"));
    expect(card).toContain("Passport from you");
    expect(card).toMatch(/ssh\.restart_service — service: (web or api|api or web)/);
    expect(card).toContain("Every call is recorded.");
    expect(card).toContain("verbs you may call:");
    // The confirmation is remembered for next time.
    expect(readFileSync(join(vendor.configHome, "openscope", "known_daemons"), "utf8")).toContain(share.fingerprint);
  });

  test("list shows the verbs again", async () => {
    const before = count(screen(), "verbs you may call:");
    typeText("list");
    keys("Enter");
    await waitFor(() => count(screen(), "verbs you may call:") === before + 1, "a second verb list");
    expect(screen()).toContain("slow.sleep seconds 0..120");
  });

  test("the countdown ticks on an idle prompt and keeps what was typed", async () => {
    const lastPrompt = () => /\[([0-9hms]+) left\] openscope>[^\n]*$/.exec(screen())?.[1];
    const first = lastPrompt();
    expect(first).toBeDefined();
    typeText("echo.wo");
    await waitFor(() => {
      const now = lastPrompt();
      return now !== undefined && now !== first;
    }, "the prompt's time left to change on its own");
    expect(screen()).toMatch(/openscope> echo\.wo$/);
    keys("C-u");
    await screenShows(/openscope>$/, "the cleared line");
  });

  test("an extension by the operator is announced and the countdown follows it", async () => {
    expect((await c.openscope(["share", "extend", share.id, "--ttl", "20m"])).code).toBe(0);
    await screenShows(/the operator changed the share's expiry: (20m\d*s?|19m\d+s) left/, "the extension notice");
    await screenShows(/\[(20m\d*s?|19m\d+s) left\] openscope>$/, "the prompt with the new time left");
  });

  test("a call's output appears, then the done line and the prompt", async () => {
    typeText("echo.word word=ptyhello");
    keys("Enter");
    const s = await screenShows("✔ echo.word done");
    expect(s).toMatch(/^ptyhello$/m);
    await screenShows(/✔ echo\.word done.*\n\[[0-9hms]+ left\] openscope>$/, "the prompt after the call");
  });

  test("Ctrl-C cancels a long call on the daemon; the prompt comes back", async () => {
    typeText("slow.sleep seconds=117");
    keys("Enter");
    await waitFor(() => pidsUnder(c.daemon!.proc.pid, "sleep 117").length > 0, "the verb to run on the daemon's side");
    keys("C-c");
    await screenShows("cancelling…");
    const s = await screenShows("✘ slow.sleep: cancelled");
    expect(s).toMatch(/✘ slow\.sleep: cancelled\n\[[0-9hms]+ left\] openscope>$/);
    await waitFor(() => pidsUnder(c.daemon!.proc.pid, "sleep 117").length === 0, "the daemon to kill the verb");
    const rows = await waitFor(async () => {
      const r = (await c.auditRows(share.id)).filter((x) => x.verb === "slow.sleep");
      return r.some((x) => x.kind === "call.outcome") ? r : undefined;
    }, "the outcome row");
    expect(rows.map((r) => r.kind)).toEqual(["call.allowed", "call.outcome"]);
    expect(String(rows[1]!.detail)).toContain("cancelled");
    expect(rows[1]!.exitCode).not.toBe(0);
    // The client is still connected: the next call works.
    typeText("echo.word word=aftercancel");
    keys("Enter");
    await screenShows(/^aftercancel$/m, "output after the cancel");
  });

  test("tab completes a verb name, then an enum value", async () => {
    typeText("echo.w");
    keys("Tab");
    await screenShows(/openscope> echo\.word$/, "the completed verb name");
    typeText("word=tabbed");
    keys("Enter");
    await screenShows(/^tabbed$/m, "the completed call's output");
    typeText("ssh.restart_service service=a");
    keys("Tab");
    await screenShows(/openscope> ssh\.restart_service service=api$/, "the completed enum value");
    keys("Enter");
    await screenShows("✔ ssh.restart_service done");
    expect(existsSync(join(c.dir, "data", "run", "api.restarted"))).toBe(true);
  });

  test("Ctrl-C drops a half-typed line and keeps the session", async () => {
    typeText("echo.word word=never");
    await screenShows(/openscope> echo\.word word=never$/, "the typed line");
    keys("C-c");
    await screenShows(/echo\.word word=never\^C\n\[[0-9hms]+ left\] openscope>$/, "a fresh prompt");
    typeText("echo.word word=fresh");
    keys("Enter");
    await screenShows(/^fresh$/m, "the next call's output");
    expect(screen()).not.toMatch(/^never$/m);
  });

  test("Ctrl-C on an empty line disconnects with exit 0 (quit and Ctrl-D do too)", async () => {
    await screenShows(/openscope>$/, "an empty prompt");
    keys("C-c");
    await screenShows("CLIENT-EXITED:0");
  });
});

describe("the code question in a terminal", () => {
  test("Ctrl-C at the question leaves at once with exit 130, nothing remembered", async () => {
    // The vendor's key on a second machine that has never seen this daemon.
    const newcomer = c.recipient("newcomer");
    mkdirSync(join(newcomer.configHome, "openscope"), { recursive: true });
    copyFileSync(join(vendor.configHome, "openscope", "recipient.key"), join(newcomer.configHome, "openscope", "recipient.key"));
    const cmd = [...commandFor("binary", "openscope-reflect-client"), "--passport", share.handle].map((a) => `'${a}'`).join(" ");
    tmux("new-session", "-d", "-s", "code", "-x", "200", "-y", "30", `env XDG_CONFIG_HOME='${newcomer.configHome}' NO_COLOR=1 ${cmd}; echo "CODE-CLIENT-EXITED:$?"; sleep 120`);
    const codeScreen = () => tmux("capture-pane", "-p", "-J", "-t", "code").trimEnd();
    await waitFor(() => codeScreen().includes("Type the code you heard"), "the code question");
    tmux("send-keys", "-t", "code", "C-c");
    await waitFor(() => codeScreen().includes("CODE-CLIENT-EXITED:130"), "the client to exit 130 on Ctrl-C");
    expect(existsSync(join(newcomer.configHome, "openscope", "known_daemons"))).toBe(false);
  });
});
