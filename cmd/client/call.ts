import { defineCommand } from "citty";
import { notImplemented } from "../run.ts";

export default defineCommand({
  meta: { name: "call", description: "One-shot call for scripts: call VERB k=v …" },
  args: { verb: { type: "positional", description: "Verb name" } },
  run: () => notImplemented("call"),
});
