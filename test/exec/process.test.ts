// Verb execution: argv without a shell, scrubbed env, fixed cwd, closed stdin, streamed output,
// timeout and cancel that reach grandchildren, the output cap, backpressure from a slow consumer,
// and a missing binary reported as exit 127.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EXIT_NOT_FOUND, startVerb, type OutputStream, type RunRequest, type RunResult } from "../../lib/exec/process.ts";
import { compileRules } from "../../lib/redact/scanner.ts";
import { waitFor } from "../helpers/spawn.ts";

interface Collected {
  result: RunResult;
  stdout: string;
  stderr: string;
  chunks: Array<{ stream: OutputStream; bytes: Uint8Array }>;
}

async function run(argv: string[], over: Partial<RunRequest> = {}): Promise<Collected> {
  const chunks: Collected["chunks"] = [];
  const verb = startVerb({ argv, timeoutMs: 10_000, maxOutputBytes: 1 << 20, ...over }, (stream, pieces) => {
    chunks.push({ stream, bytes: Buffer.concat([...pieces]) });
  });
  const result = await verb.done;
  const text = (s: OutputStream) => Buffer.concat(chunks.filter((c) => c.stream === s).map((c) => c.bytes)).toString();
  return { result, stdout: text("stdout"), stderr: text("stderr"), chunks };
}

/** A process is gone when it no longer exists or is a zombie nobody reaped (PID 1 here does not reap). */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "openscope-exec-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("what the verb sees", () => {
  test("argv elements arrive as given, with no shell in between", async () => {
    const hostile = ["$(id)", "`id`", "; rm -rf /", "a b", "*", "'\"", "--help", "$HOME", "x\ny", ""];
    const { result, stdout } = await run(["printf", "%s\\0", ...hostile]);
    expect(result.exitCode).toBe(0);
    expect(stdout.split("\0").slice(0, -1)).toEqual(hostile);
  });

  test("the environment is the minimal default, nothing inherited", async () => {
    process.env.OPENSCOPE_TEST_SECRET = "do-not-leak";
    try {
      const { stdout } = await run(["env"]);
      expect(stdout.trim().split("\n").sort()).toEqual(["LANG=C.UTF-8", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]);
    } finally {
      delete process.env.OPENSCOPE_TEST_SECRET;
    }
  });

  test("a given env is used as is", async () => {
    const { stdout } = await run(["env"], { env: { PATH: "/usr/bin:/bin", ONLY: "this" } });
    expect(stdout.trim().split("\n").sort()).toEqual(["ONLY=this", "PATH=/usr/bin:/bin"]);
  });

  test("an absolute argv[0] runs without a PATH lookup", async () => {
    const { result, stdout } = await run(["/bin/echo", "abs"], { env: { LANG: "C.UTF-8" } });
    expect(result.exitCode).toBe(0);
    expect(stdout).toBe("abs\n");
  });

  test("cwd defaults to / and can be set", async () => {
    expect((await run(["pwd"])).stdout).toBe("/\n");
    expect((await run(["pwd"], { cwd: dir })).stdout).toBe(`${dir}\n`);
  });

  test("stdin is closed: a reader of stdin sees end of input at once", async () => {
    const { result, stdout } = await run(["cat"]);
    expect(result.exitCode).toBe(0);
    expect(stdout).toBe("");
  });
});

describe("results", () => {
  test("stdout and stderr are kept apart, and the exit code is reported", async () => {
    const { result, stdout, stderr } = await run(["sh", "-c", "echo out; echo err >&2; exit 3"]);
    expect(stdout).toBe("out\n");
    expect(stderr).toBe("err\n");
    expect(result).toMatchObject({ exitCode: 3, signal: null, timedOut: false, cancelled: false, truncated: false, bytesOut: 8 });
  });

  test("a missing binary is exit 127 with a clear stderr line, not a throw", async () => {
    const { result, stdout, stderr } = await run(["openscope-no-such-binary", "x"]);
    expect(result.exitCode).toBe(EXIT_NOT_FOUND);
    expect(stdout).toBe("");
    expect(stderr).toBe("exec: openscope-no-such-binary: command not found\n");
    expect(result.bytesOut).toBe(stderr.length);
  });

  test("a binary outside the verb's PATH is not found, even if the daemon's PATH has it", async () => {
    const { result } = await run(["env"], { env: { PATH: dir } });
    expect(result.exitCode).toBe(EXIT_NOT_FOUND);
  });

  test("large output arrives whole and in order, and the digest covers every byte sent", async () => {
    const { result, stdout, chunks } = await run(["seq", "1", "200000"], { maxOutputBytes: 4 << 20 });
    const expected = `${Array.from({ length: 200000 }, (_, i) => i + 1).join("\n")}\n`;
    expect(stdout).toBe(expected);
    expect(result.bytesOut).toBe(expected.length);
    expect(result.truncated).toBe(false);
    expect(result.outputDigest).toBe(bytesToHex(sha256(Buffer.concat(chunks.map((c) => c.bytes)))));
  });

  test("output is streamed while the verb still runs", async () => {
    const seen: string[] = [];
    const verb = startVerb({ argv: ["sh", "-c", "echo first; sleep 100"], timeoutMs: 20_000, maxOutputBytes: 1000 }, (_s, b) => {
      seen.push(Buffer.concat([...b]).toString());
    });
    await waitFor(() => seen.join("") === "first\n", "the first line before the verb ends");
    expect(isAlive(verb.pid)).toBe(true);
    verb.cancel();
    const result = await verb.done;
    expect(result.cancelled).toBe(true);
  });
});

describe("ending a verb", () => {
  test("the timeout kills the process group", async () => {
    const { result } = await run(["sleep", "100"], { timeoutMs: 100 });
    expect(result).toMatchObject({ timedOut: true, exitCode: null, signal: "SIGTERM" });
  });

  test("a verb that ignores SIGTERM is killed with SIGKILL after the grace", async () => {
    const { result } = await run(["sh", "-c", "trap '' TERM; echo ready; while :; do sleep 1; done"], { timeoutMs: 200 });
    expect(result).toMatchObject({ timedOut: true, signal: "SIGKILL" });
  });

  test("cancel reaches grandchildren", async () => {
    let out = "";
    const verb = startVerb({ argv: ["sh", "-c", "sleep 100 & echo $!; sleep 100"], timeoutMs: 20_000, maxOutputBytes: 1000 }, (_s, b) => {
      out += Buffer.concat([...b]).toString();
    });
    const grandchild = Number(await waitFor(() => out.match(/^(\d+)\n/)?.[1], "the grandchild's pid"));
    expect(isAlive(grandchild)).toBe(true);
    verb.cancel("revoked");
    const result = await verb.done;
    expect(result.cancelled).toBe(true);
    await waitFor(() => !isAlive(grandchild), "the grandchild to die");
  });

  test("a background child left behind by a verb that exited is killed and does not hold the result", async () => {
    const { result, stdout } = await run(["sh", "-c", "sleep 100 & echo $!"]);
    expect(result.exitCode).toBe(0);
    const grandchild = Number(stdout.trim());
    await waitFor(() => !isAlive(grandchild), "the left-behind child to die");
  });

  test("the output cap truncates, stops forwarding and kills the verb", async () => {
    const { result, chunks } = await run(["yes"], { maxOutputBytes: 10_000 });
    const sent = Buffer.concat(chunks.map((c) => c.bytes));
    expect(result.truncated).toBe(true);
    expect(result.bytesOut).toBe(10_000);
    expect(sent.length).toBe(10_000);
    expect(sent.toString()).toBe("y\n".repeat(5_000));
    expect(result.signal).not.toBeNull();
    expect(result.outputDigest).toBe(bytesToHex(sha256(sent)));
  });

  test("the cap cuts inside a redacted read's pieces (text, marker, text) at exactly the cap", async () => {
    const { result, stdout } = await run(["printf", "password=hunter2x tail\n"], { maxOutputBytes: 12 });
    expect(stdout).toBe("password=[RE");
    expect(result).toMatchObject({ truncated: true, bytesOut: 12 });
    expect(result.outputDigest).toBe(bytesToHex(sha256(new TextEncoder().encode("password=[RE"))));
  });

  test("output of exactly the cap is not truncated", async () => {
    const { result } = await run(["head", "-c", "4096", "/dev/zero"], { maxOutputBytes: 4096 });
    expect(result).toMatchObject({ truncated: false, bytesOut: 4096, exitCode: 0 });
  });

  test("a consumer that throws ends the verb as cancelled", async () => {
    const verb = startVerb({ argv: ["yes"], timeoutMs: 20_000, maxOutputBytes: 1 << 30 }, () => {
      throw new Error("channel closed");
    });
    const result = await verb.done;
    expect(result.cancelled).toBe(true);
    expect(result.signal).not.toBeNull();
  });
});

describe("backpressure", () => {
  test("a slow consumer stops the verb's writes until it takes more", async () => {
    // the verb records how many 64 KiB blocks it has written; with the consumer stalled it must stop short
    const progress = join(dir, "progress");
    const blocks = 256; // 16 MiB: far more than any pipe or reader buffer
    const script = `i=0; while [ $i -lt ${blocks} ]; do head -c 65536 /dev/zero; i=$((i+1)); echo $i > ${progress}; done`;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let calls = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    const verb = startVerb({ argv: ["sh", "-c", script], timeoutMs: 60_000, maxOutputBytes: 1 << 30 }, async () => {
      calls++;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      if (calls === 1) await gate;
      inFlight--;
    });
    const read = () => {
      try {
        return Number(readFileSync(progress, "utf8").trim());
      } catch {
        return 0;
      }
    };
    // wait until the writer's progress has settled (same value on several polls in a row)
    let last = -1;
    let same = 0;
    await waitFor(() => {
      const now = read();
      same = now === last ? same + 1 : 0;
      last = now;
      return same >= 8;
    }, "the writer to stall", 30_000);
    expect(calls).toBe(1);
    expect(last).toBeLessThan(blocks);
    expect(isAlive(verb.pid)).toBe(true);
    release();
    const result = await verb.done;
    expect(result.exitCode).toBe(0);
    expect(result.bytesOut).toBe(blocks * 65536);
    expect(read()).toBe(blocks);
    expect(maxInFlight).toBe(1);
  }, 60_000);
});

describe("cancel ends the verb itself (mutation testing, issue 22)", () => {
  // Without the kill a cancelled verb would run on until its own timeout: the result would then
  // say timedOut, and the verb's process would still be there after cancel() returned.
  test("the verb's process is signalled by cancel, long before its timeout", async () => {
    let out = "";
    const verb = startVerb({ argv: ["sh", "-c", "echo up; exec sleep 100"], timeoutMs: 15_000, maxOutputBytes: 1000 }, (_s, b) => {
      out += Buffer.concat([...b]).toString();
    });
    await waitFor(() => out === "up\n", "the verb to start");
    verb.cancel("revoked by the operator");
    const result = await verb.done;
    expect(result).toMatchObject({ cancelled: true, timedOut: false, signal: "SIGTERM", exitCode: null });
  }, 30_000);
});

describe("redaction (SPEC.md §17.3)", () => {
  const KEY = "AKIA" + "IOSFODNN7EXAMPLE";
  test("a secret written in two halves with a pause between is redacted; counts and digest are of what was sent", async () => {
    const script = `printf 'id=${KEY.slice(0, 9)}'; sleep 0.3; printf '${KEY.slice(9)} ok\\n'; echo plain >&2`;
    const { result, stdout, stderr, chunks } = await run(["sh", "-c", script]);
    expect(stdout).toBe("id=[REDACTED:aws-access-key-id] ok\n");
    expect(stderr).toBe("plain\n");
    expect(result.redactions).toEqual({ "aws-access-key-id": 1 });
    expect(result.bytesOut).toBe(stdout.length + stderr.length);
    expect(result.outputDigest).toBe(bytesToHex(sha256(Buffer.concat(chunks.map((c) => c.bytes)))));
  });
  test("a private key printed line by line with pauses is one marker", async () => {
    const script = `echo start; echo '-----BEGIN EC PRIVATE KEY-----'; sleep 0.2; echo MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5o; sleep 0.2; echo '-----END EC PRIVATE KEY-----'; echo end`;
    const { result, stdout } = await run(["sh", "-c", script]);
    expect(stdout).toBe("start\n[REDACTED:private-key]\nend\n");
    expect(result.redactions).toEqual({ "private-key": 1 });
  });
  test("the last line without a newline is redacted when the verb ends", async () => {
    const { stdout } = await run(["printf", `token=${KEY}`]);
    expect(stdout).toBe("token=[REDACTED:aws-access-key-id]");
  });
  test("redact: null (a verb with redact = false) passes output raw", async () => {
    const { result, stdout } = await run(["printf", `id=${KEY}\n`], { redact: null });
    expect(stdout).toBe(`id=${KEY}\n`);
    expect(result.redactions).toEqual({});
  });
  test("a redactor that throws ends the verb with nothing more sent, instead of stalling it", async () => {
    const broken = compileRules([{ id: "broken", keywords: [], find: () => { throw new Error("rule bug"); } }]);
    const { result, stdout } = await run(["sh", "-c", "echo one; sleep 100"], { redact: broken, timeoutMs: 30_000 });
    expect(stdout).toBe("");
    expect(result.cancelled).toBe(true);
    expect(result.timedOut).toBe(false);
  });
  test("on timeout the held partial line is still redacted and delivered", async () => {
    const { result, stdout } = await run(["sh", "-c", `printf 'id=${KEY} waiting'; sleep 100`], { timeoutMs: 300 });
    expect(result.timedOut).toBe(true);
    expect(stdout).toBe("id=[REDACTED:aws-access-key-id] waiting");
  });
});
