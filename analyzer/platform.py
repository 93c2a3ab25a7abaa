"""Platform settings: what the user entered for the Railway service (RULES.md "Inputs")."""

from __future__ import annotations

from dataclasses import dataclass, fields


class PlatformError(ValueError):
    """The platform settings are malformed; the message says which key and why."""


@dataclass(frozen=True)
class Platform:
    start_command: str | None = None
    pre_deploy_command: str | None = None
    # None means "not given": rules that need the list of variables stay quiet.
    variables: tuple[str, ...] | None = None
    volume_mount_path: str | None = None
    worker_service: bool | None = None

    @classmethod
    def from_dict(cls, data: dict | None) -> Platform:
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise PlatformError("platform settings must be a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise PlatformError(f"unknown platform setting(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        values: dict = {}
        for key in ("start_command", "pre_deploy_command", "volume_mount_path"):
            value = data.get(key)
            if value is not None and not isinstance(value, str):
                raise PlatformError(f"{key} must be a string or null")
            values[key] = value or None
        variables = data.get("variables")
        if variables is not None:
            if not isinstance(variables, list) or not all(isinstance(v, str) for v in variables):
                raise PlatformError("variables must be a list of variable names")
            values["variables"] = tuple(variables)
        worker = data.get("worker_service")
        if worker is not None and not isinstance(worker, bool):
            raise PlatformError("worker_service must be true or false")
        values["worker_service"] = worker
        return cls(**values)

    def has_variable(self, name: str) -> bool:
        return self.variables is not None and name in self.variables
