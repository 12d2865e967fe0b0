// Noise CipherState (rev. 34 §5.1): a key and a counter nonce. Encrypting past the nonce limit
// is refused rather than wrapping: the spec reserves 2^64-1, and this implementation keeps the
// counter in a JS number, so its limit is 2^53-1 unless a caller sets a lower one. Records of
// bulk size may go to the suite's asynchronous cipher (`sealRecord` / `openRecord`).
import { chachaNonce, noble, type BulkKey, type NoiseCrypto } from "./crypto.ts";
import { OpenScopeError } from "../errors.ts";

export const MAX_NONCE = Number.MAX_SAFE_INTEGER;

export class CipherState {
  private k: Uint8Array | null = null;
  private n = 0;
  private bulkKey: BulkKey | undefined;

  constructor(
    key: Uint8Array | null = null,
    readonly nonceLimit: number = MAX_NONCE,
    readonly suite: NoiseCrypto = noble,
  ) {
    if (key) this.initializeKey(key);
  }

  initializeKey(key: Uint8Array): void {
    if (key.length !== 32) throw new Error(`cipher key: expected 32 bytes, got ${key.length}`);
    this.k = key;
    this.n = 0;
    this.bulkKey = undefined;
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
    const out = this.suite.encrypt(this.k, this.n, ad, plaintext);
    this.n++;
    return out;
  }

  /** Throws on a bad tag; the nonce then does not advance (Noise §5.1). */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    if (!this.k) return ciphertext.slice();
    this.checkNonce();
    const out = this.suite.decrypt(this.k, this.n, ad, ciphertext);
    this.n++;
    return out;
  }

  /**
   * EncryptWithAd for a transport record: a record of at least the bulk cipher's size comes back
   * as a promise, the others at once. Either way the nonce is taken now, so callers keep the
   * results in call order (they are the wire order).
   */
  sealRecord(ad: Uint8Array, plaintext: Uint8Array): Uint8Array | Promise<Uint8Array> {
    const bulk = this.bulk(plaintext.length);
    if (!bulk) return this.encryptWithAd(ad, plaintext);
    this.checkNonce();
    return bulk.encrypt(chachaNonce(this.n++), ad, plaintext);
  }

  /**
   * DecryptWithAd for a transport record, as sealRecord. On the asynchronous path the nonce
   * advances before the tag is known: a rejected record must end the session (it does in
   * lib/wire/channel.ts), since this state is then past it.
   */
  openRecord(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array | Promise<Uint8Array> {
    const bulk = this.bulk(ciphertext.length - 16);
    if (!bulk) return this.decryptWithAd(ad, ciphertext);
    this.checkNonce();
    return bulk.decrypt(chachaNonce(this.n++), ad, ciphertext);
  }

  private bulk(plaintextLength: number): BulkKey | undefined {
    const cipher = this.suite.bulk;
    if (!cipher || !this.k || plaintextLength < cipher.minBytes) return undefined;
    return (this.bulkKey ??= cipher.bind(this.k));
  }

  private checkNonce(): void {
    if (this.n >= this.nonceLimit) throw new OpenScopeError("connection", "noise: nonce limit reached");
  }
}
