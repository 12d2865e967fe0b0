// The relay's text messages to a leg (SPEC.md §12): {"type":"paired"} and
// {"type":"peer_gone"}. Both legs read them the same way; anything else is ignored.
export type RelaySignal = "paired" | "peer_gone";

export function parseRelaySignal(text: string): RelaySignal | undefined {
  try {
    const type = (JSON.parse(text) as { type?: unknown }).type;
    return type === "paired" || type === "peer_gone" ? type : undefined;
  } catch {
    return undefined;
  }
}
