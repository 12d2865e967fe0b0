// Key files: round trip, mode 0600, refused when group/world can read, never clobbered.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateX25519 } from "../../lib/crypto/keys.ts";
import {
  generateDaemonIdentity,
  readDaemonIdentity,
  readRecipientKey,
  writeDaemonIdentity,
  writeRecipientKey,
} from "../../lib/host/keyfile.ts";

const dir = mkdtempSync(join(tmpdir(), "openscope-keyfile-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const mode = (p: string) => statSync(p).mode & 0o777;

describe("key files", () => {
  test("daemon identity: written 0600, read back, never overwritten", () => {
    const path = join(dir, "identity.key");
    const id = generateDaemonIdentity();
    writeDaemonIdentity(path, id);
    expect(mode(path)).toBe(0o600);
    expect(readDaemonIdentity(path)).toEqual(id);
    expect(readFileSync(path, "utf8")).toContain("kind: openscope-daemon-identity-v1");
    expect(() => writeDaemonIdentity(path, generateDaemonIdentity())).toThrow("already exists");
    expect(readDaemonIdentity(path)).toEqual(id);
  });

  test("recipient key: parent folders 0700, overwrite only with force", () => {
    const path = join(dir, "cfg", "openscope", "recipient.key");
    const k = generateX25519();
    writeRecipientKey(path, k);
    expect(mode(path)).toBe(0o600);
    expect(mode(join(dir, "cfg", "openscope"))).toBe(0o700);
    expect(readRecipientKey(path)).toEqual(k);
    const k2 = generateX25519();
    expect(() => writeRecipientKey(path, k2)).toThrow("already exists");
    writeRecipientKey(path, k2, { force: true });
    expect(readRecipientKey(path)).toEqual(k2);
    expect(mode(path)).toBe(0o600);
  });

  test("refused when group or world can read, naming the path and chmod 600", () => {
    const path = join(dir, "loose.key");
    writeRecipientKey(path, generateX25519());
    for (const m of [0o644, 0o640, 0o604, 0o660]) {
      chmodSync(path, m);
      let err: any;
      try {
        readRecipientKey(path);
      } catch (e) {
        err = e;
      }
      expect(err.kind).toBe("usage");
      expect(err.message).toContain(path);
      expect(err.hints).toEqual([`chmod 600 ${path}`]);
    }
    chmodSync(path, 0o400);
    expect(readRecipientKey(path).publicKey.length).toBe(32);
  });

  test("malformed, mismatched or missing files give a usage error naming the path", () => {
    const path = join(dir, "bad.key");
    const k = generateX25519();
    writeRecipientKey(path, k);
    const good = readFileSync(path, "utf8");
    const other = generateX25519();
    const cases = [
      good.replace(/private-key: .*/, "private-key: nope"),
      good.replace("kind: openscope-recipient-key-v1", "kind: something-else"),
      good.replace(/private-key: .*/, `private-key: ${Buffer.from(other.privateKey).toString("base64url")}`),
      good + "extra: field\n",
      "garbage",
    ];
    for (const text of cases) {
      writeFileSync(path, text, { mode: 0o600 });
      chmodSync(path, 0o600);
      let err: any;
      try {
        readRecipientKey(path);
      } catch (e) {
        err = e;
      }
      expect(err?.kind).toBe("usage");
      expect(err.message).toStartWith(`key file: ${path}`);
    }
    expect(() => readRecipientKey(join(dir, "missing.key"))).toThrow("does not exist");
    expect(() => readDaemonIdentity(path)).toThrow("key file:");
  });
});
