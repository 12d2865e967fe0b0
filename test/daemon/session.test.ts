// The daemon's session in process (lib/daemon/session.ts), driven by a real Noise initiator and a
// real audit store: a call's intent row is committed, and visible to another connection, before
// the verb starts; a denied call runs nothing; the outcome row follows the intent (SPEC.md §15).
// Mutation testing (issue 22) found that an intent written after the verb started survived every
// tier: end-to-end runs cannot see the order, so the verb here reads the store the moment it starts.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { parseCatalog } from "../../lib/capability/catalog.ts";
import { grantVerbsFromSpecs, type GrantVerbs } from "../../lib/capability/grant.ts";
import { buildPassport, ridHashOf, signPassport } from "../../lib/capability/passport.ts";
import { parseVerbSpec } from "../../lib/capability/verbspec.ts";
import { fromBase64url, toBase64url } from "../../lib/bytes.ts";
import { DaemonSession, type SessionHost } from "../../lib/daemon/session.ts";
import { startVerb, type RunningVerb } from "../../lib/exec/process.ts";
import { AuditLog, type AuditRow } from "../../lib/store/audit.ts";
import { Store } from "../../lib/store/store.ts";
import { buildPrologue, startInitiator, type Channel } from "../../lib/wire/channel.ts";
import { decodeDaemonMessage, encodeMessage, MAX_CONTROL_MESSAGE_BYTES } from "../../lib/wire/rpc.ts";
import { waitFor } from "../helpers/spawn.ts";
import { ApprovalDesk } from "../../lib/daemon/approvals.ts";
import type { ShareState } from "../../lib/capability/policy.ts";

const NOW = 1_790_000_000_000;
const MIN = 60_000;
const catalog = parseCatalog(`
[verb."echo.word"]
summary = "Echo one word back"
adapter = "exec"
argv = ["echo", "{word}"]
timeout = "5s"
max_output = "4KiB"
params.word = { pattern = "^[a-z0-9]{1,32}$" }
`);
const grant = grantVerbsFromSpecs(catalog, [parseVerbSpec("echo.word")]);

interface Rig {
  session: DaemonSession;
  client: Channel;
  /** Messages the client decoded so far (chunks included). */
  received: Array<Record<string, unknown>>;
  /** For each verb start: the audit rows another connection could read at that moment. */
  seenAtStart: AuditRow[][];
  started: string[];
  send(msg: unknown): void;
}

let dir: string;
let store: Store;
let reader: Store;
let audit: AuditLog;
const cleanups: Array<() => void> = [];
const runs: RunningVerb[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "openscope-session-"));
  store = Store.open(join(dir, "openscope.db"));
  reader = Store.open(join(dir, "openscope.db")); // another connection: sees committed rows only
  audit = new AuditLog(store, () => NOW);
});
afterEach(async () => {
  for (const c of cleanups.splice(0)) c();
  // a cancelled verb's runner audits its outcome when it ends: let it, before the store closes
  await Promise.allSettled(runs.splice(0).map((r) => r.done));
  await Bun.sleep(0);
  reader.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * argv: what the verb runs (default: echo the word). desk: calls wait for the operator's approval
 * there (SPEC.md §17.2); state: the share's state as the chokepoint reads it; groupCommit: the
 * host group-commits the audit (AuditLog.appendSoon), as the daemon does.
 */
function rig(opts: { argv?: (params: Record<string, string>) => string[]; desk?: ApprovalDesk; state?: () => ShareState; groupCommit?: boolean; grant?: () => { id: string; verbs: GrantVerbs } | undefined } = {}): Rig {
  const daemonStatic = x25519.utils.randomSecretKey();
  const clientStatic = x25519.utils.randomSecretKey();
  const signKey = ed25519.utils.randomSecretKey();
  const psk = crypto.getRandomValues(new Uint8Array(32));
  const rid = toBase64url(crypto.getRandomValues(new Uint8Array(16)));
  const prologue = buildPrologue(rid, "127.0.0.1:1");
  const clientKey = toBase64url(x25519.getPublicKey(clientStatic));
  const passport = signPassport(
    buildPassport({
      id: toBase64url(new Uint8Array(16).fill(5)),
      shareId: "5a5a5a5a5a5a",
      ridHash: ridHashOf(fromBase64url(rid)),
      principal: "you",
      daemonKeyId: "fp",
      recipient: { kind: "key", publicKey: clientKey },
      verbs: grant,
      now: NOW,
      ttlMs: 30 * MIN,
      grantId: "g1",
      grantRevision: 1,
    }),
    signKey,
  );
  const toClient: Uint8Array[] = [];
  const seenAtStart: AuditRow[][] = [];
  const started: string[] = [];
  const host: SessionHost = {
    shareId: "5a5a5a5a5a5a",
    rid,
    agent: "you",
    recipientKey: clientKey,
    psk,
    prologue,
    daemonPrivateKey: daemonStatic,
    signPublicKey: ed25519.getPublicKey(signKey),
    fingerprint: "SHA256:test",
    daemonName: "test",
    passport: () => passport,
    shareState: opts.state ?? (() => ({ state: "live", expiresAt: NOW + 30 * MIN })),
    currentGrant: opts.grant ?? (() => ({ id: "g1", verbs: grant })),
    catalog: () => catalog,
    audit: (e) => void audit.append(e),
    ...(opts.groupCommit ? { auditDurable: (e) => audit.appendSoon(e) } : {}),
    runVerb(verb, params, onOutput): RunningVerb {
      // The verb's first act: read the audit store through its own connection.
      seenAtStart.push(new AuditLog(reader).list());
      started.push(verb);
      const run = startVerb({ argv: opts.argv?.(params) ?? ["echo", params.word!], timeoutMs: 5_000, maxOutputBytes: 4096 }, onOutput);
      runs.push(run);
      return run;
    },
    send: (w) => void toClient.push(w),
    bufferedAmount: () => 0,
    evict: () => {},
    now: () => NOW + MIN,
    log: () => {},
    ...(opts.desk
      ? {
          requestApproval: (call: { callId: string; verb: string; params: Record<string, string> }) => opts.desk!.request({ shareId: "5a5a5a5a5a5a", agent: "you", ...call }),
          withdrawApproval: (callId: string, why: "cancelled" | "disconnected" | "killed") => opts.desk!.withdraw("5a5a5a5a5a5a", callId, why),
        }
      : {}),
  };
  const session = new DaemonSession(host);
  const init = startInitiator({ daemonPublicKey: x25519.getPublicKey(daemonStatic), clientPrivateKey: clientStatic, psk, prologue });
  session.onFrame(init.message1);
  const client = init.finish(toClient.shift()!);
  const received: Array<Record<string, unknown>> = [];
  const pump = () => {
    for (const w of toClient.splice(0)) {
      const { payloads, out } = client.receive(w);
      for (const o of out) session.onFrame(o);
      for (const p of payloads) received.push(decodeDaemonMessage(p) as unknown as Record<string, unknown>);
    }
  };
  pump();
  const r: Rig = {
    session,
    client,
    received,
    seenAtStart,
    started,
    send(msg) {
      for (const w of client.write(encodeMessage(msg as never))) session.onFrame(w);
      pump();
    },
  };
  // later output arrives from the verb's process: keep pumping
  const timer = setInterval(pump, 5);
  cleanups.push(() => {
    clearInterval(timer);
    session.close("test over");
  });
  return r;
}

describe("daemon session: the audit comes first", () => {
  test("the call.allowed row is committed before the verb starts", async () => {
    const r = rig();
    expect(r.received[0]).toMatchObject({ type: "hello" });
    r.send({ type: "call", id: 1, verb: "echo.word", params: { word: "hello" } });
    expect(r.started).toEqual(["echo.word"]);
    const atStart = r.seenAtStart[0]!;
    const intent = atStart.filter((x) => x.kind === "call.allowed");
    expect(intent).toHaveLength(1);
    expect(intent[0]).toMatchObject({ shareId: "5a5a5a5a5a5a", agent: "you", verb: "echo.word", params: { word: "hello" } });
    expect(atStart.some((x) => x.kind === "call.outcome")).toBe(false);
    await waitFor(() => r.received.some((m) => m.type === "result"), "the result");
    const rows = audit.list().filter((x) => x.callId === intent[0]!.callId);
    expect(rows.map((x) => x.kind)).toEqual(["call.allowed", "call.outcome"]);
    expect(rows[1]).toMatchObject({ exitCode: 0, bytesOut: 6 });
    expect(audit.verify()).toMatchObject({ ok: true });
  });

  test("the client hears 'started' only after the intent is on record", () => {
    const r = rig();
    r.send({ type: "call", id: 1, verb: "echo.word", params: { word: "abc" } });
    const started = r.received.find((m) => m.type === "started");
    expect(started).toMatchObject({ id: 1, params: { word: "abc" } });
    expect(new AuditLog(reader).list().some((x) => x.kind === "call.allowed")).toBe(true);
  });

  test("a denied call is audited with its reason and runs nothing", () => {
    const r = rig();
    r.send({ type: "call", id: 1, verb: "echo.word", params: { word: "NOT ok" } });
    expect(r.started).toEqual([]);
    expect(r.received.find((m) => m.type === "error")).toMatchObject({ id: 1, code: "denied", reason: "param_outside_passport" });
    const rows = new AuditLog(reader).list();
    expect(rows.map((x) => x.kind)).toEqual(["share.connected", "call.denied"]);
    expect(rows[1]).toMatchObject({ reason: "param_outside_passport", verb: "echo.word" });
  });

  test("a second call with a running call's id is refused and runs nothing", () => {
    const r = rig();
    r.send({ type: "call", id: 1, verb: "echo.word", params: { word: "one" } });
    r.send({ type: "call", id: 1, verb: "echo.word", params: { word: "two" } });
    expect(r.started).toEqual(["echo.word"]);
    expect(r.received.filter((m) => m.type === "error")).toEqual([
      { type: "error", id: 1, code: "malformed", reason: "malformed", message: "call id already in use" },
    ]);
  });
});

describe("daemon session: group commit", () => {
  test("calls of one tick: their intents commit together, and only then do their verbs start", async () => {
    const r = rig({ groupCommit: true });
    r.send({ type: "call", id: 1, verb: "echo.word", params: { word: "one" } });
    r.send({ type: "call", id: 2, verb: "echo.word", params: { word: "two" } });
    expect(r.started).toEqual([]); // nothing runs before its intent is durable
    expect(r.received.some((m) => m.type === "started")).toBe(false);
    await waitFor(() => r.received.filter((m) => m.type === "result").length === 2, "both results");
    // at each verb's start another connection already read both intents: one batch
    for (const seen of r.seenAtStart) expect(seen.filter((x) => x.kind === "call.allowed").map((x) => x.params?.word)).toEqual(["one", "two"]);
    const rows = audit.list();
    expect(rows.filter((x) => x.kind === "call.outcome")).toHaveLength(2);
    expect(audit.verify()).toMatchObject({ ok: true });
  });

  test("a result reaches the client only once its outcome row is durable", async () => {
    const r = rig({ groupCommit: true });
    r.send({ type: "call", id: 1, verb: "echo.word", params: { word: "abc" } });
    await waitFor(() => r.received.some((m) => m.type === "result"), "the result");
    expect(new AuditLog(reader).list().some((x) => x.kind === "call.outcome")).toBe(true);
  });

  test("the fifth call while four intents are committing is refused as busy; a reused id as in use", async () => {
    const r = rig({ groupCommit: true });
    for (let id = 1; id <= 4; id++) r.send({ type: "call", id, verb: "echo.word", params: { word: `w${id}` } });
    r.send({ type: "call", id: 5, verb: "echo.word", params: { word: "w5" } });
    r.send({ type: "call", id: 1, verb: "echo.word", params: { word: "again" } });
    // Refusals are answered once their rows are durable (this tick's group commit).
    const errors = await waitFor(() => {
      const e = r.received.filter((m) => m.type === "error");
      return e.length >= 2 ? e : undefined;
    }, "two refusals");
    expect(errors.map((e) => [e.id, e.code])).toEqual([
      [5, "busy"],
      [1, "malformed"],
    ]);
    await waitFor(() => r.received.filter((m) => m.type === "result").length === 4, "four results");
    expect(r.started).toHaveLength(4);
  });
});

describe("daemon session: a cancelled call keeps its reason", () => {
  const outcomeOf = (r: Rig) =>
    waitFor(() => audit.list().find((x) => x.kind === "call.outcome"), "the outcome row").then((row) => {
      expect(r.started).toEqual(["echo.word"]);
      return row;
    });

  test("cancelled by the recipient", async () => {
    const r = rig({ argv: () => ["sleep", "30"] });
    r.send({ type: "call", id: 1, verb: "echo.word", params: { word: "x" } });
    r.send({ type: "cancel", id: 1 });
    expect((await outcomeOf(r)).detail).toBe("cancelled (by the recipient)");
    await waitFor(() => r.received.some((m) => m.type === "result"), "the result");
    expect(r.received.find((m) => m.type === "result")).toMatchObject({ id: 1, cancelled: true });
  });

  test("cancelled because the session ended", async () => {
    const r = rig({ argv: () => ["sleep", "30"] });
    r.send({ type: "call", id: 1, verb: "echo.word", params: { word: "x" } });
    r.session.close("recipient left");
    expect((await outcomeOf(r)).detail).toBe("cancelled (recipient left), session ended");
  });
});

describe("daemon session: a call that needs approval (SPEC.md §17.2)", () => {
  const desk = () => new ApprovalDesk({ audit: (e) => void audit.append(e), timeoutMs: () => 60_000, now: () => NOW + MIN });

  test("waits with nothing run and no intent row; approved, it runs exactly the requested params", async () => {
    const d = desk();
    const r = rig({ desk: d });
    r.send({ type: "call", id: 1, verb: "echo.word", params: { word: "asked" } });
    const pending = r.received.find((m) => m.type === "pending");
    expect(pending).toMatchObject({ id: 1, timeoutMs: 60_000 });
    expect(r.started).toEqual([]);
    expect(audit.list().map((x) => x.kind)).toEqual(["share.connected", "approval.requested"]);
    const [req] = d.list();
    expect(req).toMatchObject({ id: pending!.request, verb: "echo.word", params: { word: "asked" } });
    d.approve(req!.id);
    await waitFor(() => r.received.some((m) => m.type === "result"), "the result");
    expect(r.started).toEqual(["echo.word"]);
    expect(r.received.find((m) => m.type === "started")).toMatchObject({ id: 1, params: { word: "asked" } });
    expect(r.seenAtStart[0]!.map((x) => x.kind)).toEqual(["share.connected", "approval.requested", "approval.approved", "call.allowed"]);
    expect(r.received.filter((m) => m.type === "chunk").map((m) => new TextDecoder().decode(m.data as Uint8Array)).join("")).toBe("asked\n");
    d.shutdown();
  });

  test("a share revoked while the call waited: the approval does not run it", async () => {
    const d = desk();
    let state: ShareState = { state: "live", expiresAt: NOW + 30 * MIN };
    const r = rig({ desk: d, state: () => state });
    r.send({ type: "call", id: 1, verb: "echo.word", params: { word: "late" } });
    state = { state: "revoked", expiresAt: NOW + 30 * MIN };
    d.approve(d.list()[0]!.id);
    await waitFor(() => r.received.some((m) => m.type === "error"), "the refusal");
    expect(r.received.find((m) => m.type === "error")).toMatchObject({ id: 1, code: "share_over", reason: "revoked" });
    expect(r.started).toEqual([]);
    expect(audit.list().some((x) => x.kind === "call.allowed")).toBe(false);
  });

  test("denied, it answers the operator's reason and runs nothing; a waiting call counts toward the limit", async () => {
    const d = desk();
    const r = rig({ desk: d });
    for (let id = 1; id <= 5; id++) r.send({ type: "call", id, verb: "echo.word", params: { word: `w${id}` } });
    expect(r.received.filter((m) => m.type === "pending")).toHaveLength(4);
    expect(r.received.find((m) => m.type === "error")).toMatchObject({ id: 5, code: "busy" });
    d.deny(d.list().find((q) => q.params.word === "w1")!.id, "not now");
    await waitFor(() => r.received.some((m) => m.type === "error" && m.id === 1), "the denial");
    expect(r.received.find((m) => m.type === "error" && m.id === 1)).toMatchObject({ code: "denied", reason: "operator", message: "the operator denied echo.word: not now" });
    // The recipient cancels a waiting call: it is withdrawn, answered, and nothing runs.
    r.send({ type: "cancel", id: 2 });
    await waitFor(() => r.received.some((m) => m.type === "error" && m.id === 2), "the withdrawal");
    expect(r.received.find((m) => m.type === "error" && m.id === 2)).toMatchObject({ code: "denied", reason: "cancelled" });
    expect(r.started).toEqual([]);
    expect(d.list()).toHaveLength(2);
    d.shutdown();
  });

  test("the operator kills a running call: audited first, the result says by whom", async () => {
    const r = rig({ argv: () => ["sleep", "30"] });
    r.send({ type: "call", id: 1, verb: "echo.word", params: { word: "x" } });
    const killed = r.session.kill();
    expect(killed).toHaveLength(1);
    expect(r.session.kill(killed[0])).toEqual([]); // once
    await waitFor(() => r.received.some((m) => m.type === "result"), "the result");
    expect(r.received.find((m) => m.type === "result")).toMatchObject({ id: 1, cancelled: true, cancelledBy: "operator" });
    const rows = audit.list().filter((x) => x.callId === killed[0]);
    expect(rows.map((x) => x.kind)).toEqual(["call.allowed", "call.killed", "call.outcome"]);
    expect(rows[2]!.detail).toBe("cancelled by the operator (share kill)");
  });
});

// THREAT-MODEL.md: the daemon reassembles at most the RPC limit of one recipient message.
describe("daemon session: a recipient message is capped at the RPC limit", () => {
  const sendRaw = (r: Rig, payload: Uint8Array) => {
    for (const w of r.client.write(payload)) r.session.onFrame(w);
  };

  test("a message just under the limit is answered; one over it ends the session, audited", async () => {
    const r = rig();
    sendRaw(r, new TextEncoder().encode(`{"type":"list","id":1,"x":"${"y".repeat(MAX_CONTROL_MESSAGE_BYTES - 100)}"}`));
    await waitFor(() => r.received.some((m) => m.type === "error"), "the malformed answer");
    expect(r.session.established).toBe(true);

    sendRaw(r, new Uint8Array(MAX_CONTROL_MESSAGE_BYTES + 1).fill(0x20));
    // Records may be opened asynchronously (the bulk cipher): wait for the session to end.
    await waitFor(() => !r.session.established, "the session to end");
    const rows = audit.list().filter((x) => x.kind === "share.disconnected");
    expect(rows.map((x) => x.detail)).toEqual(["channel: record rejected"]);
  });
});

// THREAT-MODEL.md: a running verb does not outlive the grant that admitted it (SPEC.md §15.4).
describe("daemon session: a grant change decides the running calls again", () => {
  test("a call the new grant does not admit ends, audited first with why; unchanged, it goes on", async () => {
    let current: { id: string; verbs: GrantVerbs } | undefined = { id: "g1", verbs: grant };
    const r = rig({ argv: () => ["sleep", "30"], grant: () => current });
    r.send({ type: "call", id: 1, verb: "echo.word", params: { word: "x" } });
    expect(r.started).toEqual(["echo.word"]);
    // Still admitted: nothing ends.
    expect(r.session.recheckGrant()).toEqual([]);
    // Narrowed: the word no longer matches.
    current = { id: "g1", verbs: { "echo.word": { word: { kind: "enum", values: ["y"] } } } };
    const ended = r.session.recheckGrant();
    expect(ended).toHaveLength(1);
    expect(r.session.recheckGrant()).toEqual([]); // once
    const result = await waitFor(() => r.received.find((m) => m.type === "result"), "the result");
    expect(result).toMatchObject({ cancelled: true, cancelledBy: "operator" });
    const rows = await waitFor(() => {
      const rows = audit.list().filter((x) => x.callId === ended[0]);
      return rows.some((x) => x.kind === "call.outcome") ? rows : undefined;
    }, "the outcome row");
    expect(rows.map((x) => x.kind)).toEqual(["call.allowed", "call.killed", "call.outcome"]);
    expect(rows[1]!.detail).toBe("the grant changed: word=x is no longer allowed by the operator");
    expect(rows[2]!.detail).toContain("the grant changed");
  });

  test("a grant replaced (revoked, then granted again: a new id) ends the call", async () => {
    let current: { id: string; verbs: GrantVerbs } | undefined = { id: "g1", verbs: grant };
    const r = rig({ argv: () => ["sleep", "30"], grant: () => current });
    r.send({ type: "call", id: 1, verb: "echo.word", params: { word: "x" } });
    current = { id: "g2", verbs: grant };
    expect(r.session.recheckGrant()).toHaveLength(1);
    await waitFor(() => r.received.find((m) => m.type === "result"), "the result");
    const killed = audit.list().find((x) => x.kind === "call.killed");
    expect(killed?.detail).toBe("the grant changed: this share's grant was replaced by the operator; ask for a new share");
  });
});
