// Where the handle comes from (cmd/client/handle-source.ts) and how words route to a saved share
// (cmd/client/index.ts, call.ts): one source at a time, the environment only when nothing explicit
// was given, `NAME` alone to the hidden connect command, `call NAME VERB` only without a handle flag.
import { describe, expect, test } from "bun:test";
import { chooseHandleSource, describeSource } from "../../cmd/client/handle-source.ts";
import { routeSavedShare } from "../../cmd/client/index.ts";
import { splitCallWords } from "../../cmd/client/call.ts";
import { OpenScopeError } from "../../lib/errors.ts";

function usage(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(OpenScopeError);
    expect((e as OpenScopeError).exitCode).toBe(2);
    return (e as OpenScopeError).message;
  }
  throw new Error("expected a usage error");
}

describe("chooseHandleSource", () => {
  test("each form alone", () => {
    expect(chooseHandleSource({ passport: "osh1x" })).toEqual({ kind: "argv", text: "osh1x" });
    expect(chooseHandleSource({ passport: "-" })).toEqual({ kind: "stdin" });
    expect(chooseHandleSource({ passportFile: "h.txt" })).toEqual({ kind: "file", path: "h.txt" });
    expect(chooseHandleSource({ passportFile: "-" })).toEqual({ kind: "stdin" });
    expect(chooseHandleSource({ env: " osh1e \n" })).toEqual({ kind: "env", text: "osh1e" });
    expect(chooseHandleSource({ saved: "acme" })).toEqual({ kind: "saved", name: "acme" });
    expect(chooseHandleSource({})).toBeUndefined();
    expect(chooseHandleSource({ env: "  " })).toBeUndefined();
  });

  test("an explicit form wins over the environment; two explicit forms are refused", () => {
    expect(chooseHandleSource({ passportFile: "h.txt", env: "osh1e" })).toEqual({ kind: "file", path: "h.txt" });
    expect(chooseHandleSource({ saved: "acme", env: "osh1e" })).toEqual({ kind: "saved", name: "acme" });
    for (const given of [{ passport: "a", passportFile: "b" }, { passport: "a", saved: "s" }, { passportFile: "b", saved: "s" }]) {
      expect(usage(() => chooseHandleSource(given))).toContain("more than one way");
    }
  });

  test("messages name the form, never the handle", () => {
    expect(describeSource({ kind: "argv", text: "osh1secret" })).toBe("--passport");
    expect(describeSource({ kind: "env", text: "osh1secret" })).toBe("OPENSCOPE_PASSPORT");
  });
});

describe("routeSavedShare", () => {
  test("a first word that is not a command names a saved share", () => {
    expect(routeSavedShare(["acme"])).toEqual(["connect", "acme"]);
    expect(routeSavedShare(["--key", "k.key", "acme", "--raw"])).toEqual(["--key", "k.key", "connect", "acme", "--raw"]);
    expect(routeSavedShare(["--passport-file", "acme", "--raw"])).toEqual(["--passport-file", "acme", "--raw"]);
  });

  test("commands, flags alone and nothing stay as they are", () => {
    for (const argv of [[], ["--passport-file", "h"], ["call", "acme", "v"], ["mcp", "acme"], ["list"], ["--help"], ["--version"], ["keygen", "--show"]]) {
      expect(routeSavedShare(argv)).toEqual(argv);
    }
  });
});

describe("splitCallWords", () => {
  test("with a handle flag the first word is the verb", () => {
    expect(splitCallWords(["acme", "lines=5"], true)).toEqual({ verb: "acme", params: ["lines=5"] });
  });

  test("without one, the first word is a saved share's name", () => {
    expect(splitCallWords(["acme", "ssh.tail_logs", "lines=5"], false)).toEqual({ saved: "acme", verb: "ssh.tail_logs", params: ["lines=5"] });
    expect(splitCallWords(["acme"], false)).toEqual({ saved: "acme", verb: undefined, params: [] });
  });

  test("without one, a first word that cannot be a name means no handle was given", () => {
    expect(usage(() => splitCallWords(["ssh.tail_logs", "lines=5"], false))).toBe("no handle given");
  });
});
