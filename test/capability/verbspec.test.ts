// The `--verb` spec syntax (lib/capability/verbspec.ts, SPEC.md §3).
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { OpenScopeError } from "../../lib/errors.ts";
import { parseVerbSpec } from "../../lib/capability/verbspec.ts";

describe("parseVerbSpec accepts", () => {
  const table: [string, unknown][] = [
    ["ssh.tail_logs", { verb: "ssh.tail_logs", pins: {} }],
    ["ssh.tail_logs:service=web", { verb: "ssh.tail_logs", pins: { service: { values: ["web"] } } }],
    ["ssh.tail_logs:service=web|api", { verb: "ssh.tail_logs", pins: { service: { values: ["api", "web"] } } }],
    ["ssh.tail_logs:lines=1..500", { verb: "ssh.tail_logs", pins: { lines: { range: [1, 500] } } }],
    [
      "ssh.tail_logs:service=web,lines=1..500",
      { verb: "ssh.tail_logs", pins: { service: { values: ["web"] }, lines: { range: [1, 500] } } },
    ],
    ["ssh.tail_logs:lines=50", { verb: "ssh.tail_logs", pins: { lines: { values: ["50"] } } }],
    ["x:k=-5..-1", { verb: "x", pins: { k: { range: [-5, -1] } } }],
    ["x:k=a|a", { verb: "x", pins: { k: { values: ["a"] } } }],
  ];
  for (const [text, want] of table) test(text, () => expect(parseVerbSpec(text)).toEqual(want as never));
});

describe("parseVerbSpec refuses", () => {
  const table: [string, string][] = [
    ["", "--verb: empty"],
    ["Ssh.tail", '--verb "Ssh.tail": "Ssh.tail" is not a verb name'],
    ["x:", '--verb "x:": nothing after ":"'],
    ["x:service", '--verb "x:service": "service" is not k=v'],
    ["x:=web", '--verb "x:=web": "=web" is not k=v'],
    ["x:service=", '--verb "x:service=": service: empty value'],
    ["x:service=web|", '--verb "x:service=web|": service: empty value'],
    ["x:service=web,service=api", '--verb "x:service=web,service=api": service is pinned twice'],
    ["x:lines=500..1", '--verb "x:lines=500..1": lines=500..1: minimum is above maximum'],
    ["x:lines=01..5", '--verb "x:lines=01..5": lines=01..5: bounds must be plain integers'],
    ["x:Lines=5", '--verb "x:Lines=5": "Lines" is not a parameter name'],
    ["x:a=1,", '--verb "x:a=1,": "" is not k=v'],
  ];
  for (const [text, message] of table)
    test(JSON.stringify(text), () => {
      let err: unknown;
      try {
        parseVerbSpec(text);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(OpenScopeError);
      expect((err as OpenScopeError).kind).toBe("usage");
      expect((err as Error).message).toBe(message);
    });
  test("random text gives a spec or a usage error (1000 runs)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (s) => {
        try {
          const spec = parseVerbSpec(s);
          expect(typeof spec.verb).toBe("string");
        } catch (e) {
          expect(e).toBeInstanceOf(OpenScopeError);
          expect((e as OpenScopeError).kind).toBe("usage");
        }
      }),
      { numRuns: 1000 },
    );
  });
});
