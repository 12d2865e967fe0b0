// `bun run release`: cross-compiles the three entries (scripts/build.ts ENTRIES and RELEASE_FLAGS)
// for every release platform into dist/release/, then writes SHA256SUMS (`sha256sum` format), a
// detached raw Ed25519 signature SHA256SUMS.sig (@noble/curves), manifest.json (sizes, hashes,
// bytecode per target) and install.sh with the repo's release key pinned in it, so that one
// folder is the whole release. No public key is shipped beside the artifacts.
// Usage: bun scripts/release.ts [--targets linux-x64,darwin-arm64] [--out dir]
//        bun scripts/release.ts keygen <private-key.pem>   (prints the public key PEM)
// The signing key is read from OPENSCOPE_RELEASE_KEY (a PKCS#8 PEM file, as written by keygen or
// `openssl genpkey -algorithm ed25519`); without it an ephemeral key signs a local build.
import { $ } from "bun";
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { ENTRIES, RELEASE_FLAGS } from "./build.ts";
import { VERSION } from "../lib/version.ts";

/** Release platforms: `platform` is the suffix in the artifact name, `target` the bun target. */
export const PLATFORMS = [
  { platform: "linux-x64", target: "bun-linux-x64", exe: "" },
  { platform: "linux-arm64", target: "bun-linux-arm64", exe: "" },
  { platform: "linux-x64-musl", target: "bun-linux-x64-musl", exe: "" },
  { platform: "linux-arm64-musl", target: "bun-linux-arm64-musl", exe: "" },
  { platform: "darwin-x64", target: "bun-darwin-x64", exe: "" },
  { platform: "darwin-arm64", target: "bun-darwin-arm64", exe: "" },
  { platform: "windows-x64", target: "bun-windows-x64", exe: ".exe" },
] as const;

export type Platform = (typeof PLATFORMS)[number];

/** `openscope-reflect-client` + `linux-x64` → `openscope-reflect-client-linux-x64`. */
export function artifactName(binary: string, p: Pick<Platform, "platform" | "exe">): string {
  return `${binary}-${p.platform}${p.exe}`;
}

// ---- Ed25519 key codecs (RFC 8410 DER wrappers, so openssl reads the same files) ----------------
const PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]);
const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);

function pem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString("base64");
  return `-----BEGIN ${label}-----\n${b64.match(/.{1,64}/g)!.join("\n")}\n-----END ${label}-----\n`;
}

function unpem(label: string, text: string, prefix: Uint8Array, what: string): Uint8Array {
  const m = text.match(new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`));
  const der = m ? new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ""), "base64")) : new Uint8Array();
  const ok = der.length === prefix.length + 32 && prefix.every((b, i) => der[i] === b);
  if (!ok) throw new Error(`release: ${what} is not an Ed25519 ${label} PEM (hint: openssl genpkey -algorithm ed25519)`);
  return der.slice(prefix.length);
}

export const privateKeyPem = (seed: Uint8Array) => pem("PRIVATE KEY", new Uint8Array([...PKCS8_PREFIX, ...seed]));
export const publicKeyPem = (pub: Uint8Array) => pem("PUBLIC KEY", new Uint8Array([...SPKI_PREFIX, ...pub]));
export const parsePrivateKeyPem = (text: string, what = "private key") => unpem("PRIVATE KEY", text, PKCS8_PREFIX, what);
export const parsePublicKeyPem = (text: string, what = "public key") => unpem("PUBLIC KEY", text, SPKI_PREFIX, what);

/** The `sha256sum` text for files in `dir` (two spaces: text mode, as `sha256sum` prints). */
export function sha256Sums(dir: string, names: readonly string[]): string {
  return names.map((n) => `${bytesToHex(sha256(readFileSync(join(dir, n))))}  ${n}\n`).join("");
}

/** Writes SHA256SUMS and its detached raw 64-byte Ed25519 signature SHA256SUMS.sig into `dir`. */
export function writeSignedSums(dir: string, names: readonly string[], seed: Uint8Array): string {
  const sums = sha256Sums(dir, names);
  writeFileSync(join(dir, "SHA256SUMS"), sums);
  writeFileSync(join(dir, "SHA256SUMS.sig"), ed25519.sign(new TextEncoder().encode(sums), seed));
  return sums;
}

interface Built {
  name: string;
  program: string;
  platform: string;
  target: string;
  bytes: number;
  sha256: string;
  bytecode: boolean;
  /** Ran `--version` on this machine before shipping (only targets this machine can run). */
  smokeTested: boolean;
  note?: string;
}

async function compile(root: string, entry: string, target: string, outfile: string, bytecode: boolean) {
  const flags = bytecode ? RELEASE_FLAGS : RELEASE_FLAGS.filter((f) => f !== "--bytecode");
  return $`bun build ${entry} ${flags} --target=${target} --outfile ${outfile}`.cwd(root).nothrow().quiet();
}

/** Can this machine run the target? Then the binary is smoke-tested (`--version`) before it ships. */
function runsHere(p: Platform): boolean {
  const arch = process.arch === "arm64" ? "arm64" : "x64";
  return process.platform === "linux" && p.platform === `linux-${arch}`;
}

/** Why a build is unusable: the compiler failed, or (on a target this machine runs) `--version` did. */
async function buildFailure(root: string, entry: string, p: Platform, outfile: string, bytecode: boolean): Promise<string | undefined> {
  const r = await compile(root, entry, p.target, outfile, bytecode);
  if (r.exitCode !== 0) return r.stderr.toString().trim() || `bun build exited ${r.exitCode}`;
  if (!runsHere(p)) return undefined;
  const smoke = await $`${outfile} --version`.nothrow().quiet();
  return smoke.exitCode === 0 ? undefined : `smoke test (--version) failed: ${smoke.stderr.toString().trim()}`;
}

/** Builds one artifact with `--bytecode`, falling back to a plain build when that fails. */
async function buildOne(root: string, out: string, entry: string, binary: string, p: Platform): Promise<Built> {
  const name = artifactName(binary, p);
  const outfile = join(out, name);
  let note: string | undefined;
  const withBytecode = await buildFailure(root, entry, p, outfile, true);
  if (withBytecode !== undefined) {
    note = `bytecode build failed, built without: ${withBytecode.split("\n").pop()}`;
    rmSync(outfile, { force: true });
    const plain = await buildFailure(root, entry, p, outfile, false);
    if (plain !== undefined) throw new Error(`release: bun build ${entry} for ${p.target} failed:\n${plain}`);
  }
  const data = readFileSync(outfile);
  return {
    name,
    program: binary,
    platform: p.platform,
    target: p.target,
    bytes: data.length,
    sha256: bytesToHex(sha256(data)),
    bytecode: withBytecode === undefined,
    smokeTested: runsHere(p),
    ...(note ? { note } : {}),
  };
}

function loadSigningKey(env: Record<string, string | undefined>): { seed: Uint8Array; ephemeral: boolean } {
  const path = env.OPENSCOPE_RELEASE_KEY;
  if (path) return { seed: parsePrivateKeyPem(readFileSync(path, "utf8"), `OPENSCOPE_RELEASE_KEY (${path})`), ephemeral: false };
  return { seed: ed25519.utils.randomSecretKey(), ephemeral: true };
}

async function release(argv: string[]) {
  const root = new URL("..", import.meta.url).pathname;
  const flag = (n: string) => (argv.includes(n) ? argv[argv.indexOf(n) + 1] : undefined);
  const wanted = flag("--targets")?.split(",");
  const platforms = wanted ? PLATFORMS.filter((p) => wanted.includes(p.platform)) : [...PLATFORMS];
  if (wanted && platforms.length !== wanted.length) {
    throw new Error(`release: unknown target in --targets (known: ${PLATFORMS.map((p) => p.platform).join(", ")})`);
  }
  const out = flag("--out") ?? join(root, "dist", "release");
  const { seed, ephemeral } = loadSigningKey(process.env);
  const pub = ed25519.getPublicKey(seed);
  const committed = existsSync(join(root, "release-key.pub")) ? parsePublicKeyPem(readFileSync(join(root, "release-key.pub"), "utf8")) : undefined;
  const matchesRepoKey = committed !== undefined && bytesToHex(committed) === bytesToHex(pub);

  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const built: Built[] = [];
  for (const p of platforms) {
    for (const { entry, binary } of ENTRIES) {
      const started = performance.now();
      const b = await buildOne(root, out, entry, binary, p);
      built.push(b);
      const ms = Math.round(performance.now() - started);
      console.log(`built ${b.name} (${(b.bytes / 1e6).toFixed(1)} MB, bytecode ${b.bytecode ? "yes" : "no"}, ${ms} ms)`);
    }
  }
  // The installer pins the repo's release key; no key travels beside the artifacts, since a key
  // from the same download proves nothing.
  writeFileSync(join(out, "install.sh"), installerWithPinnedKey(readFileSync(join(root, "install.sh"), "utf8"), committed));
  const names = [...built.map((b) => b.name), "install.sh"];
  writeSignedSums(out, names, seed);
  const manifest = {
    version: VERSION,
    createdAt: new Date().toISOString(),
    signature: {
      algorithm: "Ed25519",
      file: "SHA256SUMS.sig",
      publicKey: publicKeyPem(pub),
      ephemeral,
      matchesRepoKey,
    },
    artifacts: built,
  };
  writeFileSync(join(out, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(`wrote ${basename(out)}/SHA256SUMS, SHA256SUMS.sig, manifest.json (${built.length} binaries)`);
  if (ephemeral) {
    writeFileSync(join(out, "ephemeral-signing-key.pub"), publicKeyPem(pub));
    console.warn(
      "release: OPENSCOPE_RELEASE_KEY not set: signed with an EPHEMERAL key (local build only); " +
        "install.sh refuses this folder unless OPENSCOPE_RELEASE_PUBKEY names ephemeral-signing-key.pub",
    );
  } else if (!matchesRepoKey) {
    console.warn("release: the signing key does not match release-key.pub in the repo");
  }
}

/** install.sh with its RELEASE_PUBKEY block set to the repo's release-key.pub. */
export function installerWithPinnedKey(script: string, repoKey: Uint8Array | undefined): string {
  if (!repoKey) throw new Error("release: release-key.pub is missing from the repo: the installer has no key to pin");
  const block = /RELEASE_PUBKEY='[^']*'/;
  if (!block.test(script)) throw new Error("release: install.sh has no RELEASE_PUBKEY block");
  return script.replace(block, `RELEASE_PUBKEY='${publicKeyPem(repoKey).trim()}'`);
}

function keygen(path: string | undefined) {
  if (!path) throw new Error("release: usage: bun scripts/release.ts keygen <private-key.pem>");
  if (existsSync(path)) throw new Error(`release: ${path} exists, refusing to overwrite a key`);
  const seed = ed25519.utils.randomSecretKey();
  writeFileSync(path, privateKeyPem(seed), { mode: 0o600 });
  process.stdout.write(publicKeyPem(ed25519.getPublicKey(seed)));
}

if (import.meta.main) {
  const argv = process.argv.slice(2);
  try {
    if (argv[0] === "keygen") keygen(argv[1]);
    else await release(argv);
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  }
}
