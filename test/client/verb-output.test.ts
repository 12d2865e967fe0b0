// Verb output to the recipient's screen (cmd/client/verb-output.ts): escaped on a terminal (lines and
// tabs kept), exact to a pipe or with --raw, and a character split across chunks is not garbled.
import { describe, expect, test } from "bun:test";
import { escapesFor, verbOutputWriter, type OutStream } from "../../cmd/client/verb-output.ts";

function sink(isTTY: boolean): OutStream & { got: Array<string | Uint8Array> } {
  const got: Array<string | Uint8Array> = [];
  return {
    isTTY,
    got,
    write(data, cb) {
      got.push(data);
      cb?.();
      return true;
    },
  };
}

const enc = (s: string) => new TextEncoder().encode(s);
const text = (got: Array<string | Uint8Array>) => got.map((g) => (typeof g === "string" ? g : new TextDecoder().decode(g))).join("");

describe("verb output", () => {
  test("a terminal sees escapes as visible text; newlines and tabs stay", async () => {
    const out = sink(true);
    const err = sink(true);
    const w = verbOutputWriter(false, { stdout: out, stderr: err });
    await w("stdout", enc("ok\tline\n\x1b[2J\x1b]0;owned\x07\rfake prompt\n"));
    await w("stderr", enc("\x1b[31mred\x1b[0m\n"));
    expect(text(out.got)).toBe("ok\tline\n\\e[2J\\e]0;owned\\u{7}\\rfake prompt\n");
    expect(text(err.got)).toBe("\\e[31mred\\e[0m\n");
  });

  test("a pipe, or --raw, gets the exact bytes", async () => {
    const bytes = enc("\x1b[2Jraw\r\n");
    const piped = sink(false);
    await verbOutputWriter(false, { stdout: piped, stderr: sink(false) })("stdout", bytes);
    expect(piped.got).toEqual([bytes]);
    const raw = sink(true);
    await verbOutputWriter(true, { stdout: raw, stderr: sink(true) })("stdout", bytes);
    expect(raw.got).toEqual([bytes]);
    expect(escapesFor({ isTTY: true, write: () => true }, false)).toBe(true);
    expect(escapesFor({ isTTY: true, write: () => true }, true)).toBe(false);
    expect(escapesFor({ write: () => true }, false)).toBe(false);
  });

  test("a UTF-8 character split across chunks arrives whole", async () => {
    const out = sink(true);
    const w = verbOutputWriter(false, { stdout: out, stderr: sink(true) });
    const euro = enc("€\n");
    await w("stdout", euro.slice(0, 1));
    await w("stdout", euro.slice(1));
    expect(text(out.got)).toBe("€\n");
  });
});
