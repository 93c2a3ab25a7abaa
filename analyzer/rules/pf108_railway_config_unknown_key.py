from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator

from analyzer.autofix import Fix
from analyzer.deployfiles import RAILWAY_KEY_FIXES, RAILWAY_KEYS, RailwayConfig
from analyzer.fixes.deployfiles import utf8_text
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

    ## Fix safety
    The autofix renames a key to the schema's key it stands for, in place, and
    only when that key is not already set in the same table. Renaming
    `releaseCommand` makes the step run before every deploy, which it never did.

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
                finding = self.finding(
                    f"`{dotted}` is not a Railway config key{hint}",
                    config.path,
                    config.line_of(key),
                    subject=dotted,
                )
                section = dotted.split(".")[-2] if "." in dotted else ""
                if fix and fix in RAILWAY_KEYS.get(section, ()):
                    finding.fix = _rename_key_fix(project, config, key, fix)
                yield finding

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
            {
                "railway.toml": (
                    '[deploy]\r\nstartCommand = "gunicorn app:app"\r\n'
                    'releaseCommand = "flask db upgrade"  # migrations\r\n'
                )
            },
            expect="`preDeployCommand`",
            fixed={
                "railway.toml": (
                    '[deploy]\r\nstartCommand = "gunicorn app:app"\r\n'
                    'preDeployCommand = "flask db upgrade"  # migrations\r\n'
                )
            },
        ),
        Example(
            {"railway.json": '{"build": {"nixpacksConfig": "nixpacks.toml"}}'},
            expect="`build.nixpacksConfig`",
            fixed={"railway.json": '{"build": {"nixpacksConfigPath": "nixpacks.toml"}}'},
        ),
        Example(
            {
                "railway.json": (
                    '{\n  "$schema": "https://railway.com/railway.schema.json",\n'
                    '  "build": {\n    "builder": "RAILPACK"\n  },\n'
                    '  "deploy": {\n    "startCommand": "gunicorn app:app",\n'
                    '    "healthCheckPath": "/health",\n    "restartPolicyType": "ON_FAILURE"\n  }\n}\n'
                )
            },
            expect="`healthcheckPath`",
            fixed={
                "railway.json": (
                    '{\n  "$schema": "https://railway.com/railway.schema.json",\n'
                    '  "build": {\n    "builder": "RAILPACK"\n  },\n'
                    '  "deploy": {\n    "startCommand": "gunicorn app:app",\n'
                    '    "healthcheckPath": "/health",\n    "restartPolicyType": "ON_FAILURE"\n  }\n}\n'
                )
            },
        ),
        Example({"railway.toml": '[variables]\nFLASK_DEBUG = "0"\n'}, expect="`variables`"),
        Example({"railway.json": '{"deploy": {"startCommand": "gunicorn app:app",}}'}, expect="does not parse"),
        Example({"railway.toml": '[deploy]\nstartCommand = "gunicorn app:app\n'}, expect="does not parse"),
        Example(
            {
                "railway.toml": (
                    '[deploy]\nreleaseCommand = "flask db upgrade"\n\n'
                    '[environments.production.deploy]\nreleaseCommand = "flask db upgrade"\n'
                )
            },
            fixed={
                "railway.toml": (
                    '[deploy]\npreDeployCommand = "flask db upgrade"\n\n'
                    '[environments.production.deploy]\npreDeployCommand = "flask db upgrade"\n'
                )
            },
            note="two findings, one per table; fix-all renames both",
        ),
    ]


def _error_line(error: str) -> int | None:
    """The line number json and tomllib put in their messages ("line 3 column 5")."""
    import re

    match = re.search(r"line (\d+)", error)
    return int(match.group(1)) if match else None


def _rename_key_fix(project: Project, config: RailwayConfig, key: str, new: str) -> Fix | None:
    """Rename the key where it is written: each occurrence whose rename alone reads back as intended.

    The same wrong key in several tables (`[deploy]` and `[environments.production.deploy]`)
    gives findings with one identity, so they are renamed together.
    """
    text = utf8_text(project, config.path)
    if text is None:
        return None
    is_json = config.path.endswith(".json")
    pattern = re.compile(rf"""(?<![\w$-])(?P<quote>["']?){re.escape(key)}(?P=quote)(?=\s*[:=])""")
    places = []
    for match in pattern.finditer(text):
        quote = match.group("quote") or ('"' if is_json else "")
        written = f"{quote}{new}{quote}"
        data = _load(text[: match.start()] + written + text[match.end() :], is_json)
        if data is not None and _renamed_once(config.data, data, key, new):
            places.append((match.start(), match.end(), written))
    if not places:
        return None
    for start, end, written in reversed(places):
        text = text[:start] + written + text[end:]
    if _load(text, is_json) is None:
        return None
    return Fix(
        f"Rename `{key}` to `{new}`",
        f"Railway now reads `{new}`, which it ignored as `{key}`: the step it holds starts to run.",
        {config.path: text},
    )


def _load(text: str, is_json: bool) -> dict | None:
    try:
        data = json.loads(text) if is_json else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _renamed_once(old, new, key: str, replacement: str) -> bool:
    """True when `new` is `old` with exactly one `key` renamed in place, its value and every other key kept."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return False
    if key in old and replacement in new and key not in new and replacement not in old:
        rest_old = {k: v for k, v in old.items() if k != key}
        rest_new = {k: v for k, v in new.items() if k != replacement}
        if old[key] == new[replacement] and rest_old == rest_new:
            return True
    if old.keys() != new.keys():
        return False
    changed = [name for name in old if old[name] != new[name]]
    return len(changed) == 1 and _renamed_once(old[changed[0]], new[changed[0]], key, replacement)
