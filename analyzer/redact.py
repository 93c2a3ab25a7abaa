"""A last line of defence: secret values never leave the analyzer in messages or evidence.

Rules write their own messages without values, but evidence quotes code
(`os.environ.get("SECRET_KEY", "...")`). Every literal the repository assigns to
a secret-looking name is collected here and masked wherever the report shows text.
"""

from __future__ import annotations

from analyzer.prodpath.environment import is_secret_name
from analyzer.prodpath.lattice import EnvValue, Known, Unknown, Value
from analyzer.project import Project
from analyzer.report import Finding

MASK = "***"
SHORTEST = 4  # shorter literals ("", "1", "dev") would mask ordinary words


def secret_literals(project: Project) -> set[str]:
    found: set[str] = set()
    production = project.production
    for config in production.configs:
        for key, settings in config.history.items():
            if is_secret_name(key):
                for setting in settings:
                    _collect(setting.value, found)
    for use in production.env_reads:
        if is_secret_name(use.name) and use.value is not None:
            _collect(use.value, found)
    for pairs in project.env_files.values():
        found.update(value for name, value, _ in pairs if is_secret_name(name))
    if project.dockerfile is not None:
        found.update(value for name, (value, _) in project.dockerfile.env().items() if is_secret_name(name))
    return {value for value in found if len(value) >= SHORTEST}


def _collect(value: Value | None, found: set[str]) -> None:
    if isinstance(value, Known) and isinstance(value.value, (str, bytes)):
        found.add(value.value if isinstance(value.value, str) else value.value.decode("utf-8", "replace"))
    elif isinstance(value, EnvValue):
        _collect(value.default, found)
    elif isinstance(value, Unknown):
        for option in value.options:
            _collect(option, found)


def mask(text: str | None, secrets: set[str]) -> str | None:
    if not text:
        return text
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def redact_findings(project: Project, findings: list[Finding], env_contract: list[dict]) -> None:
    secrets = secret_literals(project)
    if not secrets:
        return
    for finding in findings:
        finding.message = mask(finding.message, secrets)
        finding.evidence = [mask(line, secrets) for line in finding.evidence]
        finding.fix_title = mask(finding.fix_title, secrets)
        finding.fix_safety = mask(finding.fix_safety, secrets)
        finding.fix_problem = mask(finding.fix_problem, secrets)
    for entry in env_contract:
        for key in ("default", "note"):
            entry[key] = mask(entry.get(key), secrets)
