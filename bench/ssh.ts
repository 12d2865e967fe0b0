// The ssh baselines (what users do today): `ssh -o BatchMode=yes … true` against a throwaway local
// sshd (test/helpers/sshd.ts), once with a fresh connection per call and once through a reused
// ControlMaster connection, plus streaming a file's bytes over ssh. Samples in milliseconds.
// The sshd gets `SetEnv SHLVL=1` so the login shell skips ~/.bashrc (Debian's bash sources it
// for ssh commands; on this machine root's runs `pyenv init`, ≈2 s): we time ssh, not dotfiles.
import { appendFileSync, existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { SSHD_BINARY, startSshd, type TestSshd } from "../test/helpers/sshd.ts";

export interface SshBaseline {
  /** Fresh connection per call (connect, key exchange, auth, run `true`). */
  fresh(n: number): Promise<number[]>;
  /** Every fresh-connection sample taken so far (item 3 reuses item 2's). */
  readonly freshSamples: number[];
  /** Connection setup only (TCP, key exchange, auth): time until a new ControlMaster's socket is up. */
  connectOnly(n: number): Promise<number[]>;
  /** Calls through one ControlMaster connection opened before the first sample. */
  reused(n: number): Promise<number[]>;
  /** Streams `head -c bytes file` over the master connection; MB/s. */
  streamMBs(file: string, bytes: number): Promise<number>;
  stop(): Promise<void>;
}

/** Why the ssh baseline cannot run here, or undefined when it can. */
export function sshUnavailable(): string | undefined {
  if (!existsSync(SSHD_BINARY)) return `${SSHD_BINARY} not found (apt-get install -y openssh-server openssh-client)`;
  if (Bun.which("ssh") === null) return "ssh client not found (apt-get install -y openssh-client)";
  return undefined;
}

async function timed(cmd: string[]): Promise<number> {
  const t = performance.now();
  const p = Bun.spawn(cmd, { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  const timer = setTimeout(() => p.kill("SIGKILL"), 30_000); // a hung ssh fails the section, not the run
  const [code, err] = await Promise.all([p.exited, new Response(p.stderr).text()]);
  clearTimeout(timer);
  if (code !== 0) throw new Error(`bench: ${cmd[0]} exited ${code}: ${err.trim()}`);
  return performance.now() - t;
}

/** Appends `SetEnv SHLVL=1` to the helper's sshd_config and SIGHUPs sshd (it re-execs, re-reading it). */
async function skipShellRc(sshd: TestSshd): Promise<void> {
  const config = join(sshd.dir, "sshd_config");
  let pid = 0;
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${p}/cmdline`, "utf8");
      if (cmdline.includes("sshd") && cmdline.includes(config)) pid = Number(p);
    } catch {
      // the process went away while we looked
    }
  }
  if (pid <= 1) throw new Error("bench: cannot find the test sshd's process");
  appendFileSync(config, "SetEnv SHLVL=1\n");
  const listening = () => sshd.log().split("Server listening on").length - 1;
  process.kill(pid, "SIGHUP");
  const deadline = Date.now() + 10_000;
  while (listening() < 2) {
    if (Date.now() > deadline) throw new Error(`bench: sshd did not come back after SIGHUP:\n${sshd.log()}`);
    await Bun.sleep(20);
  }
}

export async function startSshBaseline(): Promise<SshBaseline> {
  const sshd: TestSshd = await startSshd();
  try {
    await skipShellRc(sshd);
  } catch (e) {
    await sshd.stop();
    throw e;
  }
  const control = join(sshd.dir, "cm.sock");
  const target = ["-p", String(sshd.port), "-l", sshd.user, "127.0.0.1"];
  const muxed = ["ssh", ...sshd.clientOptions, "-o", `ControlPath=${control}`, "-o", "ControlMaster=no", ...target];
  let master: Bun.Subprocess | undefined;

  const ensureMaster = async () => {
    if (master) return;
    master = Bun.spawn(["ssh", ...sshd.clientOptions, "-o", `ControlPath=${control}`, "-M", "-N", ...target], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    const deadline = Date.now() + 10_000;
    while (!existsSync(control)) {
      if (Date.now() > deadline || master.exitCode !== null) throw new Error(`bench: ssh ControlMaster did not come up:\n${sshd.log()}`);
      await Bun.sleep(10);
    }
  };

  const freshSamples: number[] = [];
  return {
    freshSamples,
    async fresh(n) {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push(await timed(sshd.sshArgv("true")));
      freshSamples.push(...out);
      return out;
    },
    async connectOnly(n) {
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const path = join(sshd.dir, `setup-${i}.sock`);
        const t = performance.now();
        const p = Bun.spawn(["ssh", ...sshd.clientOptions, "-o", `ControlPath=${path}`, "-M", "-N", ...target], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
        const deadline = Date.now() + 10_000;
        while (!existsSync(path)) {
          if (Date.now() > deadline || p.exitCode !== null) throw new Error("bench: ssh connection setup did not finish");
          await Bun.sleep(1);
        }
        out.push(performance.now() - t);
        // SIGTERM right after setup can leave the master waiting on the server for good; the
        // measure is taken, so drop the connection outright
        p.kill("SIGKILL");
        await p.exited;
      }
      return out;
    },
    async reused(n) {
      await ensureMaster();
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push(await timed([...muxed, "true"]));
      return out;
    },
    async streamMBs(file, bytes) {
      await ensureMaster();
      const t = performance.now();
      const p = Bun.spawn([...muxed, `head -c ${bytes} ${file}`], { stdin: "ignore", stdout: "pipe", stderr: "ignore" });
      let got = 0;
      for await (const chunk of p.stdout) got += chunk.length;
      await p.exited;
      if (got !== bytes) throw new Error(`bench: ssh stream gave ${got} of ${bytes} bytes`);
      return bytes / 1e6 / ((performance.now() - t) / 1000);
    },
    async stop() {
      if (master) {
        master.kill("SIGTERM");
        await master.exited;
      }
      await sshd.stop();
    },
  };
}
