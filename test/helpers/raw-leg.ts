// Raw relay legs for adversarial tests: a WebSocket leg that records what it receives and how it
// closed, and a recipient that runs the real Noise handshake over such a leg (so a test can then
// send garbage records, or honest ones). Nothing here validates: it is the attacker's toolkit.
import { randomBytes } from "node:crypto";
import { buildPrologue, startInitiator, type Channel } from "../../lib/wire/channel.ts";
import { decodeHandle, type Handle } from "../../lib/wire/handle.ts";
import { readRecipientKey } from "../../lib/host/keyfile.ts";
import { sessionKeys } from "../../lib/client/session.ts";
import { waitFor } from "./spawn.ts";

export const PAIRED = '{"type":"paired"}';
export const PEER_GONE = '{"type":"peer_gone"}';

export function randomRid(bytes = 16): string {
  return randomBytes(bytes).toString("base64url");
}

export class RawLeg {
  readonly ws: WebSocket;
  texts: string[] = [];
  binaries: Uint8Array[] = [];
  closed: { code: number; reason: string } | null = null;
  opened = false;

  constructor(url: string, token?: string) {
    this.ws = new WebSocket(url, {
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      perMessageDeflate: false,
    } as unknown as string[]);
    this.ws.binaryType = "arraybuffer";
    this.ws.onopen = () => (this.opened = true);
    this.ws.onmessage = (ev) => {
      if (typeof ev.data === "string") this.texts.push(ev.data);
      else this.binaries.push(new Uint8Array(ev.data as ArrayBuffer));
    };
    this.ws.onclose = (ev) => (this.closed = { code: ev.code, reason: ev.reason });
    this.ws.onerror = () => {};
  }

  static client(relayUrl: string, rid: string): RawLeg {
    return new RawLeg(`${relayUrl}/v1/rendezvous/${rid}?role=client`);
  }

  static daemon(relayUrl: string, rid: string, token: string): RawLeg {
    return new RawLeg(`${relayUrl}/v1/rendezvous/${rid}?role=daemon`, token);
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(data: Uint8Array | string): void {
    if (this.isOpen) this.ws.send(data);
  }

  async waitOpen(ms = 10_000): Promise<void> {
    await waitFor(() => this.opened || this.closed, "leg open", ms);
    if (!this.opened) throw new Error(`leg refused (close ${this.closed?.code})`);
  }

  async waitPaired(ms = 10_000): Promise<void> {
    await waitFor(() => this.texts.includes(PAIRED) || this.closed, "paired", ms);
    if (!this.texts.includes(PAIRED)) throw new Error(`leg closed before pairing (close ${this.closed?.code})`);
  }

  async waitBinaries(n: number, ms = 10_000): Promise<void> {
    await waitFor(() => this.binaries.length >= n || this.closed, `${n} binary frames`, ms);
    if (this.binaries.length < n) throw new Error(`leg closed after ${this.binaries.length} frames`);
  }

  waitClosed(ms = 10_000): Promise<{ code: number; reason: string }> {
    return waitFor(() => this.closed, "leg closed", ms);
  }

  close(): void {
    this.ws.close();
  }
}

/** The relay URL and rid of a handle, and a function that runs the recipient's real handshake. */
export function handleTarget(handleText: string): { handle: Handle; rid: string } {
  const handle = decodeHandle(handleText);
  return { handle, rid: Buffer.from(handle.rid).toString("base64url") };
}

/**
 * Opens a client leg for the handle, pairs, and completes the Noise handshake with the recipient's
 * key (or the bearer psk). Returns the leg and the established channel (the hello is frame 0).
 */
export async function handshakeAs(handleText: string, keyFile: string | undefined): Promise<{ leg: RawLeg; channel: Channel }> {
  const { handle, rid } = handleTarget(handleText);
  const keys = sessionKeys(handle, keyFile ? readRecipientKey(keyFile).privateKey : undefined);
  const leg = RawLeg.client(handle.relayUrl, rid);
  await leg.waitPaired();
  const relayHost = new URL(handle.relayUrl.replace(/^ws/, "http")).host;
  const init = startInitiator({ daemonPublicKey: handle.daemonPublicKey, clientPrivateKey: keys.clientPrivateKey, psk: keys.psk, prologue: buildPrologue(rid, relayHost) });
  leg.send(init.message1);
  await leg.waitBinaries(1);
  const channel = init.finish(leg.binaries.shift()!);
  return { leg, channel };
}
