// THREAT-MODEL "What must never happen": a bearer handle must be typed on a command line to be
// used. The compiled client takes the handle from --passport-file, OPENSCOPE_PASSPORT or stdin
// (--passport -), and while it runs (a call, the prompt, the MCP server) the handle is nowhere in
// /proc/PID/cmdline, which every local user can read; --passport HANDLE still works, with a
// warning for a bearer handle (not for a sealed one, useless without the recipient's key).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Cluster, commandFor, type OpenedShare, type Recipient } from "../helpers/cluster.ts";
import { waitFor } from "../helpers/spawn.ts";
import { pidsRunning } from "../helpers/procs.ts";

setDefaultTimeout(60_000);

let c: Cluster;
let vendor: Recipient;
let bearer: OpenedShare;
let handleFile: string;

beforeAll(async () => {
  c = await Cluster.start("binary");
  expect((await c.openscope(["grant", "add", "--agent", "you", "--verb", "echo.word", "--verb", "slow.sleep"])).code).toBe(0);
  vendor = c.recipient("vendor");
  bearer = await c.openShare(["--agent", "you", "--verb", "echo.word", "--verb", "slow.sleep", "--bearer", "--ttl", "10m"]);
  handleFile = join(c.dir, "handle.txt");
  writeFileSync(handleFile, bearer.handle + "\n", { mode: 0o600 });
}, 60_000);

afterAll(async () => {
  await c?.stop();
});

const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, "utf8");
/** The handle, and its secret part alone (the tail of the base64 body), must both be absent. */
function expectNoHandle(pid: number): void {
  const line = cmdline(pid);
  expect(line).toContain("openscope-reflect-client");
  expect(line).not.toContain(bearer.handle);
  expect(line).not.toContain(bearer.handle.slice(-40));
}

function spawnClient(args: string[], opts: { env?: Record<string, string>; stdin?: "pipe" | "ignore" } = {}) {
  const proc = Bun.spawn([...commandFor("binary", "openscope-reflect-client"), ...args], {
    env: { ...process.env, NO_COLOR: "1", XDG_CONFIG_HOME: vendor.configHome, OPENSCOPE_PASSPORT: undefined, ...opts.env },
    stdin: opts.stdin ?? "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const io = { out: "", err: "" };
  const pump = async (s: ReadableStream<Uint8Array>, k: "out" | "err") => {
    const d = new TextDecoder();
    for await (const ch of s) io[k] += d.decode(ch, { stream: true });
  };
  void pump(proc.stdout, "out");
  void pump(proc.stderr, "err");
  return { proc, io };
}

/** A long call whose verb is `sleep <seconds>`: while it runs, the client holds the handle. */
async function duringACall(args: string[], seconds: number, opts: { env?: Record<string, string>; stdinText?: string } = {}): Promise<string> {
  const cl = spawnClient([...args, "--fingerprint", bearer.fingerprint, "call", "slow.sleep", `seconds=${seconds}`], {
    env: opts.env,
    stdin: opts.stdinText === undefined ? "ignore" : "pipe",
  });
  if (opts.stdinText !== undefined) {
    const stdin = cl.proc.stdin as import("bun").FileSink;
    stdin.write(opts.stdinText);
    await stdin.end();
  }
  try {
    await waitFor(() => pidsRunning("sleep", String(seconds)).length > 0 || cl.proc.exitCode !== null, "the verb to run", 20_000);
    expect(cl.proc.exitCode).toBeNull();
    expectNoHandle(cl.proc.pid);
  } finally {
    cl.proc.kill("SIGINT");
  }
  expect(await cl.proc.exited).toBe(130);
  await waitFor(() => pidsRunning("sleep", String(seconds)).length === 0, "the cancelled verb to end");
  return cl.io.err;
}

describe("the handle off the command line", () => {
  test("--passport-file: the call runs, no warning, the handle is not in /proc/PID/cmdline", async () => {
    const err = await duringACall(["--passport-file", handleFile], 71);
    expect(err).not.toContain("warning");
  });

  test("OPENSCOPE_PASSPORT: the same", async () => {
    const err = await duringACall([], 72, { env: { OPENSCOPE_PASSPORT: bearer.handle } });
    expect(err).not.toContain("warning");
  });

  test("--passport - reads it from stdin: the same", async () => {
    const err = await duringACall(["--passport", "-"], 73, { stdinText: `${bearer.handle}\n` });
    expect(err).not.toContain("warning");
  });

  test("the interactive prompt and the MCP server with --passport-file: not in cmdline either", async () => {
    const prompt = spawnClient(["--passport-file", handleFile, "--fingerprint", bearer.fingerprint], { stdin: "pipe" });
    try {
      await waitFor(() => prompt.io.err.includes("type help for commands"), "the prompt", 20_000);
      expectNoHandle(prompt.proc.pid);
    } finally {
      (prompt.proc.stdin as import("bun").FileSink).end();
    }
    expect(await prompt.proc.exited).toBe(0);
    const mcp = await waitFor(async () => {
      const m = spawnClient(["--passport-file", handleFile, "--fingerprint", bearer.fingerprint, "mcp"], { stdin: "pipe" });
      await waitFor(() => m.io.err.includes("MCP server ready") || m.proc.exitCode !== null, "the MCP server", 20_000);
      if (m.io.err.includes("ready with 2 tool(s)")) return m;
      m.proc.kill();
      return undefined; // the prompt's slot at the relay was not free yet
    }, "an MCP server with the share's tools", 20_000);
    try {
      expectNoHandle(mcp.proc.pid);
    } finally {
      (mcp.proc.stdin as import("bun").FileSink).end();
    }
    await mcp.proc.exited;
  });

  test("--passport HANDLE with a bearer handle works, with a warning naming the safe forms", async () => {
    const r = await waitFor(async () => {
      const res = await vendor.client(["--passport", bearer.handle, "--fingerprint", bearer.fingerprint, "call", "echo.word", "word=argv"]);
      return res.code === 0 ? res : undefined;
    }, "the call to go through", 20_000);
    expect(r.stdout).toBe("argv\n");
    expect(r.stderr).toContain("warning: --passport puts this bearer handle in the process list, where every local user can read it and use the share");
    expect(r.stderr).toContain("--passport-file FILE");
    expect(r.stderr).toContain("OPENSCOPE_PASSPORT");
    expect(r.stderr).not.toContain(bearer.handle);
  });

  test("two sources at once, or a missing file, are usage errors (exit 2) that never print the handle", async () => {
    const both = await vendor.client(["--passport", bearer.handle, "--passport-file", handleFile, "call", "echo.word", "word=x"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("the handle is given more than one way");
    expect(both.stderr).not.toContain(bearer.handle);
    const missing = await vendor.client(["--passport-file", join(c.dir, "nope.txt"), "call", "echo.word", "word=x"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("ENOENT");
    const none = await vendor.client(["call", "echo.word", "word=x"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("no handle given");
    expect(none.stderr).toContain("--passport-file FILE");
  });
});

describe("--passport - where stdin is the command's own input", () => {
  test("the piped prompt and the MCP server refuse it (exit 2) and name the safe forms", async () => {
    const prompt = await vendor.client(["--passport", "-", "--fingerprint", bearer.fingerprint], { stdin: `${bearer.handle}\nquit\n` });
    expect(prompt.code).toBe(2);
    expect(prompt.stderr).toContain("stdin carries this command's own input (the prompt's commands)");
    expect(prompt.stderr).toContain("--passport-file FILE or OPENSCOPE_PASSPORT");
    const mcp = await vendor.client(["--passport", "-", "--fingerprint", bearer.fingerprint, "mcp"], { stdin: `${bearer.handle}\n` });
    expect(mcp.code).toBe(2);
    expect(mcp.stdout).toBe("");
    expect(mcp.stderr).toContain("(the MCP protocol)");
  });

  test("the prompt on a terminal asks for the handle, then takes commands", async () => {
    const q = (a: string) => `'${a.replace(/'/g, "'\\''")}'`;
    const cmd = [...commandFor("binary", "openscope-reflect-client"), "--passport", "-", "--fingerprint", bearer.fingerprint].map(q).join(" ");
    const proc = Bun.spawn(["script", "-q", "-e", "-c", cmd, "/dev/null"], {
      env: { ...process.env, NO_COLOR: "1", XDG_CONFIG_HOME: vendor.configHome, TERM: "xterm" },
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    let screen = "";
    void (async () => {
      const d = new TextDecoder();
      for await (const ch of proc.stdout) screen += d.decode(ch, { stream: true });
    })();
    const type = (text: string) => {
      const sink = proc.stdin as import("bun").FileSink;
      sink.write(text);
      sink.flush();
    };
    try {
      await waitFor(() => screen.includes("paste the handle the operator sent: "), "the question", 20_000);
      type(`${bearer.handle}\r`);
      await waitFor(() => screen.includes("type help for commands"), "the prompt", 20_000);
      expectNoHandle(proc.pid);
      type("echo.word word=pasted\r");
      await waitFor(() => screen.includes("pasted\r\n"), "the call's output", 20_000);
      type("quit\r");
      expect(await proc.exited).toBe(0);
    } finally {
      proc.kill();
    }
  });
});

describe("a sealed handle on argv", () => {
  test("no warning: without the recipient's key it opens nothing", async () => {
    const key = await vendor.keygen();
    expect((await c.openscope(["recipients", "add", "vendor-b", key])).code).toBe(0);
    const sealed = await c.openShare(["--agent", "you", "--verb", "echo.word", "--to", "vendor-b", "--ttl", "10m"]);
    const r = await waitFor(async () => {
      const res = await vendor.client(["--passport", sealed.handle, "--fingerprint", sealed.fingerprint, "call", "echo.word", "word=sealed"]);
      return res.code === 0 ? res : undefined;
    }, "the call to go through", 20_000);
    expect(r.stdout).toBe("sealed\n");
    expect(r.stderr).not.toContain("warning");
  });
});
