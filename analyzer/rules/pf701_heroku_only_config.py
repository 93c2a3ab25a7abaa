from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator

import libcst as cst

from analyzer.files import QuickParse
from analyzer.project import Project
from analyzer.pysource import PyModule
from analyzer.pyvalues import ENV_MAPPINGS, env_read, literal
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule

REDIS = "a Redis service's reference variable, `REDIS_URL=${{Redis.REDIS_URL}}`"
MYSQL = "a MySQL service's reference variable, `${{MySQL.MYSQL_URL}}`"
# Variables only Heroku or its add-ons set, and what to use on Railway instead.
HEROKU_VARIABLES = {
    "DYNO": "`RAILWAY_REPLICA_ID` (or `RAILWAY_ENVIRONMENT_NAME` to tell the platform apart)",
    "HEROKU_APP_NAME": "`RAILWAY_SERVICE_NAME`",
    "HEROKU_APP_ID": "`RAILWAY_SERVICE_ID`",
    "HEROKU_DYNO_ID": "`RAILWAY_REPLICA_ID`",
    "HEROKU_RELEASE_VERSION": "`RAILWAY_DEPLOYMENT_ID`",
    "HEROKU_SLUG_COMMIT": "`RAILWAY_GIT_COMMIT_SHA`",
    "HEROKU_SLUG_DESCRIPTION": "`RAILWAY_GIT_COMMIT_MESSAGE`",
    "HEROKU_BRANCH": "`RAILWAY_GIT_BRANCH`",
    "HEROKU_APP_DEFAULT_DOMAIN_NAME": "`RAILWAY_PUBLIC_DOMAIN`",
    "REDISTOGO_URL": REDIS,
    "REDISCLOUD_URL": REDIS,
    "CLEARDB_DATABASE_URL": MYSQL,
    "JAWSDB_URL": MYSQL,
    "JAWSDB_MARIA_URL": MYSQL,
}
HEROKU_PREFIXES = {
    "HEROKU_POSTGRESQL_": "a Postgres service's reference variable, `DATABASE_URL=${{Postgres.DATABASE_URL}}`",
    "HEROKU_REDIS_": REDIS,
    "HEROKU_": "a variable you set yourself in Railway's Variables",
    "MEMCACHIER_": f"none (Railway has no managed Memcached): cache in Redis instead, {REDIS}",
}
NEEDLES = (b"DYNO", b"HEROKU_", b"REDISTOGO_URL", b"REDISCLOUD_URL", b"CLEARDB_", b"JAWSDB_", b"MEMCACHIER_")
APP_JSON_SCRIPTS = {
    "postdeploy": "Heroku ran it once after creating the app; run it once with `railway run`, or make it the "
    "pre-deploy command if it is safe to repeat on every deploy",
    "pr-predestroy": "Heroku ran it before destroying a review app; Railway runs nothing when a PR environment "
    "is removed",
}
HOOKS = {
    "bin/pre_compile": (
        "a Heroku buildpack hook Railway's builders never run",
        "move it to `build.buildCommand` in railway.toml or a Dockerfile `RUN`",
    ),
    "bin/post_compile": (
        "a Heroku buildpack hook Railway's builders never run",
        "move build steps to `build.buildCommand` in railway.toml and steps that need the database to the "
        "pre-deploy command",
    ),
    ".buildpacks": (
        "Heroku's buildpack list (heroku-buildpack-multi), which Railway never reads",
        "Railpack detects the app's languages itself; for anything else use a Dockerfile",
    ),
}
APP = "from flask import Flask\napp = Flask(__name__)\n"


class HerokuOnlyConfig(Rule):
    """
    ## What it does
    Flags what only Heroku provides: variables Heroku or its add-ons set
    (`DYNO`, `HEROKU_*`, `REDISTOGO_URL`, `REDISCLOUD_URL`,
    `CLEARDB_DATABASE_URL`, `JAWSDB_URL`, `MEMCACHIER_*`) read by the app,
    `app.json` scripts (`postdeploy`, `pr-predestroy`), the buildpack hooks
    `bin/pre_compile` / `bin/post_compile`, and a `.buildpacks` file.

    ## Why is this bad?
    Railway sets none of these variables and runs none of these files: an
    `os.environ["REDISTOGO_URL"]` raises `KeyError` at boot, an `if "DYNO" in
    os.environ:` production switch silently stays off, and the setup a hook did
    never happens.

    ## Example
    ```python
    redis_url = os.environ.get("REDISCLOUD_URL", "redis://localhost:6379")
    IS_PRODUCTION = "DYNO" in os.environ
    ```

    ## Use instead
    ```python
    redis_url = os.environ["REDIS_URL"]  # REDIS_URL=${{Redis.REDIS_URL}} in Railway's Variables
    IS_PRODUCTION = os.environ.get("RAILWAY_ENVIRONMENT_NAME") == "production"
    ```

    ## How to fix
    Read the variable Railway provides (a reference variable such as `${{Redis.REDIS_URL}}`, or a `RAILWAY_*` variable) and move hook scripts to the build command or the pre-deploy command.

    ## References
    - Railway: Variables, reference variables, Railway-provided variables
    - Railway: Pre-deploy command, build command
    - Heroku: Dyno metadata, app.json schema, Python buildpack hooks
    """

    id = "PF701"
    slug = "heroku-only-config"
    severity = Severity.MEDIUM
    title = "Heroku-only configuration"

    def check(self, project: Project) -> Iterator[Finding]:
        yield from self._variables(project)
        yield from self._app_json(project)
        for name, (what, advice) in HOOKS.items():
            if project.exists(name):
                path = project.app_path(name)
                yield self.finding(f"`{path}` is {what}; {advice}", path, subject=name)

    def _variables(self, project: Project) -> Iterator[Finding]:
        first: dict[str, tuple[str, int, int]] = {}
        for path in project.python_paths_containing(*NEEDLES):
            quick = project.quick(path)
            if quick is not None and quick.tree is not None and not _names_a_heroku_variable(quick):
                continue  # the needle is in a comment or inside a longer name: no libcst parse
            module = project.python(path)
            if module is None:
                continue
            for name, node in _env_names(module):
                if _counterpart(name) is not None and name not in first:
                    first[name] = (path, *module.position(node))
        for name, (path, line, column) in sorted(first.items(), key=lambda item: item[1]):
            if project.platform.has_variable(name):
                continue
            yield self.finding(
                f"`{name}` is set only on Heroku; Railway's counterpart: {_counterpart(name)}",
                path,
                line,
                column,
                subject=name,
            )

    def _app_json(self, project: Project) -> Iterator[Finding]:
        text = project.app_text("app.json")
        if text is None:
            return
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            return
        scripts = data.get("scripts") if isinstance(data, dict) else None
        if not isinstance(scripts, dict):
            return
        path = project.app_path("app.json")
        for key, advice in APP_JSON_SCRIPTS.items():
            script = scripts.get(key)
            command = script.get("command") if isinstance(script, dict) else script
            if not isinstance(command, str) or not command.strip():
                continue
            match = re.search(rf'^\s*"{re.escape(key)}"\s*:', text, re.M)
            line = text.count("\n", 0, match.start()) + 1 if match else None
            yield self.finding(
                f"`app.json` `scripts.{key}` (`{command.strip()}`) never runs on Railway: {advice}",
                path,
                line,
                subject=f"app.json scripts.{key}",
            )

    VALID = [
        Example(
            {
                "Procfile": "web: gunicorn app:app\n",
                "app.py": APP + "import os\n\nREDIS_URL = os.environ['REDIS_URL']\n"
                "IS_PROD = os.environ.get('RAILWAY_ENVIRONMENT_NAME') == 'production'\n",
            }
        ),
        Example(
            {
                "app.json": '{"name": "myapp", "env": {"SECRET_KEY": {"generator": "secret"}}, '
                '"scripts": {"test": "pytest"}}',
                "app.py": APP,
                "bin/start": "#!/bin/sh\nexec gunicorn app:app\n",
            },
            note="app.json with no postdeploy script, and a bin/ script that is not a buildpack hook",
        ),
        Example(
            {
                "app.py": APP + "import os\n\nDYNO_COUNT = int(os.environ.get('WEB_CONCURRENCY', 2))\n"
                "# Heroku used to set HEROKU_APP_NAME\nname = 'HEROKU_APP_NAME'\n",
            },
            note="names in comments and unrelated strings are not reads",
        ),
        Example(
            {"app.py": APP + "import os\n\napp.config['APP_NAME'] = os.getenv('HEROKU_APP_NAME', 'myapp')\n"},
            platform={"variables": ["HEROKU_APP_NAME", "DATABASE_URL"]},
            note="set in Railway's Variables by the user",
        ),
        Example(
            {
                "backend/app.py": APP,
                ".buildpacks": "https://github.com/heroku/heroku-buildpack-nodejs\n",
                "bin/post_compile": "#!/bin/bash\nnpm run build\n",
            },
            app_root="backend",
            note="outside the app root",
        ),
    ]
    INVALID = [
        Example(
            {
                "config.py": "import os\n\n\nclass Config:\n"
                "    REDIS_URL = os.environ.get('REDISTOGO_URL', 'redis://localhost:6379')\n",
            },
            expect="`REDISTOGO_URL` is set only on Heroku; Railway's counterpart: a Redis service's reference "
            "variable, `REDIS_URL=${{Redis.REDIS_URL}}`",
        ),
        Example(
            {
                "myapp/settings.py": "from os import environ as env\n\nON_HEROKU = 'DYNO' in env\n"
                "DB = env['CLEARDB_DATABASE_URL']\n",
            },
            expect="`DYNO` is set only on Heroku",
        ),
        Example(
            {
                "app.json": '{\n  "name": "myapp",\n  "scripts": {\n    "postdeploy": "flask db upgrade && flask seed"\n'
                "  }\n}\n",
                "app.py": APP,
            },
            expect="`app.json` `scripts.postdeploy` (`flask db upgrade && flask seed`) never runs on Railway",
        ),
        Example(
            {"bin/post_compile": "#!/usr/bin/env bash\nflask assets build\n", "app.py": APP},
            expect="`bin/post_compile` is a Heroku buildpack hook Railway's builders never run",
        ),
        Example(
            {"api/.buildpacks": "https://github.com/heroku/heroku-buildpack-python\n", "api/app.py": APP},
            app_root="api",
            expect="`api/.buildpacks`",
        ),
        Example(
            {
                "app.py": APP + "import os as _os\n\nsentry_release = _os.getenv('HEROKU_SLUG_COMMIT')\n"
                "cache = {'CACHE_MEMCACHED_SERVERS': _os.environ.get('MEMCACHIER_SERVERS', '').split(',')}\n",
            },
            expect="`HEROKU_SLUG_COMMIT` is set only on Heroku; Railway's counterpart: `RAILWAY_GIT_COMMIT_SHA`",
        ),
    ]


def _counterpart(name: str) -> str | None:
    if name in HEROKU_VARIABLES:
        return HEROKU_VARIABLES[name]
    return next((advice for prefix, advice in HEROKU_PREFIXES.items() if name.startswith(prefix)), None)


def _env_names(module: PyModule) -> Iterator[tuple[str, cst.CSTNode]]:
    """Variables the module reads: env reads, and `"NAME" in os.environ` tests."""
    stack: list[cst.CSTNode] = [module.tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.Call, cst.Subscript)) and _names_heroku_variable(node):
            read = env_read(node, module)
            if read is not None:
                yield read.name, node
        elif isinstance(node, cst.Comparison) and len(node.comparisons) == 1:
            target = node.comparisons[0]
            name = literal(node.left)
            if (
                isinstance(target.operator, (cst.In, cst.NotIn))
                and isinstance(name, str)
                and _counterpart(name) is not None
                and module.qualified_names(target.comparator) & ENV_MAPPINGS
            ):
                yield name, node
        stack.extend(reversed(node.children))


def _names_a_heroku_variable(quick: QuickParse) -> bool:
    """Whether a string literal in CPython's tree is a Heroku variable's name: every read `_env_names`
    reports names its variable with one."""
    return any(
        isinstance(node, ast.Constant) and isinstance(node.value, str) and _counterpart(node.value) is not None
        for node in quick.nodes
    )


def _names_heroku_variable(node: cst.Call | cst.Subscript) -> bool:
    """The cheap test before resolving names: the first argument or the key is a Heroku variable's name."""
    if isinstance(node, cst.Call):
        key = node.args[0].value if node.args else None
    else:
        key = node.slice[0].slice.value if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index) else None
    name = literal(key)
    return isinstance(name, str) and _counterpart(name) is not None
