// Noise SymmetricState (rev. 34 §5.2): the chaining key ck, the handshake hash h and the
// CipherState they key. MixKey, MixHash, MixKeyAndHash, EncryptAndHash, DecryptAndHash, Split.
import { CipherState } from "./cipher-state.ts";
import { concat, hkdf, noble, type NoiseCrypto, type NoiseHash } from "./crypto.ts";

export class SymmetricState {
  private ck: Uint8Array;
  private h: Uint8Array;
  private readonly cs: CipherState;

  constructor(
    protocolName: string,
    private readonly hash: NoiseHash,
    private readonly suite: NoiseCrypto = noble,
  ) {
    this.cs = new CipherState(null, undefined, suite);
    const name = new TextEncoder().encode(protocolName);
    if (name.length <= hash.hashLen) {
      this.h = new Uint8Array(hash.hashLen);
      this.h.set(name);
    } else {
      this.h = hash.hash(name);
    }
    this.ck = this.h;
  }

  get handshakeHash(): Uint8Array {
    return this.h;
  }

  hasKey(): boolean {
    return this.cs.hasKey();
  }

  mixKey(ikm: Uint8Array): void {
    const [ck, tempK] = hkdf(this.hash, this.ck, ikm, 2);
    this.ck = ck!;
    this.cs.initializeKey(tempK!.subarray(0, 32));
  }

  mixHash(data: Uint8Array): void {
    this.h = this.hash.hash(concat(this.h, data));
  }

  mixKeyAndHash(ikm: Uint8Array): void {
    const [ck, tempH, tempK] = hkdf(this.hash, this.ck, ikm, 3);
    this.ck = ck!;
    this.mixHash(tempH!);
    this.cs.initializeKey(tempK!.subarray(0, 32));
  }

  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const ct = this.cs.encryptWithAd(this.h, plaintext);
    this.mixHash(ct);
    return ct;
  }

  decryptAndHash(ciphertext: Uint8Array): Uint8Array {
    const pt = this.cs.decryptWithAd(this.h, ciphertext);
    this.mixHash(ciphertext);
    return pt;
  }

  /** Two CipherStates: the first for initiator→responder, the second for the reverse. */
  split(nonceLimit?: number): [CipherState, CipherState] {
    const [k1, k2] = hkdf(this.hash, this.ck, new Uint8Array(0), 2);
    return [new CipherState(k1!.subarray(0, 32), nonceLimit, this.suite), new CipherState(k2!.subarray(0, 32), nonceLimit, this.suite)];
  }
}
