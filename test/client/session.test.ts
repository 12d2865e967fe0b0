// ClientSession (lib/client/session.ts) against an in-process fake relay: a refused leg is named
// by its status (409 another client, 404 no daemon, 429 rate limit, past expiry → share over), an
// unreachable relay names why (refused, DNS, TLS), and a garbled handshake reply is "handshake failed" (exit 4).
import { afterEach, describe, expect, test } from "bun:test";
import { ClientSession, sessionKeys } from "../../lib/client/session.ts";
import { OpenScopeError } from "../../lib/errors.ts";
import type { Handle } from "../../lib/wire/handle.ts";
import { generateX25519 } from "../../lib/crypto/keys.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeCerts } from "../helpers/tls.ts";

let server: ReturnType<typeof Bun.serve> | undefined;
afterEach(() => {
  server?.stop(true);
  server = undefined;
});

function handleFor(port: number, expiresAt = Date.now() + 600_000): Handle {
  return {
    relayUrl: `ws://127.0.0.1:${port}`,
    rid: crypto.getRandomValues(new Uint8Array(16)),
    daemonPublicKey: generateX25519().publicKey,
    signPublicKey: crypto.getRandomValues(new Uint8Array(32)),
    expiresAt,
    secret: { kind: "bearer", psk: crypto.getRandomValues(new Uint8Array(32)) },
  };
}

async function connectError(h: Handle): Promise<OpenScopeError> {
  const s = new ClientSession(h, sessionKeys(h, undefined));
  try {
    await s.connect();
  } catch (e) {
    expect(e).toBeInstanceOf(OpenScopeError);
    return e as OpenScopeError;
  } finally {
    s.close();
  }
  throw new Error("connect() should have failed");
}

/** A relay that answers every upgrade with `status`. */
function refusing(status: number): number {
  server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("no", { status }) });
  return server.port!;
}

describe("a refused client leg is named by the relay's status", () => {
  test("409: another client is already connected (exit 4)", async () => {
    const e = await connectError(handleFor(refusing(409)));
    expect(e.exitCode).toBe(4);
    expect(e.message).toBe("another client is already connected to this share");
    expect(e.hints.join(" ")).toContain("one recipient session at a time");
  });

  test("404 before the expiry: no daemon holds the share (exit 4)", async () => {
    const e = await connectError(handleFor(refusing(404)));
    expect(e.exitCode).toBe(4);
    expect(e.message).toContain("no daemon holds this share at the relay");
  });

  test("404 after the handle's expiry: the share has expired (exit 5)", async () => {
    const e = await connectError(handleFor(refusing(404), Date.now() - 1000));
    expect(e.exitCode).toBe(5);
    expect(e.message).toContain("expired");
  });

  test("429: the relay is rate-limiting (exit 4)", async () => {
    const e = await connectError(handleFor(refusing(429)));
    expect(e.exitCode).toBe(4);
    expect(e.message).toContain("rate-limiting");
  });

  test("nothing listening: connection refused, named as such (exit 4)", async () => {
    const port = refusing(500);
    server!.stop(true);
    server = undefined;
    const e = await connectError(handleFor(port));
    expect(e.exitCode).toBe(4);
    expect(e.message).toBe(`relay ws://127.0.0.1:${port}: connection refused at 127.0.0.1:${port} (nothing listens there)`);
    expect(e.hints).toEqual(["the relay may be down; ask the operator"]);
  });

  test("a relay host name that does not resolve: DNS, named as such (exit 4)", async () => {
    const e = await connectError({ ...handleFor(1), relayUrl: "ws://relay.invalid:8443" });
    expect(e.exitCode).toBe(4);
    expect(e.message).toBe('relay ws://relay.invalid:8443: host name "relay.invalid" does not resolve (DNS)');
  });

  test("a relay with a self-signed certificate: TLS, unknown CA (exit 4)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "openscope-client-tls-"));
    try {
      const { good } = makeCerts(dir);
      server = Bun.serve({ port: 0, hostname: "127.0.0.1", tls: { cert: Bun.file(good.cert), key: Bun.file(good.key) }, fetch: () => new Response("no", { status: 500 }) });
      const e = await connectError({ ...handleFor(server.port!), relayUrl: `wss://127.0.0.1:${server.port}` });
      expect(e.exitCode).toBe(4);
      expect(e.message).toContain("TLS: its certificate is not signed by a trusted CA");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the handshake", () => {
  test("a garbled reply after pairing is 'handshake failed' (exit 4), with a hint", async () => {
    let upgrades = 0;
    server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch(req, srv) {
        upgrades++;
        return srv.upgrade(req, { data: undefined }) ? undefined : new Response("no", { status: 400 });
      },
      websocket: {
        open(ws) {
          ws.send(JSON.stringify({ type: "paired" }));
        },
        message(ws, msg) {
          if (typeof msg !== "string") ws.send(new Uint8Array(48).fill(7));
        },
      },
    });
    const e = await connectError(handleFor(server.port!));
    expect(e.exitCode).toBe(4);
    expect(e.message).toBe("handshake failed");
    expect(e.hints.join(" ")).toContain("recipient key");
    expect(upgrades).toBe(1);
  });
});
