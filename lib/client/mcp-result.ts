// What one MCP tool call returns (SPEC.md §13.1): the verb's output once, as text, cut at a cap
// (default 256 KiB) with a notice saying so and how to get the rest, then the outcome in words;
// structuredContent carries only the outcome's fields. Pure: cmd/client/mcp.ts feeds it chunks.
import { describeOutcome, type VerbEnd } from "../wire/outcome.ts";
import { describeRedactions, type RedactionCounts } from "../redact/stream.ts";
import type { VerbInfo } from "../wire/rpc.ts";

export const DEFAULT_MAX_RESULT = 256 * 1024;

/** Parameters by which a verb's output can be asked for in parts, in the order they are suggested. */
const PAGING_PARAMS = ["lines", "offset", "limit", "count", "since", "until", "tail", "head", "start", "end", "page", "bytes", "n"];

/** Keeps the first `cap` bytes of a verb's output and counts the rest. */
export class OutputCap {
  private readonly kept: Uint8Array[] = [];
  private keptBytes = 0;
  total = 0;

  constructor(readonly cap: number) {}

  push(data: Uint8Array): void {
    this.total += data.length;
    const room = this.cap - this.keptBytes;
    if (room <= 0) return;
    const part = data.length <= room ? data.slice() : data.slice(0, room);
    this.kept.push(part);
    this.keptBytes += part.length;
  }

  get cut(): boolean {
    return this.total > this.keptBytes;
  }

  /** The kept bytes as text; a character split by the cap is dropped, not garbled. */
  text(): string {
    const all = new Uint8Array(this.keptBytes);
    let at = 0;
    for (const k of this.kept) {
      all.set(k, at);
      at += k.length;
    }
    // stream: true holds back an incomplete trailing sequence instead of emitting U+FFFD.
    return this.cut ? new TextDecoder().decode(all, { stream: true }) : new TextDecoder().decode(all);
  }
}

function size(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KiB`;
  return `${n} bytes`;
}

/** How to get the rest of a cut result: the verb's own paging parameter where it has one, else a notice. */
export function restHint(verb: VerbInfo | undefined): string {
  const names = verb ? PAGING_PARAMS.filter((p) => Object.hasOwn(verb.params, p)) : [];
  if (names.length > 0) {
    return `to get the rest, call again in smaller parts with ${names.map((n) => `\`${n}\``).join(" or ")}`;
  }
  return "this verb has no parameter to ask for part of its output, so the rest cannot be fetched; ask the operator for a narrower verb if you need it";
}

export interface ToolResult {
  [key: string]: unknown;
  isError: boolean;
  content: Array<{ type: "text"; text: string }>;
  structuredContent?: Record<string, unknown>;
}

/** The tool result for a verb that ran: output (cut to the cap), notices, then `[exit code N]`. */
export function verbToolResult(r: VerbEnd & { truncated: boolean; redactions?: RedactionCounts }, output: OutputCap, verb: VerbInfo | undefined): ToolResult {
  const outcome = describeOutcome(r);
  const notices: string[] = [];
  if (output.cut) notices.push(`[output cut: this result holds the first ${size(output.cap)} of ${size(output.total)}; ${restHint(verb)}]`);
  if (r.truncated) notices.push("[output truncated at the verb's own cap on the operator's side]");
  // What the daemon redacted follows the outcome (SPEC.md §17.3): rule ids only, never the values.
  const redacted = describeRedactions(r.redactions);
  const text = output.text() + (notices.length ? `\n${notices.join("\n")}` : "") + `\n[${outcome.phrase}]` + (redacted ? `\n[${redacted}]` : "");
  return {
    isError: !outcome.ok,
    content: [{ type: "text", text }],
    structuredContent: { exitCode: r.exitCode, signal: r.signal, timedOut: r.timedOut, cancelled: r.cancelled, truncated: r.truncated, redactions: r.redactions ?? {}, bytes: output.total, cut: output.cut },
  };
}

/** An in-protocol tool error: the message, then one `hint:` line per hint. */
export function errorToolResult(message: string, hints: readonly string[] = []): ToolResult {
  return { isError: true, content: [{ type: "text", text: [message, ...hints.map((h) => `hint: ${h}`)].join("\n") }] };
}
