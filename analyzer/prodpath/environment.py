"""Which environment variables are set when the app starts on Railway, and to what.

RULES.md "The production path": only the variables the platform settings name
are set (their values are unknown to us), plus what the image's Dockerfile
`ENV` sets for a Docker build, plus `NAME=value` prefixed on the start command.
Committed dotenv files count only when the code loads them at import
(`load_dotenv()`); python-dotenv does not override variables that are already
set unless asked to (`override=True`). Everything else is unset, so a read
takes its default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from analyzer.deployfiles import parse_env_instruction

if TYPE_CHECKING:
    from analyzer.project import Project

# Railway sets these in every deployment, whatever the service's variables say.
RAILWAY_PROVIDED = frozenset(
    {
        "PORT",
        "RAILWAY_ENVIRONMENT",
        "RAILWAY_ENVIRONMENT_NAME",
        "RAILWAY_ENVIRONMENT_ID",
        "RAILWAY_PROJECT_NAME",
        "RAILWAY_PROJECT_ID",
        "RAILWAY_SERVICE_NAME",
        "RAILWAY_SERVICE_ID",
        "RAILWAY_PRIVATE_DOMAIN",
    }
)

_SECRET_NAME = re.compile(r"SECRET|KEY|TOKEN|PASSWORD|PASSWD|PASS\b|_PASS|PRIVATE|SALT|CREDENTIAL", re.I)

# Precedence when a name is set in several places: the first one wins.
_PRECEDENCE = ("command", "dotenv-override", "platform", "railway", "dockerfile", "dotenv")


def is_secret_name(name: str) -> bool:
    """Whether a variable or key name looks like it holds a secret (its value is never shown)."""
    return bool(_SECRET_NAME.search(name))


@dataclass(frozen=True)
class EnvSource:
    """Where a variable gets its production value."""

    kind: str  # command, platform, railway, dockerfile, dotenv, dotenv-override
    origin: str  # "platform variables", "Dockerfile:4", "Procfile:1", ".env:3", "Railway"
    value: str | None  # None: set, value unknown

    def describe(self, name: str) -> str:
        if self.value is None:
            where = {"platform": "on the platform", "railway": "by Railway"}.get(self.kind, f"by {self.origin}")
            return f"`{name}` is set {where} (value unknown)"
        shown = "(hidden)" if is_secret_name(name) else repr(self.value)
        return f"`{name}` is set to {shown} by {self.origin}"


@dataclass
class Environment:
    """The production environment, as far as the repo and the platform settings tell."""

    sources: dict[str, list[EnvSource]] = field(default_factory=dict)
    variables_given: bool = False  # the platform settings list the service's variables

    def add(self, name: str, source: EnvSource) -> None:
        self.sources.setdefault(name, []).append(source)

    def source(self, name: str) -> EnvSource | None:
        """The source that wins for `name`, or None when it is unset."""
        found = self.sources.get(name)
        if not found:
            return None
        return min(found, key=lambda source: _PRECEDENCE.index(source.kind))

    def is_set(self, name: str) -> bool:
        return self.source(name) is not None

    def names(self) -> list[str]:
        return sorted(self.sources)

    def describe_unset(self, name: str) -> str:
        if self.variables_given:
            return f"`{name}` is not set (not among the platform variables)"
        return f"`{name}` is not set (no platform variables given)"

    def with_dotenv(self, entries: list[tuple[str, str, str]], override: bool) -> Environment:
        """A copy with a loaded dotenv file's (name, value, origin) entries."""
        copy = Environment({name: list(found) for name, found in self.sources.items()}, self.variables_given)
        kind = "dotenv-override" if override else "dotenv"
        for name, value, origin in entries:
            copy.add(name, EnvSource(kind, origin, value))
        return copy


def production_environment(project: Project) -> Environment:
    """The environment before any dotenv file is loaded by the code."""
    from analyzer.startcmd import uses_docker

    platform = project.platform
    env = Environment(variables_given=platform.variables is not None)
    for name in platform.variables or ():
        env.add(name, EnvSource("platform", "platform variables", None))
    for name in RAILWAY_PROVIDED:
        env.add(name, EnvSource("railway", "Railway", None))
    if uses_docker(project):
        dockerfile = project.dockerfile
        for instruction in dockerfile.final_stage():
            if instruction.keyword != "ENV":
                continue
            for name, value in parse_env_instruction(instruction.value):
                # `ENV A=$B` is substituted by Docker at build time from ARGs we do not track.
                known = None if "$" in value else value
                env.add(name, EnvSource("dockerfile", f"{dockerfile.path}:{instruction.line}", known))
    run = project.server_run
    start = project.start_command
    if run is not None and start is not None:
        for name, value in run.command.assignments.items():
            known = None if "$" in value else value
            env.add(name, EnvSource("command", f"the start command ({start.source})", known))
    return env
