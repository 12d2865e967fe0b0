// What a long-running program (the daemon, the relay) logs through: one event per call, a short
// message and named fields, at a level. The shape only; cmd/log.ts writes the lines (text or JSON,
// through consola). Lib code never formats a log line itself, so a field is escaped or kept exact
// in one place, and a field that could carry a credential is withheld there too.

export const LOG_LEVELS = ["error", "warn", "info", "debug"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const LOG_FORMATS = ["text", "json"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Field values are plain: strings (escaped in the text format), numbers, booleans. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  error(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
}

/** Field names whose values are never written, whatever a caller passes (defence in depth). */
export const WITHHELD_FIELDS: ReadonlySet<string> = new Set(["token", "psk", "handle", "passport", "secret", "password", "output", "authorization"]);

/** A logger that drops everything (tests that do not look at logs). */
export const silentLogger: Logger = { error() {}, warn() {}, info() {}, debug() {} };

/**
 * Adapts a logger to the older `log(line)` callbacks of daemon modules: a line that starts with
 * "error:" or "warning:" keeps that level, the rest is info.
 */
export function lineLogger(logger: Logger): (line: string) => void {
  return (line: string) => {
    const m = /^(error|warning): (.*)$/s.exec(line);
    if (m?.[1] === "error") logger.error(m[2]!);
    else if (m?.[1] === "warning") logger.warn(m[2]!);
    else logger.info(line);
  };
}
