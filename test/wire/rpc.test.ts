// readableCall (lib/wire/rpc.ts, SPEC.md §13): from a payload that failed the call schema, the id
// (and verb) are salvaged only when they are themselves well formed, so the daemon can refuse
// the call under its id; anything else gives undefined.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { concat } from "../../lib/bytes.ts";
import { decodeDaemonMessage, encodeChunk, encodeChunks, MAX_CONTROL_MESSAGE_BYTES, readableCall } from "../../lib/wire/rpc.ts";

const json = (x: unknown) => new TextEncoder().encode(JSON.stringify(x));

describe("readableCall", () => {
  const cases: Array<[string, Uint8Array, ReturnType<typeof readableCall>]> = [
    ["a value too long", json({ type: "call", id: 7, verb: "ssh.tail_logs", params: { lines: "9".repeat(300) } }), { id: 7, verb: "ssh.tail_logs" }],
    ["an unknown field", json({ type: "call", id: 1, verb: "v", params: {}, extra: 1 }), { id: 1, verb: "v" }],
    ["a verb that is not a string", json({ type: "call", id: 2, verb: 5 }), { id: 2, verb: undefined }],
    ["a verb over 128 characters", json({ type: "call", id: 3, verb: "v".repeat(129) }), { id: 3, verb: undefined }],
    ["no verb at all", json({ type: "call", id: 4 }), { id: 4, verb: undefined }],
    ["an id of 0", json({ type: "call", id: 0, verb: "v" }), undefined],
    ["an id over 2^32-1", json({ type: "call", id: 2 ** 32, verb: "v" }), undefined],
    ["a fractional id", json({ type: "call", id: 1.5, verb: "v" }), undefined],
    ["a string id", json({ type: "call", id: "1", verb: "v" }), undefined],
    ["another message type", json({ type: "list", id: 1 }), undefined],
    ["a JSON array", json([1, 2]), undefined],
    ["not JSON", new TextEncoder().encode("{nope"), undefined],
    ["invalid UTF-8", Uint8Array.of(0x7b, 0xff, 0x7d), undefined],
    ["an output chunk", Uint8Array.of(0x01, 0, 0, 0, 1, 1), undefined],
    ["over the message size", json({ type: "call", id: 1, verb: "v", pad: "x".repeat(MAX_CONTROL_MESSAGE_BYTES) }), undefined],
  ];
  for (const [label, payload, want] of cases) test(label, () => expect(readableCall(payload)).toEqual(want));
});

describe("encodeChunks", () => {
  test("fills messages of at most maxData bytes across the pieces, in order, each byte once", () => {
    const piece = fc.uint8Array({ maxLength: 40 });
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 6 }), fc.integer({ min: 1, max: 30 }), (pieces, maxData) => {
        const all = concat(...pieces);
        const messages = encodeChunks(7, "stderr", pieces, maxData);
        expect(messages.length).toBe(Math.ceil(all.length / maxData));
        const data: Uint8Array[] = [];
        messages.forEach((m, i) => {
          const decoded = decodeDaemonMessage(m);
          expect(decoded).toMatchObject({ id: 7, stream: "stderr" });
          const bytes = (decoded as { data: Uint8Array }).data;
          expect(bytes.length).toBe(i < messages.length - 1 ? maxData : all.length - maxData * i);
          data.push(bytes);
        });
        expect(concat(...data)).toEqual(all);
      }),
    );
  });

  test("one piece in one message is what encodeChunk makes", () => {
    const data = new TextEncoder().encode("line\n");
    expect(encodeChunks(3, "stdout", [data], 100)).toEqual([encodeChunk(3, "stdout", data)]);
    expect(decodeDaemonMessage(encodeChunk(3, "stdout", new Uint8Array(0)))).toMatchObject({ id: 3, stream: "stdout", data: new Uint8Array(0) });
  });
});
