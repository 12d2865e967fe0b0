import { describe, expect, test } from "bun:test";
import { ApprovalBook, approvalNeeded, checkDenyReason, checkRequestId, requestIdFromBytes } from "../../lib/share/approval.ts";
import { OpenScopeError } from "../../lib/errors.ts";

const call = { shareId: "aaaaaaaaaaaa", agent: "you", callId: "t.1", verb: "ssh.restart_service", params: { service: "web" } };

function ids(...list: string[]): () => string {
  return () => list.shift() ?? "ffffffff";
}

describe("approval book", () => {
  test("a request binds the exact verb and params, frozen", () => {
    const book = new ApprovalBook();
    const params = { service: "web" };
    const r = book.open({ ...call, params }, 1000, 5000, ids("0000abcd"));
    params.service = "api"; // the caller's object changing later changes nothing
    expect(r).toMatchObject({ id: "0000abcd", verb: "ssh.restart_service", params: { service: "web" }, requestedAt: 1000, expiresAt: 6000 });
    expect(Object.isFrozen(r.params)).toBe(true);
    expect(() => ((r.params as Record<string, string>).service = "api")).toThrow();
  });

  test("an answer counts once: settle returns the request, then undefined", () => {
    const book = new ApprovalBook();
    const r = book.open(call, 0, 10, ids("00000001"));
    expect(book.settle(r.id)).toBe(r);
    expect(book.settle(r.id)).toBeUndefined();
    expect(book.size).toBe(0);
  });

  test("an id already pending is drawn again", () => {
    const book = new ApprovalBook();
    book.open(call, 0, 10, ids("00000001"));
    const r = book.open({ ...call, callId: "t.2" }, 0, 10, ids("00000001", "00000002"));
    expect(r.id).toBe("00000002");
  });

  test("list is oldest first and filters by share; due finds timed-out requests; ofCall finds the call's", () => {
    const book = new ApprovalBook();
    const a = book.open(call, 200, 100, ids("0000000a"));
    const b = book.open({ ...call, shareId: "bbbbbbbbbbbb", callId: "u.1" }, 100, 1000, ids("0000000b"));
    expect(book.list().map((r) => r.id)).toEqual([b.id, a.id]);
    expect(book.list("aaaaaaaaaaaa").map((r) => r.id)).toEqual([a.id]);
    // Opened in the same millisecond: the order they were opened in, whatever their ids.
    const tie = new ApprovalBook();
    const first = tie.open(call, 7, 10, ids("ffffffff"));
    const second = tie.open({ ...call, callId: "t.9" }, 7, 10, ids("00000000"));
    expect(tie.list().map((r) => r.id)).toEqual([first.id, second.id]);
    expect(book.due(299)).toEqual([]);
    expect(book.due(300).map((r) => r.id)).toEqual([a.id]);
    expect(book.ofCall("bbbbbbbbbbbb", "u.1")).toBe(b);
    expect(book.ofCall("aaaaaaaaaaaa", "u.1")).toBeUndefined();
  });
});

describe("approval rules", () => {
  test("needed when the catalog says always or the passport lists the verb", () => {
    expect(approvalNeeded("a.b", undefined, undefined)).toBe(false);
    expect(approvalNeeded("a.b", undefined, ["c.d"])).toBe(false);
    expect(approvalNeeded("a.b", "always", undefined)).toBe(true);
    expect(approvalNeeded("a.b", undefined, ["a.b"])).toBe(true);
  });

  test("request ids are 8 hex characters", () => {
    expect(requestIdFromBytes(new Uint8Array([0, 1, 0xab, 0xff]))).toBe("0001abff");
    expect(() => requestIdFromBytes(new Uint8Array(3))).toThrow();
    expect(checkRequestId("0001abff")).toBe("0001abff");
    for (const bad of [undefined, "", "0001ABFF", "0001abf", "0001abff0", "../x"]) {
      expect(() => checkRequestId(bad)).toThrow(OpenScopeError);
    }
  });

  test("a deny reason is printable text, trimmed, at most 200 characters", () => {
    expect(checkDenyReason("  not during the freeze ")).toBe("not during the freeze");
    for (const bad of ["", "   ", "x".repeat(201), "a\x1b[31mb", "line\nbreak", "bell\x07"]) {
      expect(() => checkDenyReason(bad)).toThrow(OpenScopeError);
    }
  });
});
