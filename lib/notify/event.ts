// Notifications (SPEC.md §17.4): which daemon events reach the operator's chat or script, and the
// one JSON object each becomes: an `event` name, the share's facts, and a human `text` line that a
// Slack or Mattermost incoming webhook shows as is. Pure: an audit row and share facts in, a value out.

export type NotifyEventName =
  | "share.opened"
  | "recipient.connected"
  | "recipient.disconnected"
  | "call.denied"
  | "approval.requested"
  | "share.ended";

export interface Notification {
  event: NotifyEventName;
  at: string; // ISO 8601
  daemon: string;
  share: string;
  agent?: string;
  recipient?: string;
  verb?: string;
  params?: Record<string, string>;
  reason?: string;
  message?: string;
  request?: string;
  state?: "revoked" | "expired";
  text: string;
}

/** The audit row fields a notification reads. */
export interface NotifySource {
  kind: string;
  at: number;
  shareId?: string;
  agent?: string;
  verb?: string;
  params?: Record<string, string>;
  reason?: string;
  message?: string;
  requestId?: string;
}

const NAME: Record<string, NotifyEventName> = {
  "share.opened": "share.opened",
  "share.connected": "recipient.connected",
  "share.disconnected": "recipient.disconnected",
  "call.denied": "call.denied",
  "approval.requested": "approval.requested",
  "share.revoked": "share.ended",
  "share.expired": "share.ended",
};

/** Printable, one line, bounded: chat clients render the text, and it may carry a verb's values. */
function clean(s: string, max = 300): string {
  const one = s.replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, "?");
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

function callText(verb: string | undefined, params: Record<string, string> | undefined): string {
  const p = Object.entries(params ?? {}).map(([k, v]) => `${k}=${v}`).join(" ");
  return clean(`${verb ?? "?"}${p ? ` ${p}` : ""}`, 200);
}

/** The notification for an audit row, or undefined when the row is not one the operator is told of. */
export function notificationFor(row: NotifySource, facts: { daemon: string; recipient?: string }): Notification | undefined {
  const event = NAME[row.kind];
  if (!event || !row.shareId) return undefined;
  const who = facts.recipient ?? "the recipient";
  const share = row.shareId;
  const base: Notification = {
    event,
    at: new Date(row.at).toISOString(),
    daemon: facts.daemon,
    share,
    ...(row.agent !== undefined ? { agent: row.agent } : {}),
    ...(facts.recipient !== undefined ? { recipient: facts.recipient } : {}),
    text: "",
  };
  const on = `on ${facts.daemon}`;
  switch (event) {
    case "share.opened":
      return { ...base, text: `OpenScope ${on}: share ${share} opened for ${who} (agent ${row.agent ?? "?"})` };
    case "recipient.connected":
      return { ...base, text: `OpenScope ${on}: ${who} connected to share ${share}` };
    case "recipient.disconnected":
      return { ...base, text: `OpenScope ${on}: ${who} left share ${share}` };
    case "call.denied":
      return {
        ...base,
        verb: row.verb,
        params: row.params,
        reason: row.reason,
        text: `OpenScope ${on}: denied ${callText(row.verb, row.params)} in share ${share} (${clean(row.reason ?? "denied", 60)})`,
      };
    case "approval.requested":
      return {
        ...base,
        verb: row.verb,
        params: row.params,
        request: row.requestId,
        text: `OpenScope ${on}: ${who} asks to run ${callText(row.verb, row.params)} in share ${share}; answer with: openscope approve ${row.requestId ?? "?"} (or deny)`,
      };
    case "share.ended": {
      const state = row.kind === "share.revoked" ? "revoked" : "expired";
      return { ...base, state, text: `OpenScope ${on}: share ${share} ${state === "revoked" ? "was revoked" : "expired"}` };
    }
  }
}
