// The outcome table: every refusal (each deny reason of the chokepoint and each of the session's
// own) has one wire code, one exit code and one audit reason; every wire code has one exit code;
// and a verb's end is worded one way for the call, the prompt, MCP and the audit.
import { describe, expect, test } from "bun:test";
import { DENY_REASONS } from "../../lib/capability/policy.ts";
import { ExitCode, OpenScopeError } from "../../lib/errors.ts";
import {
  APPROVAL_REFUSALS,
  AUDIT_REASONS,
  describeOutcome,
  errorFromWire,
  helloRefusedError,
  KIND_OF_WIRE_CODE,
  REFUSALS,
  refusal,
  WIRE_ERROR_CODES,
  type OutcomeWords,
  type Refusal,
} from "../../lib/wire/outcome.ts";

const SESSION_REFUSALS = ["busy", "call_id_in_use", "unreadable"] as const;
const ALL_REFUSALS: Refusal[] = [...DENY_REASONS, ...APPROVAL_REFUSALS, ...SESSION_REFUSALS];

describe("the refusal table", () => {
  test("is total over the deny reasons and the session's refusals, and names nothing else", () => {
    expect(Object.keys(REFUSALS).sort()).toEqual([...ALL_REFUSALS].sort());
  });

  test("every deny reason maps to one wire code, one exit code and itself as the audit reason", () => {
    const expected: Record<string, [string, number]> = {
      verb_not_in_passport: ["denied", 3],
      param_outside_passport: ["denied", 3],
      param_outside_grant: ["denied", 3],
      wrong_recipient: ["denied", 3],
      malformed: ["denied", 3],
      expired: ["share_over", 5],
      revoked: ["share_over", 5],
    };
    expect(Object.keys(expected).sort()).toEqual([...DENY_REASONS].sort());
    for (const reason of DENY_REASONS) {
      const r = refusal(reason);
      expect<[string, number]>([r.code, ExitCode[r.kind]]).toEqual(expected[reason]!);
      expect(r.reason).toBe(reason);
    }
  });

  test("the session's refusals: busy is retryable (4), a reused or unreadable id is malformed input (2)", () => {
    expect(refusal("busy")).toEqual({ code: "busy", reason: "busy", kind: "connection" });
    expect(refusal("call_id_in_use")).toEqual({ code: "malformed", reason: "malformed", kind: "usage" });
    expect(refusal("unreadable")).toEqual({ code: "malformed", reason: "malformed", kind: "usage" });
  });

  test("a call the operator did not approve is denied (exit 3), with the approval's own reason", () => {
    for (const why of APPROVAL_REFUSALS) expect(refusal(why)).toEqual({ code: "denied", reason: why, kind: "denied" });
  });

  test("every audit reason is one a refusal records, and every refusal records an audit reason", () => {
    const recorded = new Set(ALL_REFUSALS.map((r) => refusal(r).reason));
    expect([...recorded].sort()).toEqual([...AUDIT_REASONS].sort());
  });

  test("every wire code has one error kind, so one documented exit code", () => {
    expect(Object.keys(KIND_OF_WIRE_CODE).sort()).toEqual([...WIRE_ERROR_CODES].sort());
    const exits = Object.fromEntries(WIRE_ERROR_CODES.map((c) => [c, ExitCode[KIND_OF_WIRE_CODE[c]]]));
    expect(exits).toEqual({ denied: 3, malformed: 2, busy: 4, interrupted: 4, internal: 70, share_over: 5 });
  });

  test("a refusal's wire code read back by the client gives the refusal's exit code", () => {
    for (const why of ALL_REFUSALS) {
      const { code, kind } = refusal(why);
      const err = errorFromWire(code, "m");
      expect(err).toBeInstanceOf(OpenScopeError);
      expect(err.kind).toBe(kind);
    }
    expect(errorFromWire("denied", "lines=9000 is outside this share").message).toBe("denied: lines=9000 is outside this share");
    expect(errorFromWire("share_over", "this share has expired").message).toBe("this share has expired");
    expect(errorFromWire("internal", "the verb's runner failed").exitCode).toBe(70);
  });

  test("a refused hello is a connection failure whatever its cause", () => {
    expect(helloRefusedError("carries a passport that does not verify").exitCode).toBe(ExitCode.connection);
    expect(helloRefusedError("does not match its key").message).toBe("the daemon's hello does not match its key; refusing");
  });
});

describe("describeOutcome", () => {
  const end = { exitCode: null, signal: null, timedOut: false, cancelled: false };
  const cases: Array<[string, Parameters<typeof describeOutcome>[0], OutcomeWords]> = [
    ["success", { ...end, exitCode: 0 }, { ok: true, how: "exit", phrase: "exit code 0", clause: "exited with code 0" }],
    ["its own failure", { ...end, exitCode: 7 }, { ok: false, how: "exit", phrase: "exit code 7", clause: "exited with code 7" }],
    ["its timeout", { ...end, signal: "SIGTERM", timedOut: true }, { ok: false, how: "timed_out", phrase: "timed out", clause: "timed out" }],
    ["a cancel", { ...end, signal: "SIGTERM", cancelled: true }, { ok: false, how: "cancelled", phrase: "cancelled", clause: "was cancelled" }],
    ["a signal", { ...end, signal: "SIGKILL" }, { ok: false, how: "signal", phrase: "killed by SIGKILL", clause: "was killed by SIGKILL" }],
    ["a cancelled verb that exited non-zero", { ...end, exitCode: 143, cancelled: true }, { ok: false, how: "cancelled", phrase: "cancelled", clause: "was cancelled" }],
  ];
  for (const [label, r, words] of cases) test(label, () => expect(describeOutcome(r)).toEqual(words));
});
