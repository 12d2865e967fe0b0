// Where a verb's output goes in the interactive client and `call` (SPEC.md §13.3): to a terminal it
// goes through terminalSafe (newlines and tabs kept, ESC, CR and other controls shown as `\e`,
// `\r`, …), so a verb cannot repaint, retitle or hide anything on the recipient's screen; with
// `--raw`, or when the stream is a pipe or a file, the bytes pass unchanged (scripts get them exact).
import { terminalSafe } from "../output.ts";

type Stream = "stdout" | "stderr";
export interface OutStream {
  isTTY?: boolean;
  write(data: Uint8Array | string, cb?: (err?: Error | null) => void): boolean;
}

/** Whether output to `stream` is escaped: a terminal, unless `--raw`. */
export function escapesFor(stream: OutStream, raw: boolean): boolean {
  return !raw && Boolean(stream.isTTY);
}

/**
 * A chunk handler for ClientSession.call: writes each stream's bytes to its destination, escaped
 * where escapesFor says so (decoded as UTF-8 across chunk boundaries), and resolves once written,
 * so a reader that stops reading stops the verb (backpressure).
 */
export function verbOutputWriter(raw: boolean, out: Record<Stream, OutStream> = { stdout: process.stdout, stderr: process.stderr }): (stream: Stream, data: Uint8Array) => Promise<void> {
  const decoders: Record<Stream, TextDecoder> = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  return (stream, data) => {
    const dest = out[stream];
    const payload = escapesFor(dest, raw) ? terminalSafe(decoders[stream].decode(data, { stream: true }), { keepLines: true }) : data;
    return new Promise<void>((resolve) => {
      if (payload.length === 0) return resolve();
      dest.write(payload, () => resolve());
    });
  };
}
