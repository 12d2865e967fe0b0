// The relay's /metrics page in the Prometheus text format: sessions waiting and paired, bytes and
// messages forwarded, outcomes by name, refusals by reason, process memory. Pure formatting of
// the counters kept by RelayState.
import { OUTCOMES, type Counters } from "./state.ts";
import { REFUSALS, type Refusal } from "./protocol.ts";

export interface MetricsInput {
  counters: Counters;
  gauges: { legs: number; waiting: number; paired: number };
  memory: { rss: number; heapUsed: number };
  tokens: number;
}

function metric(lines: string[], name: string, type: "gauge" | "counter", help: string, samples: Array<[string, number]>): void {
  lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  for (const [labels, v] of samples) lines.push(`${name}${labels} ${v}`);
}

export function formatMetrics(m: MetricsInput): string {
  const c = m.counters;
  const lines: string[] = [];
  metric(lines, "openscope_relay_sessions", "gauge", "Rendezvous ids by state (waiting: one leg, paired: both).", [
    ['{state="waiting"}', m.gauges.waiting],
    ['{state="paired"}', m.gauges.paired],
  ]);
  metric(lines, "openscope_relay_legs", "gauge", "WebSocket legs held.", [["", m.gauges.legs]]);
  metric(lines, "openscope_relay_forwarded_bytes_total", "counter", "Bytes of binary messages forwarded.", [["", c.forwardedBytes]]);
  metric(lines, "openscope_relay_forwarded_messages_total", "counter", "Binary messages forwarded.", [["", c.forwardedMessages]]);
  metric(lines, "openscope_relay_dropped_messages_total", "counter", "Messages not forwarded, by reason.", [
    ['{reason="unpaired"}', c.droppedUnpaired],
    ['{reason="text"}', c.ignoredText],
  ]);
  metric(lines, "openscope_relay_backpressure_pauses_total", "counter", "Senders paused until their slow peer drained.", [["", c.pauses]]);
  metric(lines, "openscope_relay_outcomes_total", "counter", "Legs ended, by outcome.", OUTCOMES.map((o) => [`{outcome="${o}"}`, c.outcomes[o]]));
  metric(
    lines,
    "openscope_relay_refusals_total",
    "counter",
    "Upgrade requests refused, by reason.",
    (Object.keys(REFUSALS) as Refusal[]).map((r) => [`{reason="${r}"}`, c.refusals[r]]),
  );
  metric(lines, "openscope_relay_tokens", "gauge", "Deployment tokens loaded.", [["", m.tokens]]);
  metric(lines, "process_resident_memory_bytes", "gauge", "Resident set size.", [["", m.memory.rss]]);
  metric(lines, "openscope_relay_heap_used_bytes", "gauge", "JavaScript heap in use.", [["", m.memory.heapUsed]]);
  return lines.join("\n") + "\n";
}
