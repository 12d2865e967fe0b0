import { defineCommand } from "citty";
import { notImplemented } from "../run.ts";

export default defineCommand({
  meta: { name: "mcp", description: "Serve the sanctioned verbs as MCP tools on stdio (for an AI agent)" },
  run: () => notImplemented("mcp"),
});
