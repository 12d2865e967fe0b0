// The sample verbs.toml written by `openscope init`: verbs over files in the home's sample/
// folder, so a new operator can open a share at once. Edit verbs.toml for real systems.
export function sampleCatalog(sampleDir: string): string {
  // TOML basic strings accept JSON string escapes, so odd characters in the path stay inside the string.
  const path = (rest: string) => JSON.stringify(`${sampleDir}/${rest}`);
  return `# OpenScope verb catalog. Every parameter is constrained: enum, int range, or anchored pattern.
# Placeholders {name} are replaced inside one argv element; nothing goes through a shell.

[verb."ssh.tail_logs"]
summary = "Last lines of a service's log"
adapter = "exec"
argv = ["tail", "-n", "{lines}", ${path("logs/{service}.log")}]
timeout = "10s"
max_output = "1MiB"
params.service = { enum = ["web", "api"] }
params.lines = { int = [1, 5000], default = 100 }

[verb."ssh.restart_service"]
summary = "Restart a service (the sample marks it restarted)"
adapter = "exec"
argv = ["touch", ${path("run/{service}.restarted")}]
timeout = "10s"
max_output = "64KiB"
params.service = { enum = ["web", "api"] }

[verb."logs.follow"]
summary = "Follow a service's log as it grows"
adapter = "exec"
argv = ["tail", "-n", "{lines}", "-f", ${path("logs/{service}.log")}]
timeout = "30m"
max_output = "64MiB"
params.service = { enum = ["web", "api"] }
params.lines = { int = [0, 1000], default = 10 }

[verb."sys.uptime"]
summary = "How long the host has been up, and its load"
adapter = "exec"
argv = ["uptime"]
timeout = "5s"
max_output = "4KiB"
`;
}
