// The byte prefilter's fast path (SPEC.md §17.3): a WebAssembly SIMD search for short byte
// fingerprints, 16 positions per step, over raw output bytes (no decoding). It is the "Teddy"
// technique of Hyperscan and Rust's aho-corasick: each of up to 8 buckets of fingerprints gets,
// for each of 3 offsets, a table from a byte's low nibble and one from its high nibble to the
// buckets that allow that nibble there; a position is a candidate when some bucket allows its
// byte, the next byte and the one after. The nibble tables over-approximate a bucket's byte sets,
// so candidates are a superset of the fingerprints' places: each is checked exactly (matchesAt)
// before the scanner decodes its line for the gate regex. Pure: the module is assembled here from
// its instruction list (no binary is checked in).

/** A fingerprint: the bytes allowed at each of up to 3 offsets ("aA" allows both cases). */
export type Fingerprint = readonly string[];

/** A literal fingerprint of up to 3 bytes, matched exactly. */
export function literal(text: string): Fingerprint {
  return [...text.slice(0, 3)];
}

/** A fingerprint of up to 3 bytes, matched in any ASCII letter case. */
export function anyCaseLiteral(text: string): Fingerprint {
  return [...text.slice(0, 3)].map((c) => (c.toLowerCase() === c.toUpperCase() ? c : c.toLowerCase() + c.toUpperCase()));
}

const BUCKETS = 8;
const OFFSETS = 3;
/** Where the window of bytes starts in the module's memory (the tables sit below it). */
const DATA = 128;
/** Bytes searched per window; the window is followed by 2 bytes of lookahead. */
export const WINDOW = 64 * 1024;

// ---- the module, assembled ----

const enum Op {
  block = 0x02, loop = 0x03, if_ = 0x04, end = 0x0b, br = 0x0c, br_if = 0x0d, return_ = 0x0f,
  local_get = 0x20, local_set = 0x21, local_tee = 0x22, i32_const = 0x41, i32_ge_u = 0x4f,
  i32_ctz = 0x68, i32_add = 0x6a, i32_sub = 0x6b, simd = 0xfd, void_ = 0x40,
}
const enum Simd {
  v128_load = 0, v128_const = 12, i8x16_shuffle = 13, i8x16_swizzle = 14, i8x16_ne = 36, v128_and = 78,
  v128_any_true = 83, i8x16_bitmask = 100, i8x16_shr_u = 109, i8x16_relaxed_swizzle = 0x100,
}

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function name(text: string): number[] {
  return [...uleb(text.length), ...[...text].map((c) => c.charCodeAt(0))];
}

const simd = (op: Simd): number[] => [Op.simd, ...uleb(op)];
const load = (offset: number): number[] => [...simd(Simd.v128_load), 0, ...uleb(offset)]; // align 1: any address
const get = (i: number): number[] => [Op.local_get, i];
const set = (i: number): number[] => [Op.local_set, i];
const v128 = (bytes: number[]): number[] => [...simd(Simd.v128_const), ...bytes];
/** Lanes `from`, from+1, … of the 32 lanes of two vectors: the second shifted by 32 - from lanes. */
const shift = (from: number): number[] => [...simd(Simd.i8x16_shuffle), ...Array.from({ length: 16 }, (_, i) => from + i)];

// locals: 0 = position, 1 = end (params); v128: the lo/hi table per offset, the nibble mask, the
// block's low and high nibbles, the block's buckets at offsets 0 and 1 and the previous block's
const POS = 0, END = 1, LO = [2, 4, 6], HI = [3, 5, 7], NIBBLE = 8, LOW = 9, HIGH = 10;
const C0 = 11, C1 = 12, PREV0 = 13, PREV1 = 14, MATCH = 15;
const V128_LOCALS = 14;

/**
 * find(pos, end) → the first candidate address at or after pos (one past `end` or more means
 * none in range), or -1. The tables are read from addresses 0..95; the bytes up to end + 17 are
 * read (those past end + 2 only decide candidates at end or later, which the caller drops).
 *
 * Each 16-byte block is loaded once and split into nibbles; c_k = the buckets that allow each
 * byte at offset k. A fingerprint starts at lane j - 2 when c0 of lane j - 2, c1 of lane j - 1
 * and c2 of lane j agree: c0 and c1 are shifted into place with the previous block's (Hyperscan's
 * Teddy). `swizzle` is relaxed_swizzle where available: the nibbles are always below 16.
 */
function findBody(swizzle: Simd): number[] {
  const lookup = (k: number): number[] => [...get(LO[k]!), ...get(LOW), ...simd(swizzle), ...get(HI[k]!), ...get(HIGH), ...simd(swizzle), ...simd(Simd.v128_and)];
  const tables: number[] = [];
  for (let k = 0; k < OFFSETS; k++) tables.push(Op.i32_const, 0, ...load(32 * k), ...set(LO[k]!), Op.i32_const, 0, ...load(32 * k + 16), ...set(HI[k]!));
  const code = [
    ...tables,
    ...v128(new Array(16).fill(0x0f)), ...set(NIBBLE),
    Op.block, Op.void_,
    Op.loop, Op.void_,
    // while pos < end + 2: a block's last two lanes start fingerprints finished in the next block
    ...get(POS), ...get(END), Op.i32_const, 2, Op.i32_add, Op.i32_ge_u, Op.br_if, 1,
    ...get(POS), ...load(0), Op.local_tee, HIGH, ...get(NIBBLE), ...simd(Simd.v128_and), ...set(LOW),
    ...get(HIGH), Op.i32_const, 4, ...simd(Simd.i8x16_shr_u), ...set(HIGH),
    ...lookup(0), ...set(C0),
    ...lookup(1), ...set(C1),
    ...lookup(2),
    ...get(PREV1), ...get(C1), ...shift(15), ...simd(Simd.v128_and),
    ...get(PREV0), ...get(C0), ...shift(14), ...simd(Simd.v128_and),
    Op.local_tee, MATCH, ...simd(Simd.v128_any_true),
    Op.if_, Op.void_,
    ...get(MATCH), ...v128(new Array(16).fill(0)), ...simd(Simd.i8x16_ne), ...simd(Simd.i8x16_bitmask),
    Op.i32_ctz, ...get(POS), Op.i32_add, Op.i32_const, 2, Op.i32_sub, Op.return_,
    Op.end,
    ...get(C0), ...set(PREV0), ...get(C1), ...set(PREV1),
    ...get(POS), Op.i32_const, 16, Op.i32_add, ...set(POS), Op.br, 0,
    Op.end,
    Op.end,
    Op.i32_const, 0x7f, // -1
    Op.end,
  ];
  const body = [1, V128_LOCALS, 0x7b, ...code]; // one group of v128 locals
  return [...uleb(body.length), ...body];
}

function assemble(swizzle: Simd): Uint8Array {
  const pages = Math.ceil((DATA + WINDOW + 64) / 65536);
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 2, 0x7f, 0x7f, 1, 0x7f]), // type: (i32, i32) → i32
    ...section(3, [1, 0]), // one function of that type
    ...section(5, [1, 0x00, ...uleb(pages)]), // memory
    ...section(7, [2, ...name("find"), 0x00, 0, ...name("memory"), 0x02, 0]),
    ...section(10, [1, ...findBody(swizzle)]),
  ]);
}

interface Instance {
  find(pos: number, end: number): number;
  memory: Uint8Array;
  /** The tables now in memory (set by the last search). */
  tables?: Uint8Array;
  /** The search whose bytes are now in memory. */
  owner?: object;
}

let instance: Instance | null | undefined;
/** The module, once per thread; null where WebAssembly SIMD is not available. */
function simdInstance(): Instance | null {
  if (instance !== undefined) return instance;
  instance = null;
  for (const swizzle of [Simd.i8x16_relaxed_swizzle, Simd.i8x16_swizzle]) {
    try {
      const wasm = new WebAssembly.Instance(new WebAssembly.Module(assemble(swizzle)));
      const exports = wasm.exports as { find(pos: number, end: number): number; memory: WebAssembly.Memory };
      instance = { find: exports.find, memory: new Uint8Array(exports.memory.buffer) };
      break;
    } catch {
      // no relaxed SIMD here (then the plain swizzle), or no SIMD at all (then the string path)
    }
  }
  return instance;
}

/** Nibble tables for the buckets: for offset k, 16 low-nibble then 16 high-nibble bytes. */
export function bucketTables(buckets: readonly (readonly Fingerprint[])[]): Uint8Array {
  if (buckets.length > BUCKETS) throw new Error(`redact: ${buckets.length} fingerprint buckets, at most ${BUCKETS}`);
  const tables = new Uint8Array(32 * OFFSETS);
  buckets.forEach((bucket, b) => {
    const bit = 1 << b;
    for (const fp of bucket) {
      for (let k = 0; k < OFFSETS; k++) {
        const allowed = fp[k];
        if (allowed === undefined) {
          for (let n = 0; n < 16; n++) (tables[32 * k + n]! |= bit), (tables[32 * k + 16 + n]! |= bit);
          continue;
        }
        for (const byte of fingerprintBytes(allowed)) {
          tables[32 * k + (byte & 15)]! |= bit;
          tables[32 * k + 16 + (byte >> 4)]! |= bit;
        }
      }
    }
  });
  return tables;
}

function fingerprintBytes(allowed: string): number[] {
  return [...allowed].map((c) => {
    const byte = c.charCodeAt(0);
    if (c.length !== 1 || byte > 0xff) throw new Error(`redact: fingerprint byte ${JSON.stringify(c)} is not one byte`);
    return byte;
  });
}

/** How often a byte shows up in log text, roughly: letters most, then digits and punctuation. */
function byteWeight(byte: number): number {
  if ((byte >= 0x61 && byte <= 0x7a) || byte === 0x20) return 4;
  if ((byte >= 0x41 && byte <= 0x5a) || (byte >= 0x30 && byte <= 0x39)) return 1.5;
  if (byte > 0x20 && byte < 0x7f) return 0.7;
  return 0.05;
}
const TOTAL_WEIGHT = Array.from({ length: 256 }, (_, b) => byteWeight(b)).reduce((a, b) => a + b, 0);

/** The estimated share of positions a bucket flags: the product, per offset, of its nibble sets' weight. */
function bucketCost(bucket: readonly Fingerprint[]): number {
  let p = 1;
  for (let k = 0; k < OFFSETS; k++) {
    const lo = new Set<number>();
    const hi = new Set<number>();
    for (const fp of bucket) {
      const allowed = fp[k];
      if (allowed === undefined) return p; // any byte from here on
      for (const byte of fingerprintBytes(allowed)) lo.add(byte & 15), hi.add(byte >> 4);
    }
    let w = 0;
    for (const h of hi) for (const l of lo) w += byteWeight((h << 4) | l);
    p *= w / TOTAL_WEIGHT;
  }
  return p;
}

/**
 * The buckets with more fingerprints added (a site's rule keywords): each goes into the bucket
 * whose estimated hit rate it raises least. The given buckets are kept (hand-made for the
 * built-in rules, measured on log text); empty slots up to 8 are filled first.
 */
export function addToBuckets(buckets: readonly (readonly Fingerprint[])[], more: readonly Fingerprint[]): Fingerprint[][] {
  const out = buckets.map((b) => [...b]);
  for (const fp of more) {
    if (out.length < BUCKETS) {
      out.push([fp]);
      continue;
    }
    let best = 0;
    let bestExtra = Infinity;
    out.forEach((b, i) => {
      const extra = bucketCost([...b, fp]) - bucketCost(b);
      if (extra < bestExtra) (best = i), (bestExtra = extra);
    });
    out[best]!.push(fp);
  }
  return out;
}

/** Every byte string a fingerprint matches exactly, as keys of up to 3 bytes (b0 | b1 << 8 | b2 << 16, plus the length). */
function exactKeys(fp: Fingerprint): number[] {
  let keys = [0];
  fp.forEach((allowed, k) => {
    keys = keys.flatMap((key) => fingerprintBytes(allowed).map((byte) => key | (byte << (8 * k))));
  });
  return keys.map((key) => key + fp.length * 0x1000000);
}

/** Finds candidate positions of a set of fingerprints in bytes. */
export class SimdPrefilter {
  private readonly exact: Set<number>;
  private readonly lengths: number[];

  private constructor(
    private readonly wasm: Instance,
    private readonly tables: Uint8Array,
    fingerprints: readonly Fingerprint[],
  ) {
    this.exact = new Set(fingerprints.flatMap(exactKeys));
    this.lengths = [...new Set(fingerprints.map((fp) => fp.length))];
  }

  /** The prefilter for these buckets of fingerprints, or undefined where WebAssembly SIMD is not available. */
  static create(buckets: readonly (readonly Fingerprint[])[]): SimdPrefilter | undefined {
    const fingerprints = buckets.flat();
    if (fingerprints.length === 0 || fingerprints.some((fp) => fp.length === 0 || fp.length > OFFSETS)) {
      throw new Error("redact: a byte prefilter needs fingerprints of 1 to 3 bytes");
    }
    const wasm = simdInstance();
    return wasm ? new SimdPrefilter(wasm, bucketTables(buckets), fingerprints) : undefined;
  }

  /** Whether a fingerprint matches bytes[pos…] exactly (the nibble tables only approximate them). */
  matchesAt(bytes: Uint8Array, pos: number, end: number): boolean {
    for (const n of this.lengths) {
      if (pos + n > end) continue;
      let key = n * 0x1000000;
      for (let k = 0; k < n; k++) key |= bytes[pos + k]! << (8 * k);
      if (this.exact.has(key)) return true;
    }
    return false;
  }

  /**
   * A search over bytes[start, end): next(from) is the first candidate position at or after
   * `from`, or -1. A candidate may be a near miss: check it with matchesAt. Searches may
   * interleave (the module's memory is one per thread: a search whose bytes were replaced by
   * another's copies its window again).
   */
  search(bytes: Uint8Array, start: number, end: number): (from: number) => number {
    const { wasm } = this;
    const owner = {};
    let windowStart = -1;
    let windowEnd = -1;
    const load = (at: number): void => {
      if (wasm.tables !== this.tables) wasm.memory.set((wasm.tables = this.tables), 0);
      wasm.owner = owner;
      if (bytes.length <= WINDOW) {
        // the whole buffer in one window, copied as it is (a view of part of it costs about as much)
        wasm.memory.set(bytes, DATA);
        windowStart = 0;
        windowEnd = end;
      } else {
        windowStart = at;
        windowEnd = Math.min(end, at + WINDOW);
        wasm.memory.set(bytes.subarray(at, Math.min(end, windowEnd + 2)), DATA);
      }
    };
    return (from) => {
      let at = Math.max(from, start);
      while (at < end) {
        if (wasm.owner !== owner || at < windowStart || at >= windowEnd) load(at);
        const found = wasm.find(DATA + at - windowStart, DATA + windowEnd - windowStart);
        const pos = found < 0 ? windowEnd : Math.min(windowEnd, found - DATA + windowStart);
        if (pos < windowEnd) return pos;
        at = windowEnd;
      }
      return -1;
    };
  }
}
