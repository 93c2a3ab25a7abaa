from __future__ import annotations

from collections.abc import Iterator

from analyzer.deployfiles import RAILWAY_KEY_FIXES
from analyzer.project import Project
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule


class RailwayConfigUnknownKey(Rule):
    """
    ## What it does
    Flags keys in `railway.json` / `railway.toml` that Railway's config-as-code
    schema does not define (`deploy.releaseCommand`, `build.nixpacksConfig`,
    `[variables]`), and a config file that does not parse.

    ## Why is this bad?
    Railway ignores unknown keys without a warning, so the step they were meant
    for never runs: a `releaseCommand` means migrations never run, a
    `[variables]` table sets nothing. A file that does not parse is ignored
    entirely, start command included.

    ## Example
    ```toml
    [deploy]
    releaseCommand = "flask db upgrade"
    ```

    ## Use instead
    ```toml
    [deploy]
    preDeployCommand = "flask db upgrade"
    ```

    ## How to fix
    Use the schema's key (`deploy.preDeployCommand` for release steps); set variables in the service's Variables tab.

    ## References
    - Railway: Config as code reference (`https://railway.com/railway.schema.json`)
    """

    id = "PF108"
    slug = "railway-config-unknown-key"
    severity = Severity.HIGH
    title = "Unknown key in railway config"

    def check(self, project: Project) -> Iterator[Finding]:
        for config in project.railway_configs:
            if config.error:
                yield self.finding(
                    f"`{config.path}` does not parse ({config.error}); Railway ignores the whole file",
                    config.path,
                    _error_line(config.error),
                    subject="parse error",
                )
                continue
            for dotted, key in config.unknown_keys():
                fix = RAILWAY_KEY_FIXES.get(key)
                hint = f"; did you mean `{fix}`?" if fix else "; Railway ignores it"
                yield self.finding(
                    f"`{dotted}` is not a Railway config key{hint}",
                    config.path,
                    config.line_of(key),
                    subject=dotted,
                )

    VALID = [
        Example(
            {
                "railway.json": '{"$schema": "https://railway.com/railway.schema.json", "deploy": {"startCommand": "gunicorn app:app", "preDeployCommand": ["flask db upgrade"]}}'
            }
        ),
        Example(
            {
                "railway.toml": '[build]\nbuilder = "RAILPACK"\n\n[deploy]\nstartCommand = "gunicorn app:app"\nhealthcheckPath = "/health"\nrestartPolicyType = "ON_FAILURE"\n'
            }
        ),
        Example({"railway.toml": "[environments.staging.deploy]\nnumReplicas = 1\n"}),
        Example(
            {
                "services/web/railway.toml": '[deploy]\nreleaseCommand = "x"\n',
                "railway.toml": "[deploy]\nnumReplicas = 2\n",
            },
            note="another service's config",
        ),
    ]
    INVALID = [
        Example(
            {"railway.toml": '[deploy]\nstartCommand = "gunicorn app:app"\nreleaseCommand = "flask db upgrade"\n'},
            expect="`preDeployCommand`",
        ),
        Example({"railway.json": '{"build": {"nixpacksConfig": "nixpacks.toml"}}'}, expect="`build.nixpacksConfig`"),
        Example({"railway.toml": '[variables]\nFLASK_DEBUG = "0"\n'}, expect="`variables`"),
        Example({"railway.json": '{"deploy": {"startCommand": "gunicorn app:app",}}'}, expect="does not parse"),
        Example({"railway.toml": '[deploy]\nstartCommand = "gunicorn app:app\n'}, expect="does not parse"),
        Example({"railway.toml": '[environments.production.deploy]\nreleaseCommand = "flask db upgrade"\n'}),
    ]


def _error_line(error: str) -> int | None:
    """The line number json and tomllib put in their messages ("line 3 column 5")."""
    import re

    match = re.search(r"line (\d+)", error)
    return int(match.group(1)) if match else None
