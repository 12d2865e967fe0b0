// RPC messages carried inside the encrypted channel (SPEC.md §13). Two encodings share one
// payload space: a JSON object (first byte "{") for control messages, and a binary output chunk
// (first byte 0x01) so verb output is not inflated by base64. Every message is parsed by a
// valibot schema; anything else is a typed "rpc: …" error.
import * as v from "valibot";
import { OpenScopeError } from "../errors.ts";
import { LIMITS } from "../capability/limits.ts";
import { WIRE_ERROR_CODES } from "./outcome.ts";
import { ConstraintSchema } from "../capability/constraint.ts";

export const RPC_VERSION = 1;
export const MAX_CONTROL_MESSAGE_BYTES = 64 * 1024;
export const MAX_CONCURRENT_CALLS = 4;
const CHUNK_TAG = 0x01;
/**
 * A daemon's name (config.toml `name`, the hello's `daemonName`): the client refuses a hello whose
 * name breaks this rule, so a name can never carry escapes or line breaks (SPEC.md §13).
 */
export const DAEMON_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const CallId = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(0xffffffff));
const Params = v.pipe(
  v.record(v.pipe(v.string(), v.maxLength(LIMITS.paramNameLength)), v.pipe(v.string(), v.maxLength(LIMITS.valueLength))),
  v.check((p) => Object.keys(p).length <= LIMITS.paramsPerCall, "too many parameters"),
);

export const ClientMessage = v.variant("type", [
  v.strictObject({ type: v.literal("list"), id: CallId }),
  v.strictObject({ type: v.literal("call"), id: CallId, verb: v.pipe(v.string(), v.maxLength(128)), params: Params }),
  v.strictObject({ type: v.literal("cancel"), id: CallId }),
]);
export type ClientMessage = v.InferOutput<typeof ClientMessage>;

export const VerbInfo = v.strictObject({
  name: v.string(),
  summary: v.string(),
  params: v.record(v.string(), v.strictObject({ constraint: ConstraintSchema, default: v.optional(v.string()) })),
});
export type VerbInfo = v.InferOutput<typeof VerbInfo>;

/** Redaction counts by rule id: bounded like everything else a peer sends. */
const Redactions = v.pipe(
  v.record(v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9-]{0,63}$/)), v.pipe(v.number(), v.integer(), v.minValue(1))),
  v.check((r) => Object.keys(r).length <= 128, "too many redaction rules"),
);

export const DaemonMessage = v.variant("type", [
  v.strictObject({
    type: v.literal("hello"),
    version: v.number(),
    passport: v.string(),
    signPublicKey: v.string(),
    fingerprint: v.string(),
    daemonName: v.string(),
    expiresAt: v.number(),
    now: v.number(),
  }),
  v.strictObject({ type: v.literal("verbs"), id: CallId, verbs: v.array(VerbInfo) }),
  // timeoutMs: the verb's own timeout, so the client can tell a lost result from a slow verb.
  v.strictObject({ type: v.literal("started"), id: CallId, params: Params, timeoutMs: v.optional(v.number()) }),
  // The call waits for the operator's approval (SPEC.md §17.2): the request id the operator sees,
  // and how long it may wait, so the client neither gives up early nor waits forever.
  v.strictObject({ type: v.literal("pending"), id: CallId, request: v.pipe(v.string(), v.maxLength(64)), timeoutMs: v.number(), message: v.pipe(v.string(), v.maxLength(512)) }),
  v.strictObject({
    type: v.literal("result"),
    id: CallId,
    exitCode: v.nullable(v.number()),
    signal: v.nullable(v.string()),
    timedOut: v.boolean(),
    cancelled: v.boolean(),
    // Who cancelled it, when it was cancelled by someone: the recipient, or the operator (share kill).
    cancelledBy: v.optional(v.picklist(["recipient", "operator"])),
    truncated: v.boolean(),
    bytesOut: v.number(),
    durationMs: v.number(),
    // secrets the daemon replaced in the output, by rule id (SPEC.md §17.3); absent when none
    redactions: v.optional(Redactions),
  }),
  v.strictObject({
    type: v.literal("error"),
    id: v.nullable(CallId),
    code: v.picklist(WIRE_ERROR_CODES),
    reason: v.optional(v.string()),
    message: v.string(),
  }),
  v.strictObject({ type: v.literal("ended"), state: v.picklist(["revoked", "expired"]), message: v.string() }),
  v.strictObject({ type: v.literal("expiry"), expiresAt: v.number() }),
]);
export type DaemonMessage = v.InferOutput<typeof DaemonMessage>;

export interface OutputChunk {
  type: "chunk";
  id: number;
  stream: "stdout" | "stderr";
  data: Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export function encodeMessage(msg: ClientMessage | DaemonMessage): Uint8Array {
  return encoder.encode(JSON.stringify(msg));
}

/** [0x01][u32 id][u8 stream: 1 stdout, 2 stderr][data] */
export function encodeChunk(id: number, stream: "stdout" | "stderr", data: Uint8Array): Uint8Array {
  const out = chunkFrame(id, stream, data.length);
  out.set(data, 6);
  return out;
}

/**
 * The pieces of output as chunk messages of at most `maxData` data bytes each, filled in order
 * across the pieces (each byte is copied once, into its message).
 */
export function encodeChunks(id: number, stream: "stdout" | "stderr", pieces: readonly Uint8Array[], maxData: number): Uint8Array[] {
  let left = pieces.reduce((n, p) => n + p.length, 0);
  const out: Uint8Array[] = [];
  let frame: Uint8Array | undefined;
  let at = 0;
  for (const piece of pieces) {
    let from = 0;
    while (from < piece.length) {
      if (frame === undefined || at === frame.length) {
        frame = chunkFrame(id, stream, Math.min(maxData, left));
        out.push(frame);
        at = 6;
      }
      const n = Math.min(piece.length - from, frame.length - at);
      frame.set(n === piece.length ? piece : piece.subarray(from, from + n), at);
      at += n;
      from += n;
      left -= n;
    }
  }
  return out;
}

function chunkFrame(id: number, stream: "stdout" | "stderr", dataLength: number): Uint8Array {
  const out = new Uint8Array(6 + dataLength);
  new DataView(out.buffer).setUint32(1, id);
  out[0] = CHUNK_TAG;
  out[5] = stream === "stdout" ? 1 : 2;
  return out;
}

function rpcError(message: string): OpenScopeError {
  return new OpenScopeError("usage", `rpc: ${message}`);
}

function parseJson(payload: Uint8Array): unknown {
  if (payload.length > MAX_CONTROL_MESSAGE_BYTES) throw rpcError("message too large");
  try {
    return JSON.parse(decoder.decode(payload));
  } catch {
    throw rpcError("message is not valid JSON");
  }
}

/** Names valibot's record() silently drops: refused instead, so such a call is denied, not trimmed. */
const RESERVED_PARAM_NAMES = ["__proto__", "prototype", "constructor"];

export function decodeClientMessage(payload: Uint8Array): ClientMessage {
  if (payload[0] !== 0x7b) throw rpcError("unexpected message type");
  const raw = parseJson(payload);
  const params = typeof raw === "object" && raw !== null ? (raw as Record<string, unknown>).params : undefined;
  if (typeof params === "object" && params !== null && RESERVED_PARAM_NAMES.some((k) => Object.hasOwn(params, k))) {
    throw rpcError("malformed message: bad parameter name");
  }
  const r = v.safeParse(ClientMessage, raw);
  if (!r.success) throw rpcError(`malformed message: ${v.summarize(r.issues).replace(/\n/g, "; ")}`);
  return r.output;
}

export function decodeDaemonMessage(payload: Uint8Array): DaemonMessage | OutputChunk {
  if (payload[0] === CHUNK_TAG) {
    if (payload.length < 6 || (payload[5] !== 1 && payload[5] !== 2)) throw rpcError("malformed output chunk");
    const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    return { type: "chunk", id: view.getUint32(1), stream: payload[5] === 1 ? "stdout" : "stderr", data: payload.subarray(6) };
  }
  if (payload[0] !== 0x7b) throw rpcError("unexpected message type");
  const r = v.safeParse(DaemonMessage, parseJson(payload));
  if (!r.success) throw rpcError(`malformed message: ${v.summarize(r.issues).replace(/\n/g, "; ")}`);
  return r.output;
}

/**
 * The id (and verb) of a `call` that failed its schema, when they are well formed, so the daemon
 * can refuse it under that id (SPEC.md §13) rather than leave the client waiting on it.
 */
export function readableCall(payload: Uint8Array): { id: number; verb: string | undefined } | undefined {
  if (payload[0] !== 0x7b) return undefined;
  let raw: unknown;
  try {
    raw = parseJson(payload);
  } catch {
    return undefined;
  }
  const r = v.safeParse(v.looseObject({ type: v.literal("call"), id: CallId, verb: v.optional(v.unknown()) }), raw);
  if (!r.success) return undefined;
  const { id, verb } = r.output;
  return { id, verb: typeof verb === "string" && verb.length <= 128 ? verb : undefined };
}
