// The streaming line redactor (SPEC.md §17.3): a verb's stdout or stderr goes in as chunks of any
// size, redacted bytes come out. Lines are the unit, so a secret split across chunks is whole
// when scanned; an unterminated line is held until its newline, the end of the verb, or the line
// bound, where it is cut at a delimiter outside any secret. Bytes no rule matched pass unchanged
// (they are sliced from the input, never decoded and re-encoded). Pure: bytes in, bytes out.
import { latin1, PRIVATE_KEY_RULE, scanBytes, scanRegion, type PemState, type RuleSet } from "./scanner.ts";
import type { Finding } from "./rules.ts";
import { concat } from "../bytes.ts";

/** An unterminated line longer than this is cut and redacted in pieces (memory stays bounded). */
export const MAX_LINE_BYTES = 64 * 1024;
/**
 * A cut is at least this far before the end of the window it was chosen in, so a key or header
 * that ends just before the cut has its value in view, and a secret across the cut is found whole.
 */
export const CUT_LOOKAHEAD = 4096;

/** A region shorter than this is decoded and scanned whole rather than searched with SIMD first. */
const SHORT_REGION = 512;

/** Redaction counts by rule id. */
export type RedactionCounts = Record<string, number>;

/** The note a client shows after a call: "2 values redacted (aws-access-key-id, jwt)"; undefined for none. */
export function describeRedactions(counts: RedactionCounts | undefined): string | undefined {
  const ids = Object.keys(counts ?? {}).sort();
  if (ids.length === 0) return undefined;
  const total = ids.reduce((n, id) => n + counts![id]!, 0);
  const named = ids.map((id) => (counts![id]! > 1 ? `${id} ×${counts![id]}` : id)).join(", ");
  return `${total} ${total === 1 ? "value" : "values"} redacted (${named})`;
}

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();
const markers = new Map<string, Uint8Array>();

export function marker(rule: string): Uint8Array {
  let m = markers.get(rule);
  if (!m) markers.set(rule, (m = encoder.encode(`[REDACTED:${rule}]`)));
  return m;
}

/** Bytes that end a token: no secret shape we find runs across one (PEM blocks aside). */
function isDelimiter(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x22 || b === 0x27 || b === 0x2c || b === 0x3b || b === 0x3c || b === 0x3e || b === 0x60;
}

export class LineRedactor {
  private pending: Uint8Array = EMPTY;
  private pem: PemState = { open: false, swallowed: 0 };
  /** The previous piece was cut at the end of a secret: its tail, up to a delimiter, is removed too. */
  private carry = false;

  constructor(
    private readonly rules: RuleSet,
    /** Shared by a verb's two streams, so its result carries one set of counts. */
    readonly counts: RedactionCounts = {},
  ) {}

  /** Redacted output ready to forward (often the input itself, sliced); the rest waits for its line end. */
  push(chunk: Uint8Array): Uint8Array[] {
    if (chunk.length === 0) return [];
    const out: Uint8Array[] = [];
    let buf = chunk;
    let from = 0;
    if (this.pending.length > 0) {
      // The held line's end is in this chunk: that one line is joined and redacted alone, so the
      // rest of the chunk is scanned in place rather than copied behind the held bytes.
      const newline = chunk.indexOf(0x0a);
      if (newline >= 0 && this.pending.length + newline < MAX_LINE_BYTES) {
        const line = concat(this.pending, chunk.subarray(0, newline + 1));
        const start = this.skipCarry(line, 0);
        this.emitRegion(line, start, line.length, out);
        from = newline + 1;
      } else buf = concat(this.pending, chunk);
      this.pending = EMPTY;
    }
    from = this.skipCarry(buf, from);
    const lastNewline = buf.lastIndexOf(0x0a);
    if (lastNewline >= from) {
      this.emitRegion(buf, from, lastNewline + 1, out);
      from = lastNewline + 1;
    }
    while (buf.length - from > MAX_LINE_BYTES) from = this.skipCarry(buf, this.cutLongLine(buf, from, out));
    this.pending = from < buf.length ? buf.slice(from) : EMPTY;
    return out;
  }

  /** At the end of the stream: the unterminated last line, redacted. */
  flush(): Uint8Array[] {
    const buf = this.pending;
    this.pending = EMPTY;
    const out: Uint8Array[] = [];
    const from = this.skipCarry(buf, 0);
    if (from < buf.length) this.emitRegion(buf, from, buf.length, out);
    this.pem = { open: false, swallowed: 0 };
    this.carry = false;
    return out;
  }

  /** Bytes held back, waiting for their line's end. */
  get heldBytes(): number {
    return this.pending.length;
  }

  private skipCarry(buf: Uint8Array, from: number): number {
    if (!this.carry) return from;
    let i = from;
    while (i < buf.length && !isDelimiter(buf[i]!)) i++;
    if (i < buf.length) this.carry = false;
    return i;
  }

  private emitRegion(buf: Uint8Array, a: number, b: number, out: Uint8Array[]): void {
    // a line or two (the held line joined to its end) is quicker to decode than to search
    const { findings, pem } = b - a < SHORT_REGION ? scanRegion(this.rules, latin1(buf, a, b), this.pem) : scanBytes(this.rules, buf, a, b, this.pem);
    this.pem = pem;
    this.emit(buf, a, b, findings, out);
  }

  /** Redacts and emits one piece of an over-long unterminated line; returns where the rest starts. */
  private cutLongLine(buf: Uint8Array, from: number, out: Uint8Array[]): number {
    const window = latin1(buf, from, from + MAX_LINE_BYTES);
    const { findings, pem } = scanRegion(this.rules, window, this.pem);
    let cut = window.length;
    if (!pem.open) {
      cut = window.length - CUT_LOOKAHEAD;
      for (let i = cut - 1; i >= window.length / 2; i--) {
        if (isDelimiter(window.charCodeAt(i))) {
          cut = i + 1;
          break;
        }
      }
      for (const f of findings) if (f.start < cut && f.end > cut) cut = f.end; // never cut inside a secret
    }
    const kept = findings.filter((f) => f.start < cut);
    this.pem = cut === window.length ? pem : { open: false, swallowed: 0 };
    this.carry = kept.some((f) => f.end === window.length && f.rule !== PRIVATE_KEY_RULE);
    this.emit(buf, from, from + cut, kept, out);
    return from + cut;
  }

  private emit(buf: Uint8Array, a: number, b: number, findings: readonly Finding[], out: Uint8Array[]): void {
    let at = a;
    for (const f of findings) {
      if (a + f.start > at) out.push(buf.subarray(at, a + f.start));
      if (!f.silent) {
        out.push(marker(f.rule));
        this.counts[f.rule] = (this.counts[f.rule] ?? 0) + 1;
      }
      at = a + f.end;
    }
    if (b > at) out.push(buf.subarray(at, b));
  }
}

/** Redacts a whole text at once (tests, and callers that hold the full output). */
export function redactText(rules: RuleSet, text: string): { text: string; counts: RedactionCounts } {
  const r = new LineRedactor(rules);
  const parts = [...r.push(encoder.encode(text)), ...r.flush()];
  return { text: new TextDecoder().decode(concat(...parts)), counts: r.counts };
}
