// Tab completion at the interactive prompt (cmd/client/interactive.ts verbCompleter): verb names
// and the prompt's commands first, then k=v words for the verb's parameters.
import { describe, expect, test } from "bun:test";
import { verbCompleter } from "../../cmd/client/interactive.ts";
import type { VerbInfo } from "../../lib/wire/rpc.ts";

const verbs: VerbInfo[] = [
  { name: "ssh.tail_logs", summary: "", params: { service: { constraint: { kind: "enum", values: ["web", "api"] } }, lines: { constraint: { kind: "range", min: 1, max: 500 } } } },
  { name: "ssh.restart", summary: "", params: { service: { constraint: { kind: "enum", values: ["web"] } } } },
];

describe("verbCompleter", () => {
  const complete = verbCompleter(verbs);
  const rows: [string, [string[], string]][] = [
    ["", [["ssh.tail_logs", "ssh.restart", "list", "help", "quit"], ""]],
    ["ssh.t", [["ssh.tail_logs "], "ssh.t"]],
    ["l", [["list "], "l"]],
    ["call ssh.r", [["ssh.restart "], "ssh.r"]],
    ["call l", [[], "l"]],
    ["ssh.tail_logs ", [["service=web", "service=api", "lines="], ""]],
    ["ssh.tail_logs service=w", [["service=web "], "service=w"]],
    ["ssh.tail_logs li", [["lines="], "li"]],
    ["nope x", [[], "x"]],
  ];
  for (const [line, expected] of rows) test(JSON.stringify(line), () => expect(complete(line)).toEqual(expected));
});

describe("verbCompleter with a hostile daemon's words", () => {
  test("a name or value that would need escaping is never offered (readline prints candidates raw)", () => {
    const complete = verbCompleter([
      { name: "ok.verb", summary: "", params: { v: { constraint: { kind: "enum", values: ["fine", "bad\x1b]0;x\x07", "two words"] } } } },
      { name: "evil\x1b[2J", summary: "", params: {} },
    ] as VerbInfo[]);
    expect(complete("")).toEqual([["ok.verb", "list", "help", "quit"], ""]);
    expect(complete("ok.verb ")).toEqual([["v=fine "], ""]);
  });
});
