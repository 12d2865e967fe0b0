// Deployment tokens of the relay (SPEC.md §12): the tokens-file format (one token per line, `#`
// comments, blank lines ignored) and the constant-time check of a presented bearer token. A token
// is known by its key, a hash that stays stable across reloads, never by its text.
import { nodeCrypto } from "../platform/node-crypto.ts";
import { readFileSync } from "node:fs";
import { OpenScopeError, usageError } from "../errors.ts";
import { refuseExposedSecretFile } from "../host/file-mode.ts";

const TOKEN = /^[\x21-\x7e]{1,512}$/; // printable ASCII, no spaces

function digest(token: string): Buffer {
  return nodeCrypto().createHash("sha256").update(token, "utf8").digest();
}

/** Parses a tokens file's text. Refuses a line that is not one printable token. */
export function parseTokensFile(text: string, source = "tokens file"): string[] {
  const tokens: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    if (!TOKEN.test(line)) {
      throw usageError(`relay: ${source} line ${i + 1} is not a token`, ["one token per line, printable characters, no spaces; # starts a comment"]);
    }
    tokens.push(line);
  }
  return tokens;
}

export class TokenSet {
  private digests: Buffer[] = [];
  private keys = new Set<string>();

  constructor(tokens: string[] = []) {
    this.replace(tokens);
  }

  replace(tokens: string[]): void {
    this.digests = tokens.map(digest);
    this.keys = new Set(this.digests.map((d) => d.toString("hex").slice(0, 32)));
  }

  get size(): number {
    return this.digests.length;
  }

  /**
   * The key of the token if it is one of ours, else null. Compares the presented token's hash
   * with every known hash in constant time, without stopping at the first match.
   */
  check(presented: string): string | null {
    const d = digest(presented);
    let match: Buffer | null = null;
    for (const known of this.digests) if (nodeCrypto().timingSafeEqual(d, known)) match = known;
    return match ? match.toString("hex").slice(0, 32) : null;
  }

  has(key: string): boolean {
    return this.keys.has(key);
  }
}

/** Reads a tokens file from disk, as a usage error when it cannot be read. */
export function readTokensFile(path: string): string[] {
  let text: string;
  try {
    refuseExposedSecretFile(path, "relay: tokens file");
    text = readFileSync(path, "utf8");
  } catch (e) {
    if (e instanceof OpenScopeError) throw e;
    throw usageError(`relay: cannot read tokens file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, ["pass --tokens-file with a readable file, one token per line"]);
  }
  return parseTokensFile(text, `tokens file ${path}`);
}
