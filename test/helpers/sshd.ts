// A throwaway OpenSSH server for tests: sshd on 127.0.0.1 and a free port, with its own host key,
// a client key authorized for the current user (root in CI), and a known_hosts file, all in a
// temp folder. `sshArgv()` builds the client side the way the ssh adapter does (BatchMode, our
// known_hosts only, no user config). Needs /usr/sbin/sshd and ssh (Debian's openssh-server/-client).
import { createServer } from "node:net";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const SSHD_BINARY = "/usr/sbin/sshd";

export interface TestSshd {
  dir: string;
  port: number;
  user: string;
  clientKey: string; // private key file
  knownHosts: string;
  /** Options every client call needs: our known_hosts and key, nothing from ~/.ssh. */
  clientOptions: string[];
  /** ["ssh", …options, "-p", port, "--", "127.0.0.1", remoteCommandLine] */
  sshArgv(remoteCommandLine: string): string[];
  log(): string;
  stop(): Promise<void>;
}

function keygen(file: string): void {
  const r = Bun.spawnSync(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "openscope-test", "-f", file], {
    stdout: "pipe",
    stderr: "pipe",
  });
  if (r.exitCode !== 0) throw new Error(`ssh-keygen failed: ${r.stderr.toString()}`);
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function startSshd(): Promise<TestSshd> {
  if (!existsSync(SSHD_BINARY)) throw new Error(`${SSHD_BINARY} not found: apt-get install -y openssh-server openssh-client`);
  // sshd refuses to start without its privilege separation folder
  if (!existsSync("/run/sshd")) mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const dir = mkdtempSync(join(tmpdir(), "openscope-sshd-"));
  const hostKey = join(dir, "host_ed25519");
  const clientKey = join(dir, "client_ed25519");
  keygen(hostKey);
  keygen(clientKey);
  const authorizedKeys = join(dir, "authorized_keys");
  writeFileSync(authorizedKeys, readFileSync(`${clientKey}.pub`), { mode: 0o600 });
  // os.userInfo().username reads "unknown" under Bun here; ask id(1)
  const user = Bun.spawnSync(["id", "-un"]).stdout.toString().trim();

  // a port can be taken between probing and binding: retry a few times
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const config = join(dir, "sshd_config");
    writeFileSync(
      config,
      [
        `Port ${port}`,
        "ListenAddress 127.0.0.1",
        `HostKey ${hostKey}`,
        `AuthorizedKeysFile ${authorizedKeys}`,
        "PidFile none",
        "UsePAM no",
        "StrictModes no",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin prohibit-password",
        `AllowUsers ${user}`,
        "PrintMotd no",
        "LogLevel VERBOSE",
        "",
      ].join("\n"),
      { mode: 0o600 },
    );
    const knownHosts = join(dir, "known_hosts");
    const hostPub = readFileSync(`${hostKey}.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ");
    writeFileSync(knownHosts, `[127.0.0.1]:${port} ${hostPub}\n`, { mode: 0o600 });

    const proc = Bun.spawn([SSHD_BINARY, "-D", "-e", "-f", config], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    let log = "";
    const drain = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of proc.stderr) log += decoder.decode(chunk, { stream: true });
    })();
    void new Response(proc.stdout).text();
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && !log.includes("Server listening on") && proc.exitCode === null) await Bun.sleep(20);
    if (!log.includes("Server listening on")) {
      proc.kill("SIGKILL");
      await proc.exited;
      await drain;
      if (log.includes("Address already in use")) continue;
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`sshd did not start:\n${log}`);
    }
    const clientOptions = [
      "-F", "/dev/null",
      "-o", "BatchMode=yes",
      "-o", "StrictHostKeyChecking=yes",
      "-o", `UserKnownHostsFile=${knownHosts}`,
      "-o", "GlobalKnownHostsFile=/dev/null",
      "-o", "IdentitiesOnly=yes",
      "-i", clientKey,
    ];
    return {
      dir,
      port,
      user,
      clientKey,
      knownHosts,
      clientOptions,
      sshArgv: (remote) => ["ssh", ...clientOptions, "-p", String(port), "-l", user, "--", "127.0.0.1", remote],
      log: () => log,
      async stop() {
        proc.kill("SIGTERM");
        await proc.exited;
        await drain;
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error("sshd: no free port after 5 attempts");
}
