// The pure parts of cmd/client/_shared.ts: k=v parsing, parameters in plain words, global flags
// read from anywhere on the command line, the config folder; and `call` with a bad k=v (exit 2).
import { describe, expect, test } from "bun:test";
import { configDir, describeParamPlain, globalFlag, hasFlag, parseCallArgs } from "../../cmd/client/_shared.ts";
import { OpenScopeError } from "../../lib/errors.ts";
import { runProgram } from "../helpers/spawn.ts";

describe("parseCallArgs", () => {
  test("k=v words become params; the value may contain '=' and be empty", () => {
    expect(parseCallArgs(["lines=50", "service=web", "q=a=b", "e="])).toEqual({ lines: "50", service: "web", q: "a=b", e: "" });
    expect(parseCallArgs([])).toEqual({});
  });

  test("a word without a name or '=' is a usage error with a hint", () => {
    for (const bad of ["lines", "=50", ""]) {
      let err: unknown;
      try {
        parseCallArgs([bad]);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(OpenScopeError);
      expect((err as OpenScopeError).exitCode).toBe(2);
      expect((err as OpenScopeError).message).toContain("is not a k=v argument");
    }
  });
});

describe("describeParamPlain", () => {
  test("pins, sets, ranges and patterns in plain words", () => {
    expect(describeParamPlain("service", { kind: "enum", values: ["web"] })).toBe("service = web");
    expect(describeParamPlain("service", { kind: "enum", values: ["web", "api"] })).toBe("service: web or api");
    expect(describeParamPlain("lines", { kind: "range", min: 1, max: 5000 })).toBe("lines 1..5000");
    expect(describeParamPlain("lines", { kind: "range", min: 5, max: 5 })).toBe("lines = 5");
    expect(describeParamPlain("name", { kind: "pattern", pattern: "^[a-z]+$" })).toBe("name matching ^[a-z]+$");
  });
});

describe("flags and folders", () => {
  test("a global flag is found before or after the subcommand, as --f v or --f=v", () => {
    expect(globalFlag("passport", ["--passport", "H", "call", "x"])).toBe("H");
    expect(globalFlag("passport", ["call", "x", "--passport=H2"])).toBe("H2");
    expect(globalFlag("passport", ["call", "x"])).toBeUndefined();
    expect(hasFlag("json", ["call", "x", "--json"])).toBe(true);
    expect(hasFlag("json", ["call", "x"])).toBe(false);
  });

  test("the config folder follows XDG_CONFIG_HOME, else ~/.config", () => {
    expect(configDir({ XDG_CONFIG_HOME: "/x" })).toBe("/x/openscope");
    expect(configDir({})).toEndWith("/.config/openscope");
  });
});

describe("call with bad arguments", () => {
  test("a word that is not k=v gives exit 2 before any connection", async () => {
    const r = await runProgram("client.ts", ["--passport", "osh1-not-even-read", "call", "echo.word", "word"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain('"word" is not a k=v argument');
  });

  test("call without a verb or without a handle is a usage error (exit 2)", async () => {
    const noVerb = await runProgram("client.ts", ["--passport", "x", "call"]);
    expect(noVerb.code).toBe(2);
    expect(noVerb.stderr).toContain("call needs a verb");
    const noHandle = await runProgram("client.ts", ["call", "echo.word", "word=x"]);
    expect(noHandle.code).toBe(2);
    expect(noHandle.stderr).toContain("no handle given");
  });
});
