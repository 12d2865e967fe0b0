// The log lines of the long-running programs (`openscope daemon`, `openscope-relay`) on stderr,
// through consola/core: one event per line with a timestamp and a level. `--log-format text`
// (default) reads `2026-11-29T10:00:00.000Z info  share opened share=3f2a… agent=you`, every value
// through terminalSafe (a recipient's verb name cannot forge a line); `--log-format json` is one
// JSON object per line with exact values, for journald, Loki or a SIEM. Fields named in
// WITHHELD_FIELDS are never written in either format.
import type { ArgsDef } from "citty";
import { createConsola, type LogObject, type LogType } from "consola/core";
import { usageError } from "../lib/errors.ts";
import { LOG_FORMATS, LOG_LEVELS, WITHHELD_FIELDS, type LogFields, type LogFormat, type Logger, type LogLevel } from "../lib/host/log.ts";
import { terminalSafe } from "./output.ts";

export const logArgs = {
  "log-format": { type: "string", description: "Log lines as text or as one JSON object per line (json)", valueHint: "text|json", default: "text" },
  "log-level": { type: "string", description: "Least severe level logged: error, warn, info or debug", valueHint: "level", default: "info" },
} as const satisfies ArgsDef;

/** consola's numeric levels for ours. */
const CONSOLA_LEVEL: Record<LogLevel, number> = { error: 0, warn: 1, info: 3, debug: 4 };
const LEVEL_OF_TYPE: Partial<Record<LogType, LogLevel>> = { error: "error", fatal: "error", warn: "warn", info: "info", debug: "debug" };

export interface LoggerOptions {
  format?: LogFormat;
  level?: LogLevel;
  /** Where a finished line goes (default: stderr). */
  write?: (line: string) => void;
}

/** Reads --log-format and --log-level; a wrong value is a usage error that lists the right ones. */
export function loggerFromArgs(args: { "log-format"?: string; "log-level"?: string }, layer = "", write?: (line: string) => void): Logger {
  const format = args["log-format"] ?? "text";
  const level = args["log-level"] ?? "info";
  const prefix = layer ? `${layer}: ` : "";
  if (!(LOG_FORMATS as readonly string[]).includes(format)) throw usageError(`${prefix}--log-format "${format}" is not one of: ${LOG_FORMATS.join(", ")}`);
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw usageError(`${prefix}--log-level "${level}" is not one of: ${LOG_LEVELS.join(", ")}`);
  return createLogger({ format: format as LogFormat, level: level as LogLevel, ...(write ? { write } : {}) });
}

/** A value in the text format: escaped, and quoted when it holds a space, a quote or an equals sign. */
function textValue(v: string | number | boolean | null): string {
  if (typeof v !== "string") return String(v);
  const safe = terminalSafe(v);
  return safe === "" || /[\s"=]/.test(safe) ? `"${safe.replaceAll('"', '\\"')}"` : safe;
}

function kept(fields: LogFields | undefined): Array<[string, string | number | boolean | null]> {
  if (!fields) return [];
  return Object.entries(fields).filter((e): e is [string, string | number | boolean | null] => e[1] !== undefined && !WITHHELD_FIELDS.has(e[0]));
}

export function formatLogLine(format: LogFormat, at: Date, level: LogLevel, msg: string, fields?: LogFields): string {
  if (format === "json") return JSON.stringify({ time: at.toISOString(), level, msg, ...Object.fromEntries(kept(fields)) });
  const tail = kept(fields).map(([k, v]) => ` ${k}=${textValue(v)}`).join("");
  return `${at.toISOString()} ${level.padEnd(5)} ${terminalSafe(msg)}${tail}`;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const format = opts.format ?? "text";
  const write = opts.write ?? ((line: string) => void process.stderr.write(line + "\n"));
  const consola = createConsola({
    level: CONSOLA_LEVEL[opts.level ?? "info"],
    reporters: [
      {
        log(obj: LogObject) {
          const [msg, fields] = obj.args as [string, LogFields | undefined];
          write(formatLogLine(format, obj.date, LEVEL_OF_TYPE[obj.type] ?? "info", String(msg), fields));
        },
      },
    ],
  });
  // consola merges repeated identical lines unless told not to: every event is its own line.
  consola.options.throttle = 0;
  const at = (type: "error" | "warn" | "info" | "debug") => (msg: string, fields?: LogFields) => consola[type](msg, ...(fields ? [fields] : []));
  return { error: at("error"), warn: at("warn"), info: at("info"), debug: at("debug") };
}
