import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { droppedEvent, encodeWatchLine, outputBytes, outputEvent, parseWatchLine, WatchBuffer } from "../../lib/share/watch.ts";
import { OpenScopeError } from "../../lib/errors.ts";

const notice = (n: number) => encodeWatchLine(droppedEvent(0, n));

describe("watch events", () => {
  test("valid UTF-8 output travels as text, anything else as base64; both give back the exact bytes", () => {
    const text = outputEvent(5, "s", "t.1", "stdout", new TextEncoder().encode("héllo\x1b[2J\n"));
    expect(text).toMatchObject({ kind: "call.output", encoding: "utf8", data: "héllo\x1b[2J\n", stream: "stdout", callId: "t.1" });
    const bin = new Uint8Array([0xff, 0x00, 0xc3]);
    const b = outputEvent(5, "s", "t.1", "stderr", bin);
    expect(b).toMatchObject({ encoding: "base64", data: "/wDD" });
    for (const ev of [text, b]) {
      const again = parseWatchLine(encodeWatchLine(ev).trimEnd());
      expect(outputBytes(again)).toEqual(ev === b ? bin : new TextEncoder().encode("héllo\x1b[2J\n"));
    }
  });

  test("a damaged line is a usage error, not a crash", () => {
    for (const bad of ["", "{", "[]", '{"kind":"x","at":1}', '{"kind":"a.b"}', '{"kind":"a.b","at":"1"}']) {
      expect(() => parseWatchLine(bad)).toThrow(OpenScopeError);
    }
    expect(parseWatchLine('{"kind":"call.allowed","at":1,"extra":true}').extra).toBe(true);
  });
});

describe("watch buffer", () => {
  test("never holds more than its capacity; the gap is reported once, in place", () => {
    const buf = new WatchBuffer(30, notice);
    expect(buf.push("a".repeat(20))).toBe(true);
    expect(buf.push("b".repeat(20))).toBe(false);
    expect(buf.push("c".repeat(20))).toBe(false);
    expect(buf.queuedBytes).toBe(20);
    expect(buf.take()).toBe("a".repeat(20));
    expect(buf.push("d".repeat(5))).toBe(true);
    expect(buf.take()).toBe(notice(2));
    expect(buf.take()).toBe("d".repeat(5));
    expect(buf.take()).toBeUndefined();
    expect(buf.droppedTotal).toBe(2);
  });

  test("a gap at the end is reported when the queue runs empty", () => {
    const buf = new WatchBuffer(10, notice);
    buf.push("x".repeat(8));
    buf.push("y".repeat(8));
    expect(buf.pendingLines).toBe(2);
    expect(buf.take()).toBe("x".repeat(8));
    expect(buf.take()).toBe(notice(1));
    expect(buf.take()).toBeUndefined();
  });

  test("under any pattern of pushes and takes, bytes stay bounded and every event is delivered or counted", () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const buf = new WatchBuffer(1000, (n) => `#${n}\n`);
    let pushed = 0;
    let delivered = 0;
    let reported = 0;
    for (let i = 0; i < 5000; i++) {
      if (rnd() < 0.6) {
        buf.push(`${"z".repeat(Math.floor(rnd() * 200))}\n`);
        pushed++;
      } else {
        const line = buf.take();
        if (line?.startsWith("#")) reported += Number(line.slice(1));
        else if (line !== undefined) delivered++;
      }
      expect(buf.queuedBytes).toBeLessThanOrEqual(1000 + 16);
    }
    for (let line = buf.take(); line !== undefined; line = buf.take()) {
      if (line.startsWith("#")) reported += Number(line.slice(1));
      else delivered++;
    }
    expect(delivered + reported).toBe(pushed);
    expect(reported).toBe(buf.droppedTotal);
  });
});

describe("fuzz (quick tier)", () => {
  test("random text gives an event or a usage error, nothing else", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((j) => JSON.stringify(j))), (text) => {
        try {
          const ev = parseWatchLine(text);
          expect(typeof ev.kind).toBe("string");
          expect(Number.isInteger(ev.at)).toBe(true);
        } catch (e) {
          expect(e).toBeInstanceOf(OpenScopeError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
