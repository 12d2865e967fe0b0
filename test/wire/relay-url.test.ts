// The relay URL rules (SPEC.md §10.2, §11.1, §12): one canonical spelling, the prologue's host,
// the rendezvous endpoint built with URL, and the operator's --relay refused when it is odd.
import { describe, expect, test } from "bun:test";
import { checkRelayUrl, parseOperatorRelayUrl } from "../../lib/wire/relay-url.ts";
import { prologueRelayHost } from "../../lib/wire/channel.ts";
import { rendezvousUrl } from "../../lib/relay/protocol.ts";
import { OpenScopeError } from "../../lib/errors.ts";

const rid = "AAAAAAAAAAAAAAAAAAAAAA";

describe("relay URL", () => {
  test("canonical form: lowercase host, IDN as punycode, IPv6 in brackets, default port dropped, no trailing slash", () => {
    const cases: [string, string, string][] = [
      ["WSS://Relay.Example.COM:443/", "wss://relay.example.com", "relay.example.com"],
      ["ws://relay.example.com:80", "ws://relay.example.com", "relay.example.com"],
      ["wss://relay.example.com:8443/openscope", "wss://relay.example.com:8443/openscope", "relay.example.com:8443"],
      ["wss://bücher.example/r", "wss://xn--bcher-kva.example/r", "xn--bcher-kva.example"],
      ["ws://[0:0:0:0:0:0:0:1]:9000", "ws://[::1]:9000", "[::1]:9000"],
      ["ws://127.0.0.1:9", "ws://127.0.0.1:9", "127.0.0.1:9"],
    ];
    for (const [given, url, host] of cases) {
      expect(checkRelayUrl(given, false)).toEqual({ url, host });
      expect(checkRelayUrl(url, true)).toEqual({ url, host });
      expect(prologueRelayHost(url)).toBe(host);
      if (given !== url) expect(checkRelayUrl(given, true)).toBe("relay URL is not in canonical form");
    }
  });

  test("the operator's --relay: http(s) read as ws(s), one trailing slash dropped", () => {
    expect(parseOperatorRelayUrl("https://relay.example.com/").url).toBe("wss://relay.example.com");
    expect(parseOperatorRelayUrl("http://127.0.0.1:8080/base/").url).toBe("ws://127.0.0.1:8080/base");
    expect(parseOperatorRelayUrl(" wss://relay.example.com ").url).toBe("wss://relay.example.com");
  });

  test("the operator's --relay: user, query, fragment, other schemes and odd paths are usage errors", () => {
    for (const bad of [
      "wss://token@relay.example.com",
      "wss://a:b@relay.example.com",
      "wss://relay.example.com/?x",
      "wss://relay.example.com/#x",
      "ftp://relay.example.com",
      "relay.example.com",
      "wss://relay.example.com/a b",
      "wss://relay.example.com/a//b",
      "",
    ]) {
      let err: unknown;
      try {
        parseOperatorRelayUrl(bad);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(OpenScopeError);
      expect((err as OpenScopeError).kind).toBe("usage");
      expect((err as OpenScopeError).message).toStartWith("--relay: relay URL");
    }
  });

  test("the rendezvous URL keeps the relay's path and puts the rid in the path, never after a fragment", () => {
    expect(rendezvousUrl("wss://relay.example.com", rid, "client")).toBe(`wss://relay.example.com/v1/rendezvous/${rid}?role=client`);
    expect(rendezvousUrl("ws://[::1]:9000/base", rid, "daemon")).toBe(`ws://[::1]:9000/base/v1/rendezvous/${rid}?role=daemon`);
  });
});
