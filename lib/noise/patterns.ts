// Noise handshake patterns (rev. 34 §7: one-way, fundamental interactive and deferred patterns)
// and the psk modifiers of §9, plus the parser of full protocol names
// ("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"). Data only: HandshakeState executes the tokens.
import { isHashName, type HashName } from "./crypto.ts";

export type Token = "e" | "s" | "ee" | "es" | "se" | "ss" | "psk";
export type PreToken = "e" | "s";

export interface HandshakePattern {
  name: string;
  /** Pre-message of the initiator (-> ...) and of the responder (<- ...). */
  preInitiator: PreToken[];
  preResponder: PreToken[];
  /** Message i is sent by the initiator when i is even. */
  messages: Token[][];
  /** True when a psk modifier is present (then every `e` also does MixKey). */
  psk: boolean;
  oneWay: boolean;
}

// Notation: "pre-initiator | pre-responder | message; message; ..." with tokens comma-separated.
const BASE: Record<string, string> = {
  N: " | s | e, es",
  K: "s | s | e, es, ss",
  X: " | s | e, es, s, ss",
  NN: " |  | e; e, ee",
  NK: " | s | e, es; e, ee",
  NX: " |  | e; e, ee, s, es",
  KN: "s |  | e; e, ee, se",
  KK: "s | s | e, es, ss; e, ee, se",
  KX: "s |  | e; e, ee, se, s, es",
  XN: " |  | e; e, ee; s, se",
  XK: " | s | e, es; e, ee; s, se",
  XX: " |  | e; e, ee, s, es; s, se",
  IN: " |  | e, s; e, ee, se",
  IK: " | s | e, es, s, ss; e, ee, se",
  IX: " |  | e, s; e, ee, se, s, es",
  NK1: " | s | e; e, ee, es",
  NX1: " |  | e; e, ee, s; es",
  X1N: " |  | e; e, ee; s; se",
  X1K: " | s | e, es; e, ee; s; se",
  XK1: " | s | e; e, ee, es; s, se",
  X1K1: " | s | e; e, ee, es; s; se",
  X1X: " |  | e; e, ee, s, es; s; se",
  XX1: " |  | e; e, ee, s; es, s, se",
  X1X1: " |  | e; e, ee, s; es, s; se",
  K1N: "s |  | e; e, ee; se",
  K1K: "s | s | e, es; e, ee; se",
  KK1: "s | s | e; e, ee, se, es",
  K1K1: "s | s | e; e, ee, es; se",
  K1X: "s |  | e; e, ee, s, es; se",
  KX1: "s |  | e; e, ee, se, s; es",
  K1X1: "s |  | e; e, ee, s; se, es",
  I1N: " |  | e, s; e, ee; se",
  I1K: " | s | e, es, s; e, ee; se",
  IK1: " | s | e, s; e, ee, se, es",
  I1K1: " | s | e, s; e, ee, es; se",
  I1X: " |  | e, s; e, ee, s, es; se",
  IX1: " |  | e, s; e, ee, se, s; es",
  I1X1: " |  | e, s; e, ee, s; se, es",
};

const ONE_WAY = new Set(["N", "K", "X"]);

function tokens(list: string): string[] {
  return list
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
}

/** "IKpsk2", "NNpsk0+psk2" → the pattern with psk tokens placed per §9.2; undefined if unknown. */
export function handshakePattern(name: string): HandshakePattern | undefined {
  const m = /^([A-Z0-9]+)((?:psk\d+)(?:\+psk\d+)*)?$/.exec(name);
  if (!m) return undefined;
  const spec = BASE[m[1]!];
  if (spec === undefined) return undefined;
  const [pi, pr, msgs] = spec.split("|") as [string, string, string];
  const messages = msgs.split(";").map((mm) => tokens(mm) as Token[]);
  const modifiers = m[2] ? m[2].split("+").map((p) => Number(p.slice(3))) : [];
  for (const k of modifiers) {
    if (k === 0) messages[0]!.unshift("psk");
    else if (k <= messages.length) messages[k - 1]!.push("psk");
    else return undefined;
  }
  return {
    name,
    preInitiator: tokens(pi) as PreToken[],
    preResponder: tokens(pr) as PreToken[],
    messages,
    psk: modifiers.length > 0,
    oneWay: ONE_WAY.has(m[1]!),
  };
}

export interface Protocol {
  name: string;
  pattern: HandshakePattern;
  hashName: HashName;
}

/** Parses "Noise_<pattern>_25519_ChaChaPoly_<hash>"; undefined for anything this code lacks. */
export function parseProtocolName(name: string): Protocol | undefined {
  const parts = name.split("_");
  if (parts.length !== 5 || parts[0] !== "Noise" || parts[2] !== "25519" || parts[3] !== "ChaChaPoly") return undefined;
  const pattern = handshakePattern(parts[1]!);
  const hashName = parts[4]!;
  if (!pattern || !isHashName(hashName)) return undefined;
  return { name, pattern, hashName };
}
