// install.sh end to end: a fake release folder (shell-script stand-ins named like the real
// binaries, plus one real compiled client) served by Bun.serve on 127.0.0.1, installed with
// `curl -fsSL $URL/install.sh | sh -s -- client` into a temporary HOME. Also the release signing
// helpers of scripts/release.ts, cross-checked with openssl, and shellcheck on install.sh.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ed25519 } from "@noble/curves/ed25519.js";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { $ } from "bun";
import { PLATFORMS, artifactName, installerWithPinnedKey, parsePrivateKeyPem, parsePublicKeyPem, privateKeyPem, publicKeyPem, writeSignedSums } from "../scripts/release.ts";
import { ENTRIES } from "../scripts/build.ts";
import { ROOT } from "./helpers/spawn.ts";

const work = mkdtempSync(join(tmpdir(), "openscope-install-"));
const seed = ed25519.utils.randomSecretKey();
const testPub = join(work, "test-key.pub");
let server: ReturnType<typeof Bun.serve>;
let realClient = "";

/** A release folder: stand-ins for every program on linux-x64, install.sh, signed SHA256SUMS. */
function makeRelease(name: string, opts: { real?: string; unsigned?: boolean } = {}): string {
  const dir = join(work, name);
  const names: string[] = [];
  mkdirSync(dir, { recursive: true });
  for (const { binary } of ENTRIES) {
    const file = artifactName(binary, { platform: "linux-x64", exe: "" });
    if (opts.real && binary === "openscope-reflect-client") copyFileSync(opts.real, join(dir, file));
    else writeFileSync(join(dir, file), `#!/bin/sh\necho "${binary} stand-in $*"\n`);
    chmodSync(join(dir, file), 0o755);
    names.push(file);
  }
  copyFileSync(join(ROOT, "install.sh"), join(dir, "install.sh"));
  names.push("install.sh");
  writeSignedSums(dir, names, seed);
  if (opts.unsigned) rmSync(join(dir, "SHA256SUMS.sig"));
  return dir;
}

beforeAll(async () => {
  writeFileSync(testPub, publicKeyPem(ed25519.getPublicKey(seed)));
  // A real compiled client: the one from `bun run build` if there, else compile one now.
  realClient = join(ROOT, "dist", "openscope-reflect-client");
  if (!existsSync(realClient)) {
    realClient = join(work, "openscope-reflect-client");
    await $`bun build client.ts --compile --minify --outfile ${realClient}`.cwd(ROOT).quiet();
  }
  makeRelease("good");
  makeRelease("unsigned", { unsigned: true });
  makeRelease("real", { real: realClient });
  const tampered = makeRelease("tampered");
  writeFileSync(join(tampered, "openscope-reflect-client-linux-x64"), "#!/bin/sh\necho pwned\n");
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const path = decodeURIComponent(new URL(req.url).pathname);
      if (path.includes("..")) return new Response("no", { status: 400 });
      const f = Bun.file(join(work, path));
      return f.size > 0 || existsSync(join(work, path)) ? new Response(f) : new Response("not found", { status: 404 });
    },
  });
});

afterAll(() => {
  server?.stop(true);
  rmSync(work, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  home: string;
}

/** `curl -fsSL $URL/install.sh | sh -s -- <args>` with HOME in a fresh temp folder. */
async function install(release: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  const home = mkdtempSync(join(work, "home-"));
  const url = `http://127.0.0.1:${server.port}/${release}`;
  const proc = Bun.spawn(["sh", "-c", `curl -fsSL "$OPENSCOPE_BASE_URL/install.sh" | sh -s -- "$@"`, "install", ...args], {
    env: {
      PATH: process.env.PATH,
      HOME: home,
      OPENSCOPE_BASE_URL: url,
      OPENSCOPE_UNAME_S: "Linux",
      OPENSCOPE_UNAME_M: "x86_64",
      OPENSCOPE_LIBC: "glibc",
      ...env,
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr, home };
}

const NONROOT = process.getuid?.() !== 0;
/** Where install.sh puts binaries without OPENSCOPE_INSTALL_DIR: ~/.local/bin, or /usr/local/bin as root. */
function defaultDir(home: string) {
  return NONROOT ? join(home, ".local", "bin") : "/usr/local/bin";
}

describe("install.sh", () => {
  test("installs the client into ~/.local/bin (or OPENSCOPE_INSTALL_DIR) and prints the next command", async () => {
    const dir = join(work, "bin-good");
    const r = await install("unsigned", ["client"], NONROOT ? {} : { OPENSCOPE_INSTALL_DIR: dir });
    expect(r.stderr).toContain("platform linux-x64");
    expect(r.code).toBe(0);
    const bin = join(NONROOT ? defaultDir(r.home) : dir, "openscope-reflect-client");
    const out = await $`${bin} --x`.text();
    expect(out).toBe("openscope-reflect-client stand-in --x\n");
    expect(existsSync(join(NONROOT ? defaultDir(r.home) : dir, "openscope-relay"))).toBe(false);
    expect(r.stderr).toContain("openscope-reflect-client --passport <handle>");
    // no SHA256SUMS.sig at all: warned (checksums only), not refused
    expect(r.stderr).toContain("warning: signature not verified: no SHA256SUMS.sig in this release");
  });

  test("a release whose signature is present but made by another key is refused; nothing is installed", async () => {
    const dir = join(work, "bin-otherkey");
    const r = await install("good", ["all"], { OPENSCOPE_INSTALL_DIR: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error: signature check failed: SHA256SUMS.sig is present but SHA256SUMS is not signed by the OpenScope release key; refusing to install");
    expect(r.stderr).toContain("hint: nothing was installed");
    expect(existsSync(dir)).toBe(false);
  });

  test("installs a real compiled binary that runs", async () => {
    const dir = join(work, "bin-real");
    const r = await install("real", ["client"], { OPENSCOPE_INSTALL_DIR: dir, OPENSCOPE_RELEASE_PUBKEY: testPub });
    expect(r.code).toBe(0);
    const v = await $`${join(dir, "openscope-reflect-client")} --version`.nothrow().quiet();
    expect(v.exitCode).toBe(0);
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    expect(v.stdout.toString()).toContain(pkg.version);
  });

  test("`all` installs the three programs; the signature verifies with the matching key", async () => {
    const dir = join(work, "bin-all");
    const r = await install("good", ["all"], { OPENSCOPE_INSTALL_DIR: dir, OPENSCOPE_RELEASE_PUBKEY: testPub, OPENSCOPE_REQUIRE_SIGNATURE: "1" });
    expect(r.stderr).toContain("signature verified");
    expect(r.code).toBe(0);
    for (const { binary } of ENTRIES) expect((await $`${join(dir, binary)}`.text()).trim()).toBe(`${binary} stand-in`);
    expect(r.stderr).toContain("openscope init");
    expect(r.stderr).toContain("openscope-relay --listen");
  });

  test("a tampered binary is refused and nothing is installed", async () => {
    const dir = join(work, "bin-tampered");
    const r = await install("tampered", ["client"], { OPENSCOPE_INSTALL_DIR: dir, OPENSCOPE_RELEASE_PUBKEY: testPub });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: checksum mismatch for openscope-reflect-client-linux-x64: expected [0-9a-f]{64}, got [0-9a-f]{64}; refusing to install/);
    expect(existsSync(join(dir, "openscope-reflect-client"))).toBe(false);
  });

  test("an unsigned release is refused when OPENSCOPE_REQUIRE_SIGNATURE=1", async () => {
    const r = await install("unsigned", ["client"], { OPENSCOPE_INSTALL_DIR: join(work, "bin-req"), OPENSCOPE_REQUIRE_SIGNATURE: "1" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error: signature not verified");
    expect(existsSync(join(work, "bin-req", "openscope-reflect-client"))).toBe(false);
  });

  test.each([
    ["Plan9", "x86_64"],
    ["Linux", "riscv64"],
    ["FreeBSD", "amd64"],
  ])("unknown platform %s %s is refused", async (s, m) => {
    const r = await install("good", ["client"], { OPENSCOPE_UNAME_S: s, OPENSCOPE_UNAME_M: m, OPENSCOPE_INSTALL_DIR: join(work, "bin-unk") });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: unsupported platform: ${s} ${m}`);
    expect(existsSync(join(work, "bin-unk"))).toBe(false);
  });

  test("a platform the release has no build for is refused (musl here)", async () => {
    const r = await install("good", ["client"], { OPENSCOPE_LIBC: "musl", OPENSCOPE_INSTALL_DIR: join(work, "bin-musl"), OPENSCOPE_RELEASE_PUBKEY: testPub });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error: no openscope-reflect-client build for linux-x64-musl in this release");
  });

  test("an unknown program name is a usage error", async () => {
    const r = await install("good", ["everything"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error: unknown program 'everything'");
  });

  test("the key embedded in install.sh is release-key.pub", () => {
    const script = readFileSync(join(ROOT, "install.sh"), "utf8");
    const embedded = script.match(/RELEASE_PUBKEY='([^']+)'/)?.[1] ?? "";
    expect(parsePublicKeyPem(embedded)).toEqual(parsePublicKeyPem(readFileSync(join(ROOT, "release-key.pub"), "utf8")));
  });

  test("shellcheck finds nothing (when shellcheck is installed)", async () => {
    const sc = Bun.which("shellcheck");
    const r = sc ? await $`${sc} -s sh ${join(ROOT, "install.sh")}`.nothrow().quiet() : { exitCode: 0, stdout: "" };
    expect(r.stdout.toString()).toBe("");
    expect(r.exitCode).toBe(0);
  });
});

describe("release signing (scripts/release.ts)", () => {
  test("PEM codecs round-trip and match openssl's view of the key", async () => {
    const pem = privateKeyPem(seed);
    expect(parsePrivateKeyPem(pem)).toEqual(seed);
    const f = join(work, "k.pem");
    writeFileSync(f, pem);
    const opensslPub = await $`openssl pkey -in ${f} -pubout`.text();
    expect(opensslPub).toBe(readFileSync(testPub, "utf8"));
    expect(() => parsePublicKeyPem(pem)).toThrow(/not an Ed25519 PUBLIC KEY PEM/);
  });

  test("SHA256SUMS matches sha256sum and its signature verifies with openssl; a flipped byte does not", async () => {
    const dir = join(work, "good");
    expect((await $`sha256sum -c SHA256SUMS`.cwd(dir).nothrow().quiet()).exitCode).toBe(0);
    const ok = await $`openssl pkeyutl -verify -pubin -inkey ${testPub} -rawin -in SHA256SUMS -sigfile SHA256SUMS.sig`.cwd(dir).nothrow().quiet();
    expect(ok.exitCode).toBe(0);
    const bad = join(work, "SHA256SUMS.bad");
    const sums = readFileSync(join(dir, "SHA256SUMS"));
    sums[0] = sums[0]! ^ 1;
    writeFileSync(bad, sums);
    const no = await $`openssl pkeyutl -verify -pubin -inkey ${testPub} -rawin -in ${bad} -sigfile SHA256SUMS.sig`.cwd(dir).nothrow().quiet();
    expect(no.exitCode).not.toBe(0);
  });

  test("every platform install.sh can detect has a release target", () => {
    const names = PLATFORMS.map((p) => p.platform).sort();
    expect(names).toEqual(["darwin-arm64", "darwin-x64", "linux-arm64", "linux-arm64-musl", "linux-x64", "linux-x64-musl", "windows-x64"]);
  });
});

describe("a release built by scripts/release.ts", () => {
  test("pins the repo's key in its install.sh, ships no key beside the artifacts, and is refused when signed by another key", async () => {
    const out = join(work, "built-release");
    const otherKey = join(work, "other-release-key.pem");
    writeFileSync(otherKey, privateKeyPem(ed25519.utils.randomSecretKey()));
    const r = await $`bun scripts/release.ts --targets linux-x64 --out ${out}`.cwd(ROOT).env({ ...process.env, OPENSCOPE_RELEASE_KEY: otherKey }).nothrow().quiet();
    expect(r.exitCode).toBe(0);
    expect(r.stderr.toString()).toContain("does not match release-key.pub");
    expect(existsSync(join(out, "release-key.pub"))).toBe(false);
    const shipped = readFileSync(join(out, "install.sh"), "utf8");
    const embedded = shipped.match(/RELEASE_PUBKEY='([^']+)'/)?.[1] ?? "";
    expect(parsePublicKeyPem(embedded)).toEqual(parsePublicKeyPem(readFileSync(join(ROOT, "release-key.pub"), "utf8")));
    // Served as a release: the pinned key refuses the other key's signature.
    const served = join(work, "served-release");
    mkdirSync(served, { recursive: true });
    for (const f of ["SHA256SUMS", "SHA256SUMS.sig", "install.sh", "openscope-reflect-client-linux-x64"]) copyFileSync(join(out, f), join(served, f));
    const dir = join(work, "bin-built");
    const inst = await install("served-release", ["client"], { OPENSCOPE_INSTALL_DIR: dir });
    expect(inst.code).toBe(1);
    expect(inst.stderr).toContain("error: signature check failed");
    expect(existsSync(join(dir, "openscope-reflect-client"))).toBe(false);
    rmSync(out, { recursive: true, force: true });
  }, 120_000);

  test("installerWithPinnedKey replaces the key block and refuses a repo without a key", () => {
    const key = ed25519.getPublicKey(seed);
    const script = "A\nRELEASE_PUBKEY='old'\nB\n";
    expect(installerWithPinnedKey(script, key)).toBe(`A\nRELEASE_PUBKEY='${publicKeyPem(key).trim()}'\nB\n`);
    expect(() => installerWithPinnedKey(script, undefined)).toThrow(/release-key.pub is missing/);
    expect(() => installerWithPinnedKey("no block", key)).toThrow(/no RELEASE_PUBKEY block/);
  });
});

describe("deploy files", () => {
  const unit = (name: string) => readFileSync(join(ROOT, "deploy", name), "utf8");

  test.each(["openscope-relay.service", "openscope-daemon.service"])("%s has the issue's hardening", (name) => {
    const text = unit(name);
    for (const line of ["NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes", "Restart=on-failure"]) {
      expect(text).toMatch(new RegExp(`^${line}$`, "m"));
    }
    expect(text).toMatch(/^User=openscope(-relay)?$/m);
    if (name === "openscope-daemon.service") expect(text).toMatch(/^ReadWritePaths=\/var\/lib\/openscope$/m);
  });

  test("systemd-analyze accepts both units (when systemd-analyze is installed)", async () => {
    const sa = Bun.which("systemd-analyze");
    const dir = join(work, "units");
    mkdirSync(dir, { recursive: true });
    // The binaries are not installed here: point ExecStart at a program that exists.
    const names = ["openscope-relay.service", "openscope-daemon.service"];
    for (const n of names) writeFileSync(join(dir, n), unit(n).replace(/^ExecStart=\S+/m, "ExecStart=/bin/true"));
    const r = sa ? await $`${sa} verify ${names.map((n) => join(dir, n))}`.nothrow().quiet() : { exitCode: 0, stderr: "" };
    expect(r.stderr.toString()).toBe("");
    expect(r.exitCode).toBe(0);
  });

  test("the Containerfile ships only the relay binary, as a non-root user", () => {
    const text = readFileSync(join(ROOT, "deploy", "Containerfile"), "utf8");
    expect(text).toContain("bun scripts/build.ts --only openscope-relay");
    expect(text).toMatch(/^USER nonroot/m);
    expect(text).toMatch(/^ENTRYPOINT \["\/usr\/local\/bin\/openscope-relay"\]$/m);
  });
});
