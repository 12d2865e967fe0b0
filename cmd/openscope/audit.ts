import { defineCommand } from "citty";
import type { AuditRow } from "../../lib/store/audit.ts";
import { OpenScopeError } from "../../lib/errors.ts";
import { homeArg, jsonArg } from "../args.ts";
import { exitWhenStdoutCloses, log, printJson, printJsonLine, printTable, terminalSafe } from "../output.ts";
import { homeFrom, withStore } from "./_shared.ts";

function summary(r: AuditRow): string {
  const params = r.params ? Object.entries(r.params).map(([k, v]) => `${k}=${v}`).join(" ") : "";
  const parts = [
    r.verb ? `${r.verb}${params ? ` ${params}` : ""}` : "",
    r.reason ? `reason=${r.reason}` : "",
    r.exitCode !== undefined && r.exitCode !== null ? `exit=${r.exitCode}` : "",
    r.bytesOut !== undefined && r.bytesOut !== null ? `bytes=${r.bytesOut}` : "",
    r.message ?? "",
    r.detail ?? "",
  ];
  return parts.filter(Boolean).join("  ");
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
    const filter = args.share ? { shareId: args.share } : {};
    if (!args.follow) {
      const rows = await withStore(paths, (_s, audit) => audit.list(filter));
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
