"""Parsers for the files that tell Railway how to build and start the app.

Each parser takes decoded text and returns plain data with line numbers, so
rules can point at the exact line. None of them raises on bad input: problems
are returned alongside what could be read.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field

# Keys of Railway's config-as-code schema (railway.json / railway.toml).
RAILWAY_KEYS: dict[str, frozenset[str]] = {
    "": frozenset({"$schema", "build", "deploy", "environments"}),
    "build": frozenset(
        {
            "builder",
            "buildCommand",
            "watchPatterns",
            "dockerfilePath",
            "nixpacksConfigPath",
            "nixpacksPlan",
            "nixpacksVersion",
            "railpackVersion",
            "buildEnvironment",
        }
    ),
    "deploy": frozenset(
        {
            "startCommand",
            "preDeployCommand",
            "numReplicas",
            "multiRegionConfig",
            "healthcheckPath",
            "healthcheckTimeout",
            "restartPolicyType",
            "restartPolicyMaxRetries",
            "cronSchedule",
            "sleepApplication",
            "region",
            "overlapSeconds",
            "drainingSeconds",
            "runtime",
            "limitOverride",
            "requiredMountPath",
            "ipv6EgressEnabled",
            "useLegacyStacker",
            "registryCredentials",
        }
    ),
}

# What people write for the keys Railway does not know, and the key they meant.
RAILWAY_KEY_FIXES = {
    "releaseCommand": "preDeployCommand",
    "release": "preDeployCommand",
    "preDeploy": "preDeployCommand",
    "predeployCommand": "preDeployCommand",
    "postDeployCommand": "preDeployCommand",
    "start": "startCommand",
    "startcommand": "startCommand",
    "cmd": "startCommand",
    "command": "startCommand",
    "nixpacksConfig": "nixpacksConfigPath",
    "dockerFile": "dockerfilePath",
    "dockerfile": "dockerfilePath",
    "healthCheckPath": "healthcheckPath",
    "healthCheckTimeout": "healthcheckTimeout",
    "restartPolicy": "restartPolicyType",
    "replicas": "numReplicas",
}


@dataclass
class ProcfileEntry:
    name: str
    command: str
    line: int


@dataclass
class Procfile:
    path: str
    entries: list[ProcfileEntry] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, what is wrong)

    def get(self, name: str) -> ProcfileEntry | None:
        return next((entry for entry in self.entries if entry.name == name), None)

    def web_entry(self) -> ProcfileEntry | None:
        """What Railway runs: `web`, else `worker`, else the first entry."""
        return self.get("web") or self.get("worker") or (self.entries[0] if self.entries else None)


_PROCFILE_LINE = re.compile(r"^(?P<name>[A-Za-z0-9_-]+):(?P<rest>.*)$")
_YAML_INDICATORS = tuple("[]{}&*!|>%@`,")


def parse_procfile(path: str, text: str) -> Procfile:
    """Read a Procfile as the builders do: a YAML mapping of names to commands."""
    procfile = Procfile(path)
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if raw[0] in " \t":
            procfile.problems.append((number, "indented line (YAML reads it as part of the line above)"))
            continue
        match = _PROCFILE_LINE.match(raw.rstrip())
        if not match or (match.group("rest") and not match.group("rest")[0].isspace()):
            procfile.problems.append((number, "not of the form `name: command`"))
            continue
        name, command = match.group("name"), match.group("rest").strip()
        command = re.sub(r"\s+#.*$", "", command)  # YAML comment
        problem = _yaml_scalar_problem(command)
        if problem:
            procfile.problems.append((number, problem))
            continue
        if len(command) >= 2 and command[0] == command[-1] and command[0] in "'\"":
            command = command[1:-1]
        if procfile.get(name):
            procfile.problems.append((number, f"process `{name}` defined twice"))
            continue
        procfile.entries.append(ProcfileEntry(name, command, number))
    return procfile


def _yaml_scalar_problem(value: str) -> str | None:
    if not value:
        return "no command after the process name"
    if value[0] in "'\"":
        if len(value) < 2 or value[-1] != value[0]:
            return "unbalanced quote at the start of the command"
        return None
    if value.startswith(_YAML_INDICATORS) or value.startswith(("- ", "? ")):
        return f"command starts with `{value[0]}`, which YAML reads as syntax"
    if ": " in value or value.endswith(":"):
        return "`: ` inside the command makes YAML read a nested mapping; quote the command"
    return None


@dataclass
class RailwayConfig:
    path: str
    data: dict = field(default_factory=dict)
    error: str | None = None
    text: str = ""

    def get(self, section: str, key: str):
        value = self.data.get(section)
        return value.get(key) if isinstance(value, dict) else None

    def line_of(self, key: str) -> int | None:
        """Best-effort line of a key in the source text (JSON and TOML alike)."""
        pattern = re.compile(rf'(^|[\s{{,])"?{re.escape(key)}"?\s*[:=]', re.M)
        match = pattern.search(self.text)
        return self.text.count("\n", 0, match.start() + len(match.group(1))) + 1 if match else None

    def unknown_keys(self) -> list[tuple[str, str]]:
        """(dotted path, key) for every key the schema does not define."""
        found: list[tuple[str, str]] = []

        def walk(mapping: dict, prefix: str) -> None:
            for key, value in mapping.items():
                section = prefix.rsplit(".", 1)[-1] if prefix else ""
                allowed = RAILWAY_KEYS.get(section)
                dotted = f"{prefix}.{key}" if prefix else key
                if allowed is not None and key not in allowed:
                    found.append((dotted, key))
                    continue
                if key in ("build", "deploy") and isinstance(value, dict):
                    walk(value, key if not prefix else f"{prefix}.{key}")
                elif key == "environments" and isinstance(value, dict):
                    for env_name, env in value.items():
                        if isinstance(env, dict):
                            for sub, sub_value in env.items():
                                if sub not in ("build", "deploy"):
                                    found.append((f"environments.{env_name}.{sub}", sub))
                                elif isinstance(sub_value, dict):
                                    walk(sub_value, sub)

        walk(self.data, "")
        return found


def parse_railway_config(path: str, text: str) -> RailwayConfig:
    config = RailwayConfig(path, text=text)
    try:
        data = json.loads(text) if path.endswith(".json") else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as error:
        config.error = str(error)
        return config
    if not isinstance(data, dict):
        config.error = "the top level is not an object"
        return config
    config.data = data
    return config


@dataclass
class DockerInstruction:
    keyword: str
    value: str
    line: int


@dataclass
class Dockerfile:
    path: str
    instructions: list[DockerInstruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[DockerInstruction]:
        return [ins for ins in self.instructions if ins.keyword == keyword]

    def final_stage(self) -> list[DockerInstruction]:
        """Instructions of the last build stage: only its CMD and ENV reach the image."""
        start = max((i for i, ins in enumerate(self.instructions) if ins.keyword == "FROM"), default=0)
        return self.instructions[start:]

    def env(self) -> dict[str, tuple[str, int]]:
        """Variables the final image sets (ENV, and ARG defaults for substitution)."""
        values: dict[str, tuple[str, int]] = {}
        for ins in self.final_stage():
            if ins.keyword in ("ENV", "ARG"):
                for name, value in parse_env_instruction(ins.value, ins.keyword):
                    if ins.keyword == "ENV" or name not in values:
                        values[name] = (value, ins.line)
        return values


def parse_dockerfile(path: str, text: str) -> Dockerfile:
    dockerfile = Dockerfile(path)
    pending: list[str] = []
    start_line = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if pending and line.lstrip().startswith("#"):
            continue  # comments inside a continued instruction are dropped
        if not pending:
            start_line = number
        if line.endswith("\\"):
            pending.append(line[:-1])
            continue
        pending.append(line)
        joined = " ".join(part.strip() for part in pending)
        pending = []
        keyword, _, value = joined.partition(" ")
        dockerfile.instructions.append(DockerInstruction(keyword.upper(), value.strip(), start_line))
    return dockerfile


def parse_env_instruction(value: str, keyword: str = "ENV") -> list[tuple[str, str]]:
    """`ENV A=1 B="two"` and the legacy `ENV A 1` form; `ARG A=1`."""
    from analyzer.shell import ShellSyntaxError, tokenize

    try:
        words = [w for w in tokenize(value) if not w.startswith("\0")]
    except ShellSyntaxError:
        return []
    if not words:
        return []
    if "=" not in words[0]:
        if keyword == "ARG":
            return [(words[0], "")]
        name, _, rest = value.partition(" ")
        return [(name, rest.strip().strip("\"'"))]
    pairs = []
    for word in words:
        name, sep, val = word.partition("=")
        if sep:
            pairs.append((name, val))
    return pairs


def exec_form(value: str) -> list[str] | None:
    """The argv of a JSON-array CMD/ENTRYPOINT, or None for the shell form."""
    if not value.startswith("["):
        return None
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        return None
    if isinstance(parsed, list) and all(isinstance(item, str) for item in parsed):
        return parsed
    return None


def parse_env_file(text: str) -> list[tuple[str, str, int]]:
    """(name, value, line) of a dotenv file, as python-dotenv reads it."""
    pairs = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        name, sep, value = line.partition("=")
        if not sep:
            continue
        name, value = name.strip(), value.strip()
        if value[:1] in "'\"" and value[-1:] == value[:1] and len(value) >= 2:
            value = value[1:-1]
        else:
            value = re.sub(r"\s+#.*$", "", value)
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", name):
            pairs.append((name, value, number))
    return pairs
