// The `instructions` the MCP server sends at initialize (SPEC.md §13.1): who shared, on which daemon,
// how long the share lasts, and that every call is recorded; or, when the client could not connect,
// why there are no tools and what to do. Pure: the clock is passed in.
import { formatDuration } from "../units.ts";
import type { Hello } from "./link.ts";

export function liveInstructions(hello: Hello, now: number): string {
  const left = hello.expiresAt - (now + hello.clockSkewMs);
  const verbs = Object.keys(hello.passport.verbs);
  return [
    `These tools come from an OpenScope share: ${JSON.stringify(hello.passport.principal)} on the daemon ${JSON.stringify(hello.daemonName)} (fingerprint ${hello.fingerprint}) lets you run ${verbs.length} named action(s) on their systems.`,
    `The share ends at ${new Date(hello.expiresAt - hello.clockSkewMs).toISOString()} (${formatDuration(left)} from the start of this session), or earlier if the operator revokes it; then the tool list becomes empty.`,
    "Every call, allowed or denied, is recorded in the operator's audit log with its parameters.",
    "Only the listed tools with parameter values inside their schemas are allowed; anything else is refused and recorded.",
  ].join("\n");
}

export function failedInstructions(message: string, hints: readonly string[]): string {
  return [`OpenScope could not open the share, so there are no tools: ${message}.`, ...hints.map((h) => `Hint: ${h}`)].join("\n");
}
