import { defineCommand } from "citty";
import type { AuditRow } from "../../lib/store/audit.ts";
import { OpenScopeError, usageError } from "../../lib/errors.ts";
import type { HomePaths } from "../../lib/host/home.ts";
import { parseDuration } from "../../lib/units.ts";
import { homeArg, jsonArg } from "../args.ts";
import { exitWhenStdoutCloses, log, printJson, printJsonLine, printTable, terminalSafe } from "../output.ts";
import { checkShareId, homeFrom, withStore } from "./_shared.ts";

function summary(r: AuditRow): string {
  const params = r.params ? Object.entries(r.params).map(([k, v]) => `${k}=${v}`).join(" ") : "";
  const parts = [
    r.verb ? `${r.verb}${params ? ` ${params}` : ""}` : "",
    r.requestId ? `request=${r.requestId}` : "",
    r.reason ? `reason=${r.reason}` : "",
    r.exitCode !== undefined && r.exitCode !== null ? `exit=${r.exitCode}` : "",
    r.bytesOut !== undefined && r.bytesOut !== null ? `bytes=${r.bytesOut}` : "",
    r.redactions ? `redacted=${Object.entries(r.redactions).map(([id, n]) => `${id}:${n}`).join(",")}` : "",
    r.message ?? "",
    r.detail ?? "",
  ];
  return parts.filter(Boolean).join("  ");
}

/** `--since 24h` / `7d` (back from now) or `--since 2026-11-29T08:00:00Z`: the earliest time, in ms. */
export function parseSince(text: string, now: number): number {
  const bad = () => usageError(`--since "${terminalSafe(text)}" is not a time`, ["give a duration back from now (90m, 24h, 7d) or an ISO time (2026-11-29T08:00:00Z)"]);
  if (/^\d{1,9}(ms|s|m|h)$/.test(text)) return now - parseDuration(text, "--since");
  if (/^\d{1,5}d$/.test(text)) return now - Number(text.slice(0, -1)) * 86_400_000;
  if (!/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) throw bad();
  const at = Date.parse(text);
  if (Number.isNaN(at)) throw bad();
  return at;
}

/** `--share ID` names a share this home has: a typo gets a clear error, not an empty log. */
async function requireShare(paths: HomePaths, id: string): Promise<void> {
  checkShareId(id);
  const known = await withStore(paths, (store) => store.getShare(id) !== undefined);
  if (!known) throw usageError(`no share ${id} in this home`, ["see the ids with: openscope share list"]);
}

/** A row for people: every field a recipient could have chosen (verb, values, messages) escaped. */
function humanRow(r: AuditRow): string[] {
  return [String(r.seq), new Date(r.at).toISOString(), r.kind, r.shareId ?? "-", r.agent ?? "-", summary(r)].map((cell) => terminalSafe(cell));
}

export default defineCommand({
  meta: { name: "audit", description: "Show the audit log (every decision and share event)" },
  args: {
    ...homeArg,
    ...jsonArg,
    share: { type: "string", description: "Only this share", valueHint: "id" },
    follow: { type: "boolean", description: "Keep printing new rows" },
    since: { type: "string", description: "Only rows from this time on: a duration back from now (24h) or an ISO time; with --json, one JSON object per line (for a SIEM)", valueHint: "time" },
    verify: { type: "boolean", description: "Check the hash chain of the whole log" },
  },
  async run({ args }) {
    const paths = homeFrom(args);
    if (args.verify) {
      const result = await withStore(paths, (_s, audit) => audit.verify());
      if (args.json) printJson(result);
      if (!result.ok) throw new OpenScopeError("verbFailed", `audit chain broken at row ${result.brokenAt}: ${result.problem}`, { hints: ["the log was altered outside openscope"] });
      if (!args.json) log.success(`audit chain verifies (${result.rows} rows)`);
      return;
    }
    const sinceAt = args.since === undefined ? undefined : parseSince(args.since, Date.now());
    const filter = { ...(args.share ? { shareId: args.share } : {}), ...(sinceAt !== undefined ? { sinceAt } : {}) };
    if (args.share !== undefined) await requireShare(paths, args.share);
    if (!args.follow) {
      const rows = await withStore(paths, (_s, audit) => audit.list(filter));
      if (args.json && sinceAt !== undefined) return rows.forEach((r) => printJsonLine(r));
      if (args.json) return printJson(rows);
      if (rows.length === 0) return log.info("no audit rows yet");
      printTable(["SEQ", "AT", "EVENT", "SHARE", "AGENT", "DETAIL"], rows.map(humanRow));
      return;
    }
    // --follow: print what is there, then poll for new rows until interrupted.
    let after = 0;
    let stop = false;
    process.once("SIGINT", () => (stop = true));
    process.once("SIGTERM", () => (stop = true));
    await exitWhenStdoutCloses();
    await withStore(paths, async (_s, audit) => {
      while (!stop) {
        for (const r of audit.list({ ...filter, afterSeq: after })) {
          after = r.seq;
          if (args.json) printJsonLine(r);
          else process.stdout.write(humanRow(r).join("  ") + "\n");
        }
        await Bun.sleep(200);
      }
    });
  },
});
