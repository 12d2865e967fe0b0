// `bun run demo`: the whole product on one machine, narrated. Builds the binaries if needed,
// starts a local relay and a daemon in a temporary OPENSCOPE_HOME, grants an agent, makes a
// recipient key, opens a --to share, saves the handle under a name (never typed on a command
// line), runs the client (verification code, passport card, two allowed calls, one denied), prints
// the MCP host config, revokes, shows the audit table, and cleans up. Exits 0; leaves nothing running.
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ENTRIES } from "./build.ts";

const root = join(import.meta.dir, "..");
const bin = (name: string) => join(root, "dist", name);
const color = process.stdout.isTTY && !process.env.NO_COLOR;
const bold = (s: string) => (color ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string) => (color ? `\x1b[90m${s}\x1b[0m` : s);

let stepNo = 0;
function step(text: string): void {
  stepNo++;
  process.stdout.write(`\n${bold(`▶ ${stepNo}. ${text}`)}\n`);
}

function indent(text: string): string {
  return text
    .trimEnd()
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");
}

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(args: string[], opts: { env?: Record<string, string>; stdin?: string; show?: boolean; expect?: number; merged?: boolean } = {}): Promise<Ran> {
  const [program, ...rest] = args;
  const shown = [program, ...rest.map((a) => (a.length > 60 ? `${a.slice(0, 24)}…${a.slice(-8)}` : /\s|\|/.test(a) ? `'${a}'` : a))].join(" ");
  process.stdout.write(dim(`  $ ${opts.stdin !== undefined ? `printf '${opts.stdin.replace(/\n/g, "\\n")}' | ` : ""}${shown}`) + "\n");
  // merged: stdout and stderr into one file, so the narration shows them in the order they came.
  const mergedPath = join(work, `out-${stepNo}.txt`);
  const mergedFd = opts.merged ? openSync(mergedPath, "w") : undefined;
  const proc = Bun.spawn([bin(program!), ...rest], {
    env: { ...process.env, NO_COLOR: "1", ...opts.env },
    stdin: opts.stdin === undefined ? "ignore" : new TextEncoder().encode(opts.stdin),
    stdout: mergedFd ?? "pipe",
    stderr: mergedFd ?? "pipe",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
  const [stdout, stderr, code] = await Promise.all([
    mergedFd === undefined ? new Response(proc.stdout as ReadableStream).text() : proc.exited.then(() => readFileSync(mergedPath, "utf8")),
    mergedFd === undefined ? new Response(proc.stderr as ReadableStream).text() : Promise.resolve(""),
    proc.exited,
  ]);
  if (mergedFd !== undefined) closeSync(mergedFd);
  clearTimeout(timer);
  if (opts.show !== false) {
    const out = [stdout.trim(), stderr.trim()].filter(Boolean).join("\n");
    if (out) process.stdout.write(indent(out) + "\n");
  }
  const expected = opts.expect ?? 0;
  if (code !== expected) throw new Error(`${program} ${rest[0]} exited ${code}, expected ${expected}\n${stderr}`);
  return { code, stdout, stderr };
}

/** Starts a long-running program and waits for a line on stderr matching `ready`. */
async function startBackground(args: string[], env: Record<string, string>, ready: RegExp): Promise<{ proc: Bun.Subprocess; match: RegExpMatchArray }> {
  const [program, ...rest] = args;
  const proc = Bun.spawn([bin(program!), ...rest], { env: { ...process.env, NO_COLOR: "1", ...env }, stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  const reader = (proc.stderr as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let seen = "";
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const { value, done } = await Promise.race([
      reader.read(),
      Bun.sleep(Math.max(0, deadline - Date.now())).then(() => ({ value: undefined, done: true })),
    ]);
    if (done) break;
    seen += decoder.decode(value);
    const m = seen.match(ready);
    if (m) {
      // Keep draining stderr so the program never blocks on a full pipe.
      void (async () => {
        for (;;) if ((await reader.read()).done) break;
      })();
      return { proc, match: m };
    }
  }
  proc.kill("SIGKILL");
  throw new Error(`${program} did not start:\n${seen}`);
}

const children: Bun.Subprocess[] = [];
const work = mkdtempSync(join(tmpdir(), "openscope-demo-"));

async function main(): Promise<void> {
  process.stdout.write(bold("OpenScope demo: a vendor gets two verbs on your system for five minutes, through a blind relay\n"));
  if (!ENTRIES.every((e) => existsSync(bin(e.binary)))) {
    step("Building the three binaries (first run only)");
    const b = Bun.spawnSync(["bun", "run", "build"], { cwd: root, stdout: "inherit", stderr: "inherit" });
    if (b.exitCode !== 0) throw new Error("build failed");
  }

  const home = join(work, "operator");
  const vendor = join(work, "vendor");
  const env = { OPENSCOPE_HOME: home };
  const vendorEnv = { XDG_CONFIG_HOME: vendor };
  const token = crypto.randomUUID();
  writeFileSync(join(work, "tokens.txt"), `# deployment tokens\n${token}\n`, { mode: 0o600 });

  step("Starting a local relay (on a VPS in real life): it pairs legs and forwards ciphertext");
  const relay = await startBackground(["openscope-relay", "--listen", "127.0.0.1:0", "--tokens-file", join(work, "tokens.txt")], {}, /listening on (https?):\/\/([\d.]+):(\d+)/);
  children.push(relay.proc);
  const relayUrl = `ws://127.0.0.1:${relay.match[3]}`;
  process.stdout.write(indent(`relay listening on ${relayUrl}`) + "\n");

  step("Operator: init creates the daemon identity, the database and a sample verb catalog");
  await run(["openscope", "init"], { env });
  writeFileSync(join(home, "config.toml"), `relay = "${relayUrl}"\nrelay_token = "${token}"\n`, { mode: 0o600 });

  step("Operator: the daemon starts and dials OUT to the relay (no inbound port)");
  const daemon = await startBackground(["openscope", "daemon"], env, /control socket/);
  children.push(daemon.proc);
  process.stdout.write(indent("daemon running") + "\n");

  step("Root grants agent `you` verbs from the catalog");
  await run(["openscope", "grant", "add", "--agent", "you", "--verb", "ssh.tail_logs", "--verb", "ssh.restart_service", "--verb", "sys.uptime"], { env });

  step("Vendor: makes a key and sends the public half to the operator");
  const pub = (await run(["openscope-reflect-client", "keygen"], { env: vendorEnv })).stdout.trim();
  await run(["openscope", "recipients", "add", "vendor-b", pub], { env });

  step("Operator: opens a share for vendor-b — web logs (up to 50 lines) and restarting web only, 5 minutes");
  const opened = JSON.parse(
    (
      await run(
        ["openscope", "share", "open", "--agent", "you", "--verb", "ssh.tail_logs:service=web,lines=1..50", "--verb", "ssh.restart_service:service=web", "--to", "vendor-b", "--ttl", "5m", "--json"],
        { env, show: false },
      )
    ).stdout,
  ) as { id: string; handle: string; fingerprint: string; code: string; expires_at: string };
  process.stdout.write(indent(`share ${opened.id}, expires ${opened.expires_at}\nhandle ${opened.handle.slice(0, 40)}… (sent to the vendor by mail)\nverification code ${opened.code} (read to the vendor over the phone)`) + "\n");

  step("Vendor: saves the handle from the mail under a name (the handle is never typed on a command line)");
  const handleFile = join(work, "vendor-handle.txt");
  writeFileSync(handleFile, opened.handle + "\n", { mode: 0o600 });
  await run(["openscope-reflect-client", "add", "acme", "--passport-file", handleFile], { env: vendorEnv });
  await run(["openscope-reflect-client", "list"], { env: vendorEnv });

  step("Vendor: connects with the code heard by phone, sees the passport card, makes two allowed calls and one outside the share");
  const restarted = join(home, "sample", "run", "web.restarted");
  await run(
    ["openscope-reflect-client", "--verify", opened.code, "acme"],
    { env: vendorEnv, stdin: "ssh.tail_logs lines=3\nssh.restart_service\nssh.restart_service service=api\nquit\n", expect: 3, merged: true },
  );
  if (!existsSync(restarted)) throw new Error("the restart verb did not run");
  process.stdout.write(indent(`the restart verb ran on the operator's side: ${restarted} exists; the api restart was refused and recorded`) + "\n");

  step("Vendor: the snippet for an AI agent's MCP host config (it names the saved share, not the handle)");
  await run(["openscope-reflect-client", "mcp", "acme", "--print-config", "--host", "claude"], { env: vendorEnv });

  step("Operator: lists shares, then revokes this one");
  await run(["openscope", "share", "list"], { env });
  await run(["openscope", "share", "revoke", opened.id], { env });

  step("Vendor: a call after the revoke is refused with the reason");
  await run(["openscope-reflect-client", "call", "acme", "ssh.tail_logs", "lines=1"], { env: vendorEnv, expect: 5 });

  step("Operator: the audit log (every decision and share event, hash-chained)");
  await run(["openscope", "audit"], { env });
  await run(["openscope", "audit", "--verify"], { env });
}

async function cleanup(): Promise<void> {
  for (const c of children.reverse()) {
    c.kill("SIGTERM");
    const done = await Promise.race([c.exited.then(() => true), Bun.sleep(3000).then(() => false)]);
    if (!done) c.kill("SIGKILL");
  }
  rmSync(work, { recursive: true, force: true });
}

try {
  await main();
  await cleanup();
  process.stdout.write(`\n${bold("✔ demo finished: relay, daemon and client stopped, temporary files removed")}\n`);
  process.exit(0);
} catch (e) {
  process.stderr.write(`\ndemo failed: ${(e as Error).message}\n`);
  await cleanup();
  process.exit(1);
}
