// Key files on disk (SPEC.md §8.3): the daemon identity and a recipient's key, in a small
// line-based text format, created with mode 0600 and refused when group or others have any
// access, like OpenSSH. Reads are parsed with a valibot schema; writes never clobber silently.
import { ed25519 } from "@noble/curves/ed25519.js";
import { chmodSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync, closeSync } from "node:fs";
import { dirname } from "node:path";
import * as v from "valibot";
import { OpenScopeError, usageError } from "../errors.ts";
import { decodePublicKey, encodePublicKey, generateX25519, x25519Public } from "../crypto/keys.ts";
import { defaultRandom, type Random } from "../noise/crypto.ts";
import { equalBytes } from "../bytes.ts";
import { fromBase64url, toBase64url } from "../bytes.ts";

export interface DaemonIdentity {
  noisePrivate: Uint8Array;
  noisePublic: Uint8Array;
  signPrivate: Uint8Array /* ed25519 seed */;
  signPublic: Uint8Array;
}

export const DAEMON_KIND = "openscope-daemon-identity-v1";
export const RECIPIENT_KIND = "openscope-recipient-key-v1";

const b64 = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{43}$/, "must be 32 bytes of base64url"));
const osk = v.pipe(v.string(), v.startsWith("osk1", "must be an osk1 public key"));
const DaemonSchema = v.strictObject({
  kind: v.literal(DAEMON_KIND),
  "noise-public-key": osk,
  "noise-private-key": b64,
  "sign-public-key": b64,
  "sign-private-key": b64,
});
const RecipientSchema = v.strictObject({
  kind: v.literal(RECIPIENT_KIND),
  "public-key": osk,
  "private-key": b64,
});

export function generateDaemonIdentity(random: Random = defaultRandom): DaemonIdentity {
  const noise = generateX25519(random);
  const signPrivate = random(32);
  return {
    noisePrivate: noise.privateKey,
    noisePublic: noise.publicKey,
    signPrivate,
    signPublic: ed25519.getPublicKey(signPrivate),
  };
}

export function formatDaemonIdentity(id: DaemonIdentity): string {
  return [
    "# OpenScope daemon identity. Secret: keep mode 0600, never share this file.",
    `kind: ${DAEMON_KIND}`,
    `noise-public-key: ${encodePublicKey(id.noisePublic)}`,
    `noise-private-key: ${toBase64url(id.noisePrivate)}`,
    `sign-public-key: ${toBase64url(id.signPublic)}`,
    `sign-private-key: ${toBase64url(id.signPrivate)}`,
    "",
  ].join("\n");
}

export function formatRecipientKey(key: { privateKey: Uint8Array; publicKey: Uint8Array }): string {
  return [
    "# OpenScope recipient key. Secret: keep mode 0600; give the operator only the public key.",
    `kind: ${RECIPIENT_KIND}`,
    `public-key: ${encodePublicKey(key.publicKey)}`,
    `private-key: ${toBase64url(key.privateKey)}`,
    "",
  ].join("\n");
}

/** "name: value" lines; blank lines and "#" comments ignored; a repeated name is an error. */
function parseLines(path: string, text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-z-]+):\s*(\S+)$/.exec(line);
    if (!m) throw usageError(`key file: ${path}: line ${i + 1} is not "name: value"`);
    if (m[1]! in out) throw usageError(`key file: ${path}: "${m[1]}" appears twice`);
    out[m[1]!] = m[2]!;
  }
  return out;
}

function parseWith<S extends v.GenericSchema>(path: string, schema: S, text: string, what: string): v.InferOutput<S> {
  const r = v.safeParse(schema, parseLines(path, text));
  if (!r.success) {
    const issue = r.issues[0];
    const key = issue.path?.map((p: { key: unknown }) => String(p.key)).join(".") ?? "";
    throw usageError(`key file: ${path} is not ${what}${key ? ` (${key}: ${issue.message})` : ` (${issue.message})`}`);
  }
  return r.output;
}

/** Refuses a key file that group or others can access (any of mode 077), as OpenSSH does. */
export function checkKeyFileMode(path: string): void {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw usageError(`key file: ${path} does not exist`);
    throw usageError(`key file: cannot read ${path}: ${(e as Error).message}`);
  }
  if (process.platform !== "win32" && (mode & 0o077) !== 0)
    throw usageError(`key file: ${path} is accessible by group or others (mode ${(mode & 0o777).toString(8).padStart(4, "0")})`, [
      `chmod 600 ${path}`,
    ]);
}

function readKeyText(path: string): string {
  checkKeyFileMode(path);
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw usageError(`key file: cannot read ${path}: ${(e as Error).message}`);
  }
}

function field(path: string, name: string, text: string): Uint8Array {
  try {
    return fromBase64url(text);
  } catch {
    throw usageError(`key file: ${path}: ${name} is not base64url`);
  }
}

export function readDaemonIdentity(path: string): DaemonIdentity {
  const f = parseWith(path, DaemonSchema, readKeyText(path), "an OpenScope daemon identity");
  let noisePublic: Uint8Array;
  try {
    noisePublic = decodePublicKey(f["noise-public-key"]);
  } catch {
    throw usageError(`key file: ${path}: noise-public-key is damaged`);
  }
  const id: DaemonIdentity = {
    noisePrivate: field(path, "noise-private-key", f["noise-private-key"]),
    noisePublic,
    signPrivate: field(path, "sign-private-key", f["sign-private-key"]),
    signPublic: field(path, "sign-public-key", f["sign-public-key"]),
  };
  if (!equalBytes(x25519Public(id.noisePrivate), id.noisePublic))
    throw usageError(`key file: ${path}: noise-public-key does not match noise-private-key`);
  if (!equalBytes(ed25519.getPublicKey(id.signPrivate), id.signPublic))
    throw usageError(`key file: ${path}: sign-public-key does not match sign-private-key`);
  return id;
}

export function readRecipientKey(path: string): { privateKey: Uint8Array; publicKey: Uint8Array } {
  const f = parseWith(path, RecipientSchema, readKeyText(path), "an OpenScope recipient key");
  let publicKey: Uint8Array;
  try {
    publicKey = decodePublicKey(f["public-key"]);
  } catch {
    throw usageError(`key file: ${path}: public-key is damaged`);
  }
  const privateKey = field(path, "private-key", f["private-key"]);
  if (!equalBytes(x25519Public(privateKey), publicKey))
    throw usageError(`key file: ${path}: public-key does not match private-key`);
  return { privateKey, publicKey };
}

/** Writes a temporary 0600 file beside `path`, then links (no overwrite) or renames it in. */
function writeSecretFile(path: string, text: string, overwrite: boolean, existsHint: string): void {
  const dir = dirname(path);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw usageError(`key file: cannot create ${dir}: ${(e as Error).message}`);
  }
  const tmp = `${path}.tmp-${process.pid}-${toBase64url(defaultRandom(6))}`;
  try {
    const fd = openSync(tmp, "wx", 0o600);
    try {
      writeSync(fd, text);
    } finally {
      closeSync(fd);
    }
    chmodSync(tmp, 0o600);
    if (overwrite) renameSync(tmp, path);
    else {
      try {
        linkSync(tmp, path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "EEXIST")
          throw usageError(`key file: ${path} already exists; refusing to overwrite it`, [existsHint]);
        throw e;
      }
    }
  } catch (e) {
    if (e instanceof OpenScopeError) throw e;
    throw usageError(`key file: cannot write ${path}: ${(e as Error).message}`);
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // already renamed into place
    }
  }
}

/** Never overwrites an existing file. */
export function writeDaemonIdentity(path: string, id: DaemonIdentity): void {
  writeSecretFile(path, formatDaemonIdentity(id), false, "the daemon already has an identity; move the file away only to start over with a new fingerprint");
}

/** Creates parent folders 0700; refuses to overwrite unless `force`. */
export function writeRecipientKey(
  path: string,
  key: { privateKey: Uint8Array; publicKey: Uint8Array },
  opts: { force?: boolean } = {},
): void {
  writeSecretFile(path, formatRecipientKey(key), opts.force === true, "use --force to replace it (the operator must then register the new public key)");
}
