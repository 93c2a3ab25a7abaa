"""The facts of one repository, read once and shared by every rule.

Everything is computed lazily: a rule that needs the Procfile does not pay
for parsing Python, and a Python file is parsed the first time any rule asks
for it, then kept.
"""

from __future__ import annotations

import posixpath
from functools import cached_property
from pathlib import Path

import libcst as cst

from analyzer import deployfiles
from analyzer.files import QuickParse, RepoFiles, Unreadable, decode_python, decode_text, quick_parse, read_bytes
from analyzer.platform import Platform
from analyzer.pysource import PyModule

ENV_FILE_NAMES = (".env", ".flaskenv")


class Project:
    def __init__(self, root: Path | str, app_root: str = ".", platform: Platform | None = None) -> None:
        self.root = Path(root).resolve()
        normalized = posixpath.normpath(app_root.replace("\\", "/").strip("/") or ".")
        if normalized.startswith(".."):
            raise ValueError(f"app root {app_root!r} leaves the repository")
        self.app_root = "" if normalized == "." else normalized
        self.platform = platform or Platform()
        self.files = RepoFiles.scan(self.root)
        self._text: dict[str, str | None] = {}
        self._raw: dict[str, bytes | None] = {}
        self._python: dict[str, PyModule | None] = {}
        self._source: dict[str, str | None] = {}
        self._quick: dict[str, QuickParse | None] = {}
        self._overlay: dict[str, bytes | None] = {}
        # Whether rules build the code edits of their fixes. A re-analysis that verifies a fix only
        # compares findings, and rewriting modules with libcst costs a third of such a run.
        self.builds_fixes = True

    def derive(self, overlay: dict[str, bytes | None]) -> Project:
        """The same repository with some files replaced, added (bytes) or removed (None).

        Used to re-analyze a patched tree without copying it: unchanged files
        keep their reads and parses, which are never mutated.
        """
        derived = object.__new__(Project)
        derived.root, derived.app_root, derived.platform = self.root, self.app_root, self.platform
        derived.files = RepoFiles(self.root, dict(self.files.paths), list(self.files.skipped))
        derived._overlay = {**self._overlay, **overlay}
        derived.builds_fixes = False
        caches = ("_text", "_raw", "_python", "_source", "_quick")
        for name in caches:
            cache = dict(getattr(self, name))
            for path in overlay:
                cache.pop(path, None)
            setattr(derived, name, cache)
        for path, content in overlay.items():
            if content is None:
                derived.files.paths.pop(path, None)
            else:
                derived.files.paths[path] = self.root / path
        return derived

    # -- paths -------------------------------------------------------------

    def app_path(self, name: str) -> str:
        """A path relative to the app root, as a repo-relative POSIX path."""
        joined = posixpath.normpath(posixpath.join(self.app_root, name)) if self.app_root else posixpath.normpath(name)
        return "" if joined == "." else joined

    def exists(self, name: str) -> bool:
        return self.app_path(name) in self.files.paths

    def under_app_root(self, path: str) -> bool:
        return not self.app_root or path == self.app_root or path.startswith(self.app_root + "/")

    @cached_property
    def app_files(self) -> list[str]:
        return [path for path in self.files.paths if self.under_app_root(path)]

    @cached_property
    def python_paths(self) -> list[str]:
        return [path for path in self.app_files if path.endswith(".py")]

    # -- reading -----------------------------------------------------------

    def raw(self, path: str) -> bytes | None:
        if path not in self._raw:
            full = self.files.paths.get(path)
            data = None
            if path in self._overlay:
                data = self._overlay[path]
            elif full is not None:
                try:
                    data = read_bytes(full)
                except Unreadable as error:
                    self.files.skip(full, str(error))
            self._raw[path] = data
        return self._raw[path]

    def read_text(self, path: str) -> str | None:
        """A deploy or config file's text (BOM-sniffed), or None when missing or unreadable."""
        if path not in self._text:
            data = self.raw(path)
            text = None
            if data is not None:
                try:
                    text = decode_text(data)
                except Unreadable as error:
                    self.files.skip(self.files.paths[path], str(error))
            self._text[path] = text
        return self._text[path]

    def app_text(self, name: str) -> str | None:
        return self.read_text(self.app_path(name))

    def python_source(self, path: str) -> str | None:
        """Python source decoded as the interpreter decodes it, once; None when it cannot be."""
        if path not in self._source:
            data = self.raw(path)
            text = None
            if data is not None:
                try:
                    text = decode_python(data)
                except Unreadable as error:
                    self.files.skip(self.files.paths[path], str(error))
            self._source[path] = text
        return self._source[path]

    def quick(self, path: str) -> QuickParse | None:
        """CPython's parse of a Python file, shared by prefilters and the libcst guard."""
        if path not in self._quick:
            text = self.python_source(path)
            self._quick[path] = quick_parse(text) if text is not None else None
        return self._quick[path]

    def python(self, path: str) -> PyModule | None:
        """The parsed module at a repo path, parsed once; None when it cannot be."""
        if path not in self._python:
            module = None
            quick = self.quick(path)
            if quick is not None and quick.problem is not None:
                self.files.skip(self.files.paths[path], f"not parsed: {quick.problem}")
            elif quick is not None:
                text = self._source[path]
                try:
                    module = PyModule(path, text, cst.parse_module(text))
                except (cst.ParserSyntaxError, RecursionError) as error:
                    reason = getattr(error, "message", None) or error.__class__.__name__
                    line = getattr(error, "raw_line", None)
                    where = f" at line {line}" if line else ""
                    self.files.skip(self.files.paths[path], f"Python syntax error{where}: {reason}")
            self._python[path] = module
        return self._python[path]

    def parsed(self, path: str) -> PyModule | None:
        """The module at a repo path if it has been parsed already; never parses."""
        return self._python.get(path)

    def python_paths_containing(self, *needles: bytes) -> list[str]:
        """Python files whose raw bytes contain any needle: the cheap prefilter before parsing."""
        matches = []
        for path in self.python_paths:
            data = self.raw(path)
            if data is not None and any(needle in data for needle in needles):
                matches.append(path)
        return matches

    # -- deploy files --------------------------------------------------------

    @cached_property
    def procfile(self) -> deployfiles.Procfile | None:
        text = self.app_text("Procfile")
        return deployfiles.parse_procfile(self.app_path("Procfile"), text) if text is not None else None

    @cached_property
    def railway_configs(self) -> list[deployfiles.RailwayConfig]:
        """railway.json and railway.toml of the app root, each parsed once."""
        configs = []
        for name in ("railway.json", "railway.toml"):
            text = self.app_text(name)
            if text is not None:
                configs.append(deployfiles.parse_railway_config(self.app_path(name), text))
        return configs

    @property
    def railway_config(self) -> deployfiles.RailwayConfig | None:
        """The one Railway reads: railway.json, else railway.toml."""
        return self.railway_configs[0] if self.railway_configs else None

    @cached_property
    def railpack(self) -> deployfiles.RailwayConfig | None:
        text = self.app_text("railpack.json")
        return deployfiles.parse_railway_config(self.app_path("railpack.json"), text) if text is not None else None

    @cached_property
    def nixpacks(self) -> deployfiles.RailwayConfig | None:
        text = self.app_text("nixpacks.toml")
        return deployfiles.parse_railway_config(self.app_path("nixpacks.toml"), text) if text is not None else None

    @cached_property
    def dockerfile(self) -> deployfiles.Dockerfile | None:
        name = "Dockerfile"
        railway = self.railway_config
        if railway is not None and isinstance(railway.get("build", "dockerfilePath"), str):
            name = railway.get("build", "dockerfilePath")
        text = self.app_text(name)
        return deployfiles.parse_dockerfile(self.app_path(name), text) if text is not None else None

    @cached_property
    def env_files(self) -> dict[str, list[tuple[str, str, int]]]:
        """Committed .env and .flaskenv of the app root: path -> (name, value, line)."""
        found = {}
        for name in ENV_FILE_NAMES:
            text = self.app_text(name)
            if text is not None:
                found[self.app_path(name)] = deployfiles.parse_env_file(text)
        return found

    @cached_property
    def gunicorn_conf_path(self) -> str:
        """The config file gunicorn loads: `-c FILE` (or `-c python:module`), else ./gunicorn.conf.py,
        both from the directory gunicorn starts in. gunicorn reads only one of them."""
        run = self.server_run
        option = run.gunicorn.last("--config") if run is not None and run.gunicorn is not None else None
        if option and option.startswith("python:"):
            option = option.removeprefix("python:").replace(".", "/") + ".py"
        # Railway's images put the repository at /app.
        name = option.removeprefix("/app/") if option else "gunicorn.conf.py"
        return self.app_path(posixpath.join(run.cwd if run is not None else "", name))

    @cached_property
    def gunicorn_conf(self):
        """The settings of the gunicorn config file, by name (`bind`, `workers`, ...)."""
        from analyzer.gunicorn import read_gunicorn_conf

        path = self.gunicorn_conf_path
        module = self.python(path) if path in self.files.paths else None
        return read_gunicorn_conf(module) if module is not None else {}

    # -- dependencies --------------------------------------------------------

    @cached_property
    def manifests(self):
        from analyzer.deps import read_manifests

        return read_manifests(self)

    def dependency_text(self) -> str:
        """The raw text of every dependency file under the app root (Railpack's substring match)."""
        from analyzer.deps import DEPENDENCY_FILE_NAMES

        texts = []
        for path in self.app_files:
            if posixpath.basename(path) in DEPENDENCY_FILE_NAMES:
                text = self.read_text(path)
                if text:
                    texts.append(text)
        return "\n".join(texts)

    def has_manifest_install(self) -> bool:
        return self.exists("pyproject.toml") or self.exists("setup.py") or self.exists("setup.cfg")

    @cached_property
    def python_pins(self):
        from analyzer.pyversion import read_python_pins

        return read_python_pins(self)

    # -- the app -------------------------------------------------------------

    @cached_property
    def start_command(self):
        from analyzer.startcmd import resolve_start_command

        return resolve_start_command(self)

    @cached_property
    def server_run(self):
        from analyzer.startcmd import find_server_run

        start = self.start_command
        return find_server_run(self, start) if start is not None else None

    @cached_property
    def wsgi_target(self):
        """The resolved target of the web server, or None when there is no WSGI server."""
        from analyzer.serving import served_target

        return served_target(self)

    @cached_property
    def discovery(self):
        from analyzer.flaskapps import discover

        return discover(self)

    @property
    def flask_apps(self):
        return [site.app for site in self.discovery.apps]

    @cached_property
    def production(self):
        """What runs in production, which config it loads and what it reads (analyzer.prodpath)."""
        from analyzer.prodpath import production_path

        return production_path(self)
