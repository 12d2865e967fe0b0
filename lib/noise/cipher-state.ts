// Noise CipherState (rev. 34 §5.1): a key and a counter nonce. Encrypting past the nonce limit
// is refused rather than wrapping: the spec reserves 2^64-1, and this implementation keeps the
// counter in a JS number, so its limit is 2^53-1 unless a caller sets a lower one.
import { decrypt, encrypt } from "./crypto.ts";
import { OpenScopeError } from "../errors.ts";

export const MAX_NONCE = Number.MAX_SAFE_INTEGER;

export class CipherState {
  private k: Uint8Array | null = null;
  private n = 0;

  constructor(
    key: Uint8Array | null = null,
    readonly nonceLimit: number = MAX_NONCE,
  ) {
    if (key) this.initializeKey(key);
  }

  initializeKey(key: Uint8Array): void {
    if (key.length !== 32) throw new Error(`cipher key: expected 32 bytes, got ${key.length}`);
    this.k = key;
    this.n = 0;
  }

  hasKey(): boolean {
    return this.k !== null;
  }

  get nonce(): number {
    return this.n;
  }

  /** Noise SetNonce; used by tests to reach the limit without 2^53 encryptions. */
  setNonce(n: number): void {
    this.n = n;
  }

  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    if (!this.k) return plaintext.slice();
    this.checkNonce();
    const out = encrypt(this.k, this.n, ad, plaintext);
    this.n++;
    return out;
  }

  /** Throws on a bad tag; the nonce then does not advance (Noise §5.1). */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    if (!this.k) return ciphertext.slice();
    this.checkNonce();
    const out = decrypt(this.k, this.n, ad, ciphertext);
    this.n++;
    return out;
  }

  private checkNonce(): void {
    if (this.n >= this.nonceLimit) throw new OpenScopeError("connection", "noise: nonce limit reached");
  }
}
