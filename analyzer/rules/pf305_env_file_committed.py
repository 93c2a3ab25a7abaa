from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from analyzer.autofix import Fix
from analyzer.deployfiles import parse_env_file
from analyzer.prodpath.dotenv import FIND_DOTENV, LOAD_DOTENV
from analyzer.prodpath.values import DOTENV_VALUES
from analyzer.project import Project
from analyzer.pysource import PyModule, module_level_statements
from analyzer.pyvalues import literal
from analyzer.report import Finding, Severity
from analyzer.rules import Example, Rule

# Parts of a file name that mark a template meant to be copied, not a real env file.
TEMPLATE_PARTS = frozenset({"example", "examples", "sample", "template", "tmpl", "tpl", "dist", "default", "defaults"})
SECRET_WORDS = ("SECRET", "KEY", "TOKEN", "PASSWORD", "PASS", "PRIVATE")
PUBLIC_WORDS = ("PUBLIC", "PUBLISHABLE")
URL_WITH_PASSWORD = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:(?P<password>[^@/\s]+)@(?P<host>[^:/?\s]*)")
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "0.0.0.0", "::1"})
PLACEHOLDER = re.compile(
    r"^(change[-_]?me|xxx+|\*+|\.\.\.|todo|tbd|none|null|"
    r"<[^>]*>|\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|your[-_ ].*|.*[-_]here)$",
    re.I,
)
LOADERS = LOAD_DOTENV | DOTENV_VALUES
FINDERS = FIND_DOTENV


@dataclass
class Load:
    path: str
    line: int
    call: str
    override: bool
    file: str | None  # None: the `.env` found by searching upward from the caller's folder


class EnvFileCommitted(Rule):
    """
    ## What it does
    Flags a committed `.env`, `.env.*` or `*.env` file (not a template such as
    `.env.example`, `.env.sample`, `.env.template` or `.env.dist`) that holds a
    secret-looking key (a name with SECRET, KEY, TOKEN, PASSWORD, PASS or
    PRIVATE, or a URL with a password in it) with a real value.

    ## Why is this bad?
    Everyone who can read the repository, and every fork and clone of it, has
    the values; removing the file later does not remove them from the history.
    When the app calls `load_dotenv()` at import, the committed values are also
    the production ones for every variable Railway's Variables do not set (and
    for all of them with `override=True`).

    ## Example
    ```
    # .env (committed)
    SECRET_KEY=4f9c2b...
    DATABASE_URL=postgresql://app:hunter2@db.example.com/app
    ```

    ## Use instead
    ```
    # .env.example (committed)
    SECRET_KEY=
    DATABASE_URL=
    ```

    ## How to fix
    Remove the file from git (`git rm --cached .env`, add it to `.gitignore`), rotate every value it held, and set them in Railway's Variables.

    ## Fix safety
    The autofix adds the file to `.gitignore` and untracks it with `git rm --cached`,
    which keeps your local copy. It rewrites no history: rotating the values is yours
    to do.

    ## References
    - Railway: Variables, reference variables
    - python-dotenv: `load_dotenv(override=...)`
    - GitHub: Removing sensitive data from a repository
    """

    id = "PF305"
    slug = "env-file-committed"
    severity = Severity.HIGH
    title = "Env file with secrets committed"

    def check(self, project: Project) -> Iterator[Finding]:
        candidates = [path for path in project.files.paths if is_env_file(path)]
        if not candidates:
            return
        loads: list[Load] | None = None
        flagged: list[tuple[Finding, str, list[str], Load | None]] = []
        for path in candidates:
            text = project.read_text(path)
            if text is None:
                continue
            secrets = [
                (name, line, kind)
                for name, value, line in parse_env_file(text)
                if (kind := secret_kind(name, value)) is not None
            ]
            if not secrets:
                continue
            if loads is None:
                loads = dotenv_loads(project)
            names = ", ".join(f"`{name}`{kind}" for name, _line, kind in secrets)
            message = f"`{path}` commits {names}"
            load = next((load for load in loads if loads_file(load, path)), None)
            if load is not None:
                scope = "every variable" if load.override else "every variable Railway's Variables do not set"
                message += (
                    f"; `{load.call}` at {load.path}:{load.line} loads it at import, "
                    f"so the committed values are the production ones for {scope}"
                )
            finding = self.finding(message, path, secrets[0][1], subject=path)
            flagged.append((finding, path, [name for name, _line, _kind in secrets], load))
        # One fix untracks every flagged file: applying any finding's fix clears them all.
        fix = untrack_fix(project, flagged)
        for finding, *_ in flagged:
            finding.fix = fix
            yield finding

    VALID = [
        Example(
            {
                ".env.example": "SECRET_KEY=\nDATABASE_URL=postgresql://user:password@host/db\n",
                "app.py": "from flask import Flask\napp = Flask(__name__)\n",
            }
        ),
        Example(
            {
                ".env.sample": "SECRET_KEY=your-secret-key-here\n",
                ".env.template": "STRIPE_API_KEY=\n",
                "config/.env.dist": "MAIL_PASSWORD=\n",
                "example.env": "GITHUB_TOKEN=xxx\n",
            }
        ),
        Example(
            {".flaskenv": "FLASK_APP=app.py\nFLASK_DEBUG=0\n", ".env": "FLASK_RUN_PORT=8000\nLOG_LEVEL=info\n"},
            note="no secret-looking key in it",
        ),
        Example(
            {
                ".env": "SECRET_KEY=\nAPI_TOKEN=${API_TOKEN}\nDATABASE_URL=postgresql://localhost/app\n",
                "app.py": "from dotenv import load_dotenv\nload_dotenv()\n",
            },
            note="empty values, an interpolation, and a URL with no password",
        ),
        Example(
            {
                "docker/dev.env": "POSTGRES_PASSWORD=changeme\n"
                "DATABASE_URL=postgresql://postgres:postgres@localhost:5432/app\n",
            },
            note="a placeholder password and a URL to the local machine",
        ),
    ]
    INVALID = [
        Example(
            {".env": "FLASK_APP=app.py\nSECRET_KEY=9b1f0a7c3e5d\nMAIL_PASSWORD=s3cr3t-mail\n"},
            expect="`.env` commits `SECRET_KEY`, `MAIL_PASSWORD`",
            fixed={".gitignore": ".env\n"},
        ),
        Example(
            {
                ".env": "DATABASE_URL=postgresql://app:Zr8pQ2mLx@db.internal.example.com:5432/app\n",
                "myapp/__init__.py": (
                    "import os\n\nfrom dotenv import load_dotenv as _load\nfrom flask import Flask\n\n"
                    "_load(os.path.join(os.path.dirname(__file__), '..', '.env'))\n\n"
                    "def create_app():\n    return Flask(__name__)\n"
                ),
            },
            expect="`DATABASE_URL` (a URL with a password); `load_dotenv` at myapp/__init__.py:6 loads it at import",
        ),
        Example(
            {
                "backend/.env.production": "export STRIPE_SECRET_KEY='sk_live_51Habc'\n",
                "backend/config.py": "import dotenv\n\ndotenv.load_dotenv('.env.production', override=True)\n",
            },
            app_root="backend",
            expect="the production ones for every variable",
            fixed={".gitignore": "backend/.env.production\n"},
        ),
        Example(
            {"deploy/prod.env": "REDIS_URL=redis://default:Q2xv9@redis.example.com:6379\nJWT_PRIVATE_KEY=abc\n"},
            expect="`deploy/prod.env` commits `REDIS_URL` (a URL with a password), `JWT_PRIVATE_KEY`",
            fixed={".gitignore": "deploy/prod.env\n"},
        ),
        Example(
            {
                ".env": "SECRET_KEY=dev\n",
                "config.py": "from dotenv import load_dotenv\n\nif __name__ == '__main__':\n    load_dotenv()\n",
            },
            expect="`.env` commits `SECRET_KEY`",
            note="a load under the main guard is not at import, but the file is still committed",
        ),
        Example(
            {
                ".gitignore": "__pycache__/\r\n*.pyc\r\n.venv",
                ".env": "SECRET_KEY=9b1f0a7c3e5d\r\n",
                "config/prod.env": "MAIL_PASSWORD=s3cr3t-mail\r\n",
            },
            expect="`config/prod.env` commits `MAIL_PASSWORD`",
            fixed={".gitignore": "__pycache__/\r\n*.pyc\r\n.venv\r\n.env\r\nconfig/prod.env\r\n"},
            note="an existing .gitignore with Windows line endings and no final newline; both files in one fix",
        ),
    ]


def untrack_fix(project: Project, flagged: list[tuple[Finding, str, list[str], Load | None]]) -> Fix | None:
    """Ignore the files in the repository's `.gitignore` (created when missing, its line endings kept)
    and untrack them with `git rm --cached`, which a diff cannot say."""
    if not flagged:
        return None
    if ".gitignore" in project.files.paths:
        data = project.raw(".gitignore")
        try:
            text = data.decode("utf-8") if data is not None else ""
        except UnicodeDecodeError:
            return None
    else:
        text = None
    entries = {line.strip() for line in (text or "").splitlines()}
    paths = [path for _finding, path, _names, _load in flagged]
    # A root file's name also ignores it in any folder; a nested path is relative to the root .gitignore.
    missing = [path for path in dict.fromkeys(paths) if not entries & {path, "/" + path}]
    changes: dict[str, str] = {}
    if missing:
        base = text or ""
        newline = "\r\n" if "\r\n" in base else "\n"
        if base and not base.endswith(("\n", "\r")):
            base += newline
        changes[".gitignore"] = base + "".join(path + newline for path in missing)
    names = list(dict.fromkeys(name for _finding, _path, found, _load in flagged for name in found))
    shown = ", ".join(f"`{name}`" for name in names)
    safety = (
        f"Untracking does not remove the values from the git history: rotate {shown} and set them in Railway's "
        "Variables. `git rm --cached` keeps your local copy."
    )
    loaded = [load for *_, load in flagged if load is not None]
    if loaded:
        safety += (
            f" The app loads the file at import ({loaded[0].path}:{loaded[0].line}): without it in the image, "
            "every variable it set must come from Railway's Variables."
        )
    files = " ".join(paths)
    listed = ", ".join(f"`{path}`" for path in paths)
    title = f"Stop tracking {listed}: add to .gitignore and run `git rm --cached {files}`"
    return Fix(title, safety, changes, paths)


def is_env_file(path: str) -> bool:
    name = posixpath.basename(path)
    if not (name == ".env" or name.startswith(".env.") or (name.endswith(".env") and len(name) > len(".env"))):
        return False
    return not any(part.lower() in TEMPLATE_PARTS for part in re.split(r"[._-]", name) if part)


def secret_kind(name: str, value: str) -> str | None:
    """ "" for a secret-looking key with a real value, " (a URL with a password)" for a URL; None otherwise."""
    value = value.strip()
    if not value or PLACEHOLDER.match(value):
        return None
    url = URL_WITH_PASSWORD.match(value)
    if url is not None:
        local = url.group("host").lower() in LOCAL_HOSTS
        return None if local or PLACEHOLDER.match(url.group("password")) else " (a URL with a password)"
    upper = name.upper()
    if any(word in upper for word in PUBLIC_WORDS) or "://" in value:
        return None
    return "" if any(word in upper for word in SECRET_WORDS) else None


def dotenv_loads(project: Project) -> list[Load]:
    """python-dotenv loads at module level (what runs at import) across the app's Python."""
    loads = []
    for path in project.python_paths_containing(b"dotenv"):
        module = project.python(path)
        if module is None:
            continue
        for statement in module_level_statements(module.tree):
            if isinstance(statement, cst.SimpleStatementLine):
                for call in _calls(statement):
                    load = _as_load(call, module)
                    if load is not None:
                        loads.append(load)
    return loads


def _calls(node: cst.CSTNode) -> Iterator[cst.Call]:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Call):
            yield current
        stack.extend(child for child in current.children if not isinstance(child, cst.Lambda))


def _as_load(call: cst.Call, module: PyModule) -> Load | None:
    names = module.qualified_names(call.func) & LOADERS
    if not names:
        return None
    override = any(
        arg.keyword is not None and arg.keyword.value == "override" and literal(arg.value) is True for arg in call.args
    )
    path_arg = next((arg.value for arg in call.args if arg.keyword is None), None)
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "dotenv_path":
            path_arg = arg.value
    if isinstance(path_arg, cst.Name):
        binding = module.bindings.get(path_arg.value)
        path_arg = binding.value if binding is not None and binding.value is not None else path_arg
    file_name = None
    if isinstance(path_arg, cst.Call) and module.qualified_names(path_arg.func) & FINDERS:
        # find_dotenv() searches upward from the caller, as a bare load_dotenv() does.
        path_arg = path_arg.args[0].value if path_arg.args else None
    if path_arg is not None:
        # `os.path.join(basedir, ".env")`: the last string literal in the argument is the file name.
        strings = [literal(node) for node in _strings(path_arg)]
        file_name = next((s for s in reversed(strings) if isinstance(s, str) and s.strip("./")), None)
        if file_name is None:
            return None
    call_name = min(names).rsplit(".", 1)[-1]
    return Load(module.path, module.line(call), call_name, override, file_name)


def loads_file(load: Load, path: str) -> bool:
    if load.file is not None:
        return posixpath.basename(load.file) == posixpath.basename(path)
    folder, caller = posixpath.dirname(path), posixpath.dirname(load.path)
    searched = not folder or caller == folder or caller.startswith(folder + "/")
    return posixpath.basename(path) == ".env" and searched


def _strings(node: cst.CSTNode) -> Iterator[cst.BaseExpression]:
    """String literals inside an expression, in source order."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, (cst.SimpleString, cst.ConcatenatedString)):
            yield current
        else:
            stack.extend(reversed(current.children))
