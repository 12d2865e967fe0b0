// The log line formats of cmd/log.ts: text lines escape whatever an outsider could put in a value
// (a recipient's verb name, a daemon's message) and quote values with spaces; JSON lines keep the
// exact values; fields that could carry a credential are never written; --log-level filters.
import { describe, expect, test } from "bun:test";
import { createLogger, formatLogLine, loggerFromArgs } from "../../cmd/log.ts";
import { lineLogger } from "../../lib/host/log.ts";

const AT = new Date("2026-11-29T10:00:00.000Z");

describe("formatLogLine", () => {
  test("text: timestamp, padded level, message, then key=value with quoting and escapes", () => {
    expect(formatLogLine("text", AT, "info", "call denied", { share: "3f2a", verb: "x\x1b[31my", message: 'a "b" c', n: 3, ok: true, gone: undefined })).toBe(
      '2026-11-29T10:00:00.000Z info  call denied share=3f2a verb=x\\e[31my message="a \\"b\\" c" n=3 ok=true',
    );
    expect(formatLogLine("text", AT, "warn", "line\nforged 2026-11-29T10:00:00.000Z info  fake", { v: "\u202eevil" })).toBe(
      "2026-11-29T10:00:00.000Z warn  line\\nforged 2026-11-29T10:00:00.000Z info  fake v=\\u{202e}evil",
    );
    expect(formatLogLine("text", AT, "error", "m", { empty: "" })).toBe('2026-11-29T10:00:00.000Z error m empty=""');
  });

  test("json: one object, exact values", () => {
    const line = formatLogLine("json", AT, "debug", "call denied", { verb: "x\x1b[31my", n: 3 });
    expect(line).not.toContain("\n");
    expect(JSON.parse(line)).toEqual({ time: "2026-11-29T10:00:00.000Z", level: "debug", msg: "call denied", verb: "x\x1b[31my", n: 3 });
  });

  test("fields named like credentials or output are never written, in either format", () => {
    const fields = { token: "T0K3N", psk: "P5K", handle: "osh1abc", passport: "pp", secret: "s", password: "pw", output: "out", authorization: "Bearer x", share: "ok" };
    for (const format of ["text", "json"] as const) {
      const line = formatLogLine(format, AT, "info", "m", fields);
      for (const v of ["T0K3N", "P5K", "osh1abc", "pp\"", "pw", "out\"", "Bearer"]) expect(line).not.toContain(v);
      expect(line).toContain("ok");
    }
  });
});

describe("createLogger", () => {
  test("levels below --log-level are dropped; every event is its own line, repeated ones too", () => {
    const lines: string[] = [];
    const log = createLogger({ level: "warn", write: (l) => lines.push(l) });
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.warn("w");
    log.error("e");
    expect(lines.map((l) => l.slice(25))).toEqual(["warn  w", "warn  w", "error e"]);
  });

  test("lineLogger keeps the level an old-style line names", () => {
    const lines: string[] = [];
    const line = lineLogger(createLogger({ level: "debug", write: (l) => lines.push(l) }));
    line("warning: careful");
    line("error: broken");
    line("plain");
    expect(lines.map((l) => l.slice(25))).toEqual(["warn  careful", "error broken", "info  plain"]);
  });

  test("a wrong --log-format or --log-level is a usage error naming the choices", () => {
    expect(() => loggerFromArgs({ "log-format": "xml" })).toThrow('--log-format "xml" is not one of: text, json');
    expect(() => loggerFromArgs({ "log-level": "loud" }, "relay")).toThrow('relay: --log-level "loud" is not one of: error, warn, info, debug');
  });
});
