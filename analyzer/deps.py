"""Dependency manifests, and what the build installs from them.

Reads requirements files (as pip does: includes, options, hashes, markers,
VCS lines), pyproject.toml (PEP 621 and Poetry), Pipfile, setup.cfg and
setup.py, then works out which of them the build actually installs: Railpack's
order for a Railpack/Nixpacks build, the Dockerfile's install commands for a
Docker build. Versions are compared with a small PEP 440 reader of our own,
because the analyzer does not depend on `packaging`.
"""

from __future__ import annotations

import configparser
import fnmatch
import json
import posixpath
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

from analyzer.deployfiles import Dockerfile, DockerInstruction, exec_form, parse_env_instruction
from analyzer.pyvalues import literal
from analyzer.shell import ShellSyntaxError, SimpleCommand, expand, parse_chain

if TYPE_CHECKING:
    from analyzer.project import Project

# The files Railpack reads for its plain-substring dependency checks (`usesDep`).
DEPENDENCY_FILE_NAMES = frozenset({"requirements.txt", "pyproject.toml", "Pipfile"})

# The package(s) that provide each server a start command can run.
SERVER_PACKAGES: dict[str, tuple[str, ...]] = {
    "gunicorn": ("gunicorn",),
    "waitress": ("waitress",),
    "uwsgi": ("uwsgi", "pyuwsgi"),
    "uvicorn": ("uvicorn",),
    "hypercorn": ("hypercorn",),
}

LOCK_FILES = ("uv.lock", "poetry.lock", "pdm.lock")


def normalize(name: str) -> str:
    """PEP 503: `Flask_SQLAlchemy` and `flask-sqlalchemy` are one package."""
    return re.sub(r"[-_.]+", "-", name).lower()


# -- versions ----------------------------------------------------------------

_VERSION = re.compile(
    r"""^\s*v?(?:(?P<epoch>\d+)!)?(?P<release>\d+(?:\.\d+)*)
    (?:[-_.]?(?P<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?P<pre_n>\d*))?
    (?:-(?P<post_n1>\d+)|[-_.]?(?P<post_l>post|rev|r)[-_.]?(?P<post_n2>\d*))?
    (?:[-_.]?(?P<dev_l>dev)[-_.]?(?P<dev_n>\d*))?
    (?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?\s*$""",
    re.I | re.X,
)
_PRE_PHASES = {"a": 0, "alpha": 0, "b": 1, "beta": 1, "c": 2, "rc": 2, "pre": 2, "preview": 2}


def version_key(text: str) -> tuple | None:
    """A sort key that orders PEP 440 versions the way pip does, or None when it is not one."""
    match = _VERSION.match(text)
    if not match:
        return None
    release = [int(part) for part in match.group("release").split(".")]
    while len(release) > 1 and release[-1] == 0:
        release.pop()
    pre = (_PRE_PHASES[match.group("pre_l").lower()], int(match.group("pre_n") or 0)) if match.group("pre_l") else None
    post_text = match.group("post_n1") or match.group("post_n2")
    has_post = match.group("post_n1") is not None or match.group("post_l") is not None
    post = int(post_text or 0) if has_post else None
    dev = int(match.group("dev_n") or 0) if match.group("dev_l") else None
    if pre is None:
        # A dev release of a final version sorts before its pre-releases.
        pre = (-1, 0) if post is None and dev is not None else (3, 0)
    return (
        int(match.group("epoch") or 0),
        tuple(release),
        pre,
        -1 if post is None else post,
        (1, 0) if dev is None else (0, dev),
    )


_CLAUSE = re.compile(r"^\s*(?P<op>~=|===|==|!=|<=|>=|<|>)\s*(?P<version>[^\s,;]+)\s*$")
_CLAUSE_VERSION = re.compile(r"^v?\d[A-Za-z0-9_.+!-]*(?:\.\*)?$")


def _upper_bound(clause: str) -> tuple[tuple, bool] | bool | None:
    """(version key, inclusive) a clause caps versions at; None when it sets no cap, False when unreadable."""
    match = _CLAUSE.match(clause)
    if not match:
        return False
    op, version = match.group("op"), match.group("version")
    if op in ("==", "===") and version.endswith(".*"):
        parts = version[:-2].lstrip("v").split(".")
        if not all(part.isdigit() for part in parts):
            return False
        bumped = [*parts[:-1], str(int(parts[-1]) + 1)]
        key = version_key(".".join(bumped))
        return (key, False) if key else False
    if op in ("==", "===", "<=", "<", "~="):
        key = version_key(version)
        if key is None:
            return False
        if op == "~=":
            release = version.lstrip("v").split("!")[-1].split("+")[0]
            parts = re.match(r"\d+(?:\.\d+)*", release).group(0).split(".")
            if len(parts) < 2:
                return False
            bumped = [*parts[:-2], str(int(parts[-2]) + 1)]
            return (version_key(".".join(bumped)), False)
        return (key, op != "<")
    return None


def specifier_pinned_below(specifier: str, version: str) -> bool | None:
    """Whether every version `specifier` allows is below `version` (None: cannot tell)."""
    limit = version_key(version)
    if limit is None:
        return None
    if "||" in specifier:
        answers = [specifier_pinned_below(part, version) for part in specifier.split("||")]
        if all(answer is True for answer in answers):
            return True
        return False if any(answer is False for answer in answers) else None
    unreadable = False
    for clause in filter(None, (part.strip() for part in specifier.split(","))):
        bound = _upper_bound(clause)
        if bound is False:
            unreadable = True
        elif bound is not None:
            key, inclusive = bound
            if key < limit or (key == limit and not inclusive):
                return True
    return None if unreadable else False


def poetry_specifier(constraint: str) -> str:
    """Poetry's constraint syntax (`^2.2`, `~2.2.1`, `2.2.5`, `*`) as a PEP 440 specifier."""
    alternatives = []
    for alternative in constraint.split("||"):
        clauses = []
        for clause in re.split(r"\s*,\s*|\s+(?=[<>=!~^])", alternative.strip()):
            clause = clause.strip()
            if clause in ("", "*"):
                continue
            if clause[0] in "^~" and not clause.startswith("~="):
                clauses.extend(_poetry_range(clause[0], clause[1:].strip()))
            elif clause[0].isdigit():
                clauses.append(f"=={clause}")
            else:
                clauses.append(clause.replace(" ", ""))
        alternatives.append(",".join(clauses))
    return "||".join(alternatives)


def _poetry_range(kind: str, version: str) -> list[str]:
    parts = version.split(".")
    if not all(part.isdigit() for part in parts):
        return [f"=={version}"]
    numbers = [int(part) for part in parts]
    if kind == "^":
        index = next((i for i, n in enumerate(numbers) if n != 0), len(numbers) - 1)
    else:
        index = 1 if len(numbers) > 1 else 0
    upper = [*numbers[:index], numbers[index] + 1]
    return [f">={version}", f"<{'.'.join(map(str, upper))}"]


# -- the data model ------------------------------------------------------------


@dataclass
class Requirement:
    """One declared package. `name` is PEP 503-normalised; `specifier` is PEP 440 (Poetry's converted)."""

    name: str
    raw: str
    path: str
    line: int | None
    extras: tuple[str, ...] = ()
    specifier: str = ""
    marker: str | None = None
    url: str | None = None
    editable: bool = False

    def pinned_below(self, version: str) -> bool | None:
        """True when every version this line allows is below `version`; None for a URL or an unreadable pin."""
        if self.url is not None:
            return None
        return specifier_pinned_below(self.specifier, version)


@dataclass
class Include:
    """A `-r`/`-c` line of a requirements file (or a file a pyproject/setup reads its dependencies from)."""

    line: int | None
    kind: str  # "requirement" or "constraint"
    target: str  # as written
    path: str | None  # repo-relative, None for a URL


@dataclass
class Group:
    """Dependencies a default install leaves out: extras, dev groups, `[dev-packages]`."""

    kind: str  # "extra" or "group"
    name: str
    section: str  # where it is written, for messages: "[tool.poetry.group.dev.dependencies]"
    requirements: list[Requirement] = field(default_factory=list)
    optional: bool = False  # a Poetry group marked optional is not installed unless asked for


@dataclass
class Manifest:
    path: str
    kind: str  # requirements, pyproject, poetry, pipfile, setup.cfg, setup.py, dockerfile
    requirements: list[Requirement] = field(default_factory=list)
    problems: list[tuple[int | None, str]] = field(default_factory=list)
    duplicates: list[tuple[Requirement, Requirement]] = field(default_factory=list)  # (first, repeated)
    python_requires: str | None = None  # requires-python / Poetry `python` / Pipfile python_version
    python_requires_line: int | None = None
    python_requires_key: str = ""  # the key it was read from: requires-python, python, python_version, ...
    includes: list[Include] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    local_projects: list[tuple[int | None, str, tuple[str, ...]]] = field(default_factory=list)  # (line, dir, extras)
    # True when the dependencies are computed (setup.py code, a build plugin): what it installs is unknown.
    opaque: bool = False
    parsed: bool = True  # False when the file as a whole does not parse (invalid TOML)

    @property
    def has_dependencies(self) -> bool:
        return bool(self.requirements or self.includes or self.local_projects or self.opaque)

    def group(self, kind: str, name: str) -> Group | None:
        wanted = normalize(name)
        return next((g for g in self.groups if g.kind == kind and normalize(g.name) == wanted), None)


@dataclass
class Manifests:
    """Every manifest under the app root, and the ones the build installs."""

    all: list[Manifest] = field(default_factory=list)
    installed: list[Manifest] = field(default_factory=list)
    constraints: list[Manifest] = field(default_factory=list)
    # path -> group sections installed beyond the main dependencies (a Docker `poetry install` takes dev groups).
    selected_groups: dict[str, list[Group]] = field(default_factory=dict)
    docker: bool = False
    # False when the build installs things this reader cannot see (computed setup.py
    # dependencies, an install script, a base image with packages): absence proves nothing.
    complete: bool = True
    dockerfile_path: str | None = None

    @property
    def build(self) -> list[Manifest]:
        """Every manifest the build reads: what it installs and its constraint files."""
        return [*self.installed, *(m for m in self.constraints if m not in self.installed)]

    @property
    def primary(self) -> Manifest | None:
        """The manifest the build starts from (the root requirements.txt, the pyproject, ...)."""
        return next((m for m in self.installed if m.kind != "dockerfile"), None) or (
            self.installed[0] if self.installed else None
        )

    def get(self, path: str) -> Manifest | None:
        return next((m for m in self.all if m.path == path), None)

    def installed_requirements(self) -> Iterator[Requirement]:
        for manifest in self.installed:
            yield from manifest.requirements
            for group in self.selected_groups.get(manifest.path, []):
                yield from group.requirements

    def declares(self, name: str) -> Requirement | None:
        """The requirement that makes the build install `name`, if any."""
        wanted = normalize(name)
        return next((req for req in self.installed_requirements() if req.name == wanted), None)

    def find(self, name: str) -> list[tuple[Manifest, Group | None, Requirement]]:
        """Everywhere `name` is written, installed or not (dev groups, requirements-dev.txt)."""
        wanted = normalize(name)
        found = []
        for manifest in self.all:
            found.extend((manifest, None, req) for req in manifest.requirements if req.name == wanted)
            for group in manifest.groups:
                found.extend((manifest, group, req) for req in group.requirements if req.name == wanted)
        return found

    def pinned_below(self, name: str, version: str) -> bool | None:
        """Whether the build installs `name` only below `version` (constraint files count).

        None when the build does not declare it or its pin cannot be read.
        """
        wanted = normalize(name)
        declared = [req for req in self.installed_requirements() if req.name == wanted]
        if not declared:
            return None
        constraints = [req for m in self.constraints for req in m.requirements if req.name == wanted]
        answers = [req.pinned_below(version) for req in [*declared, *constraints]]
        if any(answer is True for answer in answers):
            return True
        return None if any(answer is None for answer in answers) else False


# -- PEP 508 ---------------------------------------------------------------------

_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")
_MARKER_VARIABLES = frozenset(
    {
        "python_version",
        "python_full_version",
        "os_name",
        "sys_platform",
        "platform_release",
        "platform_system",
        "platform_version",
        "platform_machine",
        "platform_python_implementation",
        "implementation_name",
        "implementation_version",
        "extra",
        # Legacy names setuptools and pip still accept.
        "os.name",
        "sys.platform",
        "platform.version",
        "platform.machine",
        "platform.python_implementation",
        "python_implementation",
    }
)
_MARKER_TOKEN = re.compile(
    r"""\s*(?:(?P<str>'[^']*'|"[^"]*")|(?P<op>===|==|!=|<=|>=|~=|<|>|not\s+in\b|in\b)"""
    r"""|(?P<paren>[()])|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))"""
)


class RequirementError(ValueError):
    """A string that is not a PEP 508 requirement; the message says what is wrong."""


@dataclass
class ParsedRequirement:
    name: str
    extras: tuple[str, ...]
    specifier: str
    marker: str | None
    url: str | None


def parse_pep508(text: str) -> ParsedRequirement:
    text = text.strip()
    match = _NAME.match(text)
    if not match:
        raise RequirementError("not a package name")
    name, rest = match.group(0), text[match.end() :].lstrip()
    extras: tuple[str, ...] = ()
    if rest.startswith("["):
        end = rest.find("]")
        if end < 0:
            raise RequirementError("unclosed `[` of the extras")
        extras = tuple(part.strip() for part in rest[1:end].split(",") if part.strip())
        if not all(_NAME.fullmatch(extra) for extra in extras):
            raise RequirementError("invalid extra name")
        rest = rest[end + 1 :].lstrip()
    url = None
    marker = None
    specifier = ""
    if rest.startswith("@"):
        rest = rest[1:].strip()
        split = re.search(r"\s;", rest)
        url, marker = (rest[: split.start()].strip(), rest[split.end() :].strip()) if split else (rest, None)
        if not url or re.search(r"\s", url):
            raise RequirementError("invalid URL after `@`")
    else:
        spec, sep, after = rest.partition(";")
        marker = after.strip() if sep else None
        spec = spec.strip()
        if spec.startswith("(") and spec.endswith(")"):
            spec = spec[1:-1].strip()
        if spec:
            clauses = []
            for clause in spec.split(","):
                clause_match = _CLAUSE.match(clause)
                if not clause_match and not clause.strip():
                    raise RequirementError("an empty version clause (a stray comma)")
                if not clause_match:
                    raise RequirementError(f"invalid version specifier `{clause.strip()}`")
                version = clause_match.group("version")
                if clause_match.group("op") != "===" and not _CLAUSE_VERSION.match(version):
                    raise RequirementError(f"invalid version `{version}`")
                clauses.append(clause_match.group("op") + version)
            specifier = ",".join(clauses)
    if marker is not None and not _valid_marker(marker):
        raise RequirementError("invalid environment marker")
    return ParsedRequirement(normalize(name), extras, specifier, marker, url)


def _valid_marker(marker: str) -> bool:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = marker.rstrip()
    while position < len(text):
        match = _MARKER_TOKEN.match(text, position)
        if not match or match.end() == position:
            return False
        kind = match.lastgroup
        tokens.append((kind, " ".join(match.group(kind).split())))
        position = match.end()
    index = 0

    def value() -> bool:
        nonlocal index
        if index < len(tokens) and (
            tokens[index][0] == "str" or (tokens[index][0] == "word" and tokens[index][1] in _MARKER_VARIABLES)
        ):
            index += 1
            return True
        return False

    def atom() -> bool:
        nonlocal index
        if index < len(tokens) and tokens[index] == ("paren", "("):
            index += 1
            if not expression() or index >= len(tokens) or tokens[index] != ("paren", ")"):
                return False
            index += 1
            return True
        if not value() or index >= len(tokens) or tokens[index][0] != "op":
            return False
        index += 1
        return value()

    def expression() -> bool:
        nonlocal index
        if not atom():
            return False
        while index < len(tokens) and tokens[index] in (("word", "and"), ("word", "or")):
            index += 1
            if not atom():
                return False
        return True

    return bool(tokens) and expression() and index == len(tokens)


# -- requirements files ------------------------------------------------------------

# pip's options allowed in a requirements file, and whether each takes a value.
_FILE_OPTIONS = {
    "-r": True,
    "--requirement": True,
    "-c": True,
    "--constraint": True,
    "-e": True,
    "--editable": True,
    "-i": True,
    "--index-url": True,
    "--extra-index-url": True,
    "--no-index": False,
    "-f": True,
    "--find-links": True,
    "--no-binary": True,
    "--only-binary": True,
    "--prefer-binary": False,
    "--require-hashes": False,
    "--pre": False,
    "--trusted-host": True,
    "--use-feature": True,
}
# Options pip accepts after a requirement on the same line.
_LINE_OPTIONS = frozenset({"--hash", "--global-option", "--config-settings", "-C", "--install-option"})
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://|^file:")
_ARCHIVE = (".whl", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tar", ".zip")
_COMMENT = re.compile(r"(^|\s+)#.*$")
_DIRECT_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@")


def parse_requirements(path: str, text: str) -> Manifest:
    """Read a requirements (or constraints) file the way pip's req_file does."""
    manifest = Manifest(path, "requirements")
    for number, line in _logical_lines(text):
        line = _COMMENT.sub("", line).strip()
        if not line:
            continue
        if _NOT_A_REQUIREMENT.match(line):
            manifest.problems.append((number, _describe_bad_line(line, "")))
            continue
        if line.startswith("-"):
            _read_option_line(manifest, number, line)
            continue
        words = line.split()
        split = next((i for i, word in enumerate(words) if word.startswith("-")), len(words))
        spec, options = " ".join(words[:split]), words[split:]
        bad_option = _unknown_line_option(options)
        if bad_option:
            manifest.problems.append((number, f"pip has no per-requirement option `{bad_option}`"))
            continue
        _read_requirement(manifest, number, spec, editable=False)
    return manifest


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Lines with `\\` continuations joined, numbered by their first physical line."""
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        if raw.endswith("\\") and not raw.lstrip().startswith("#"):
            pending.append(raw[:-1])
            continue
        pending.append(raw)
        yield start, " ".join(pending)
        pending = []
    if pending:
        yield start, " ".join(pending)


def _unknown_line_option(options: list[str]) -> str | None:
    index = 0
    while index < len(options):
        name = options[index].split("=", 1)[0]
        if name not in _LINE_OPTIONS:
            return options[index]
        index += 1 if "=" in options[index] else 2
    return None


def _read_option_line(manifest: Manifest, number: int, line: str) -> None:
    word, _, rest = line.partition(" ")
    rest = rest.strip()
    name, value = word, rest
    if word.startswith("--") and "=" in word:
        name, value = word.split("=", 1)
        value = value or rest
    elif not word.startswith("--") and len(word) > 2:
        name, value = word[:2], word[2:]  # `-rbase.txt`
    if name not in _FILE_OPTIONS:
        manifest.problems.append((number, f"pip has no requirements-file option `{name}`"))
        return
    takes_value = _FILE_OPTIONS[name]
    if takes_value and not value:
        manifest.problems.append((number, f"`{name}` needs a value"))
        return
    if name in ("-r", "--requirement", "-c", "--constraint"):
        target = value.split()[0]
        kind = "requirement" if name in ("-r", "--requirement") else "constraint"
        resolved = None
        if not _URL.match(target):
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(manifest.path), target))
        manifest.includes.append(Include(number, kind, target, resolved))
    elif name in ("-e", "--editable"):
        _read_requirement(manifest, number, value.split()[0], editable=True)


def _read_requirement(manifest: Manifest, number: int, spec: str, *, editable: bool) -> None:
    if _URL.match(spec) or re.match(r"^[a-z]+\+[a-z]+:", spec):
        if re.search(r"\s", spec):
            manifest.problems.append((number, _describe_bad_line(spec, "")))
            return
        name = _name_from_url(spec)
        if name:
            manifest.requirements.append(
                Requirement(name, spec, manifest.path, number, url=spec, editable=editable, extras=_egg_extras(spec))
            )
        return
    local = _local_path(spec)
    if local is not None:
        path, extras = local
        if path.endswith(_ARCHIVE):
            name = _name_from_url(path)
            if name:
                manifest.requirements.append(Requirement(name, spec, manifest.path, number, url=path))
        else:
            manifest.local_projects.append((number, path, extras))
        return
    try:
        parsed = parse_pep508(spec)
    except RequirementError as error:
        manifest.problems.append((number, _describe_bad_line(spec, str(error))))
        return
    manifest.requirements.append(
        Requirement(
            parsed.name,
            spec,
            manifest.path,
            number,
            parsed.extras,
            parsed.specifier,
            parsed.marker,
            parsed.url,
            editable,
        )
    )


def _local_path(spec: str) -> tuple[str, tuple[str, ...]] | None:
    """A local directory or archive (`.`, `./libs/pkg[extra]`, `dist/x.whl`), as pip tells paths from names."""
    if _DIRECT_REFERENCE.match(spec):
        return None
    match = re.match(r"^(?P<path>[^\[;\s]+)(?:\[(?P<extras>[^\]]*)\])?\s*$", spec)
    if not match:
        return None
    path = match.group("path")
    if not (path.startswith(".") or "/" in path or path.endswith(_ARCHIVE)):
        return None
    extras = tuple(e.strip() for e in (match.group("extras") or "").split(",") if e.strip())
    return path, extras


def _name_from_url(url: str) -> str | None:
    egg = re.search(r"[#&]egg=([A-Za-z0-9._-]+)", url)
    if egg:
        return normalize(re.sub(r"-\d.*$", "", egg.group(1)))
    base = posixpath.basename(url.split("#", 1)[0].split("?", 1)[0])
    archive = re.match(r"^([A-Za-z0-9][A-Za-z0-9._]*?)-\d", base)
    if archive and base.endswith(_ARCHIVE):
        return normalize(archive.group(1))
    return None


def _egg_extras(url: str) -> tuple[str, ...]:
    match = re.search(r"[#&]egg=[A-Za-z0-9._-]+\[([^\]]*)\]", url)
    return tuple(e.strip() for e in match.group(1).split(",") if e.strip()) if match else ()


_MERGE_MARKER = re.compile(r"^(<{7}|={7}|>{7}|\|{7})(\s|$)")
_SHELL_COMMAND = re.compile(r"^(sudo\s+)?(pip3?|python3?\s+-m\s+pip|uv\s+pip|poetry|pipenv)\s+(install|add)\b")
_NOT_A_REQUIREMENT = re.compile(f"{_MERGE_MARKER.pattern}|{_SHELL_COMMAND.pattern}")


def _describe_bad_line(line: str, detail: str) -> str:
    shown = redact(line if len(line) <= 60 else line[:57] + "...")
    if _MERGE_MARKER.match(line):
        return f"`{shown}` is an unresolved merge conflict marker"
    if _SHELL_COMMAND.match(line):
        return f"`{shown}` is a shell command, not a requirement (list the package name alone)"
    if detail == "not a package name" or " " in line.strip():
        return f"`{shown}` is not a requirement, option or include"
    return f"`{shown}` is not a valid requirement: {detail}"


def redact(text: str) -> str:
    """Hide credentials in URLs (`https://user:token@host`) before a line reaches a message."""
    return re.sub(r"(://)[^/@\s]+@", r"\1***@", text)


def find_duplicates(requirements: list[Requirement]) -> list[tuple[Requirement, Requirement]]:
    """Pairs of lines naming one package (PEP 503); lines told apart by different markers are not duplicates."""
    seen: dict[str, list[Requirement]] = {}
    duplicates = []
    for requirement in requirements:
        earlier = seen.setdefault(requirement.name, [])
        first = next((req for req in earlier if req.marker == requirement.marker), None)
        if first is not None:
            duplicates.append((first, requirement))
        earlier.append(requirement)
    return duplicates


# -- TOML manifests ------------------------------------------------------------------


def _toml_error_line(error: tomllib.TOMLDecodeError) -> int | None:
    match = re.search(r"at line (\d+)", str(error))
    return int(match.group(1)) if match else None


def _section_lines(text: str, header: str) -> tuple[int, int] | None:
    """The 0-based line range of a `[header]` table's body."""
    lines = text.splitlines()
    pattern = re.compile(r"^\s*\[\s*" + r"\s*\.\s*".join(re.escape(p) for p in header.split(".")) + r"\s*\]\s*(#.*)?$")
    for index, line in enumerate(lines):
        if pattern.match(line):
            end = next((j for j in range(index + 1, len(lines)) if re.match(r"^\s*\[", lines[j])), len(lines))
            return index + 1, end
    return None


def _key_line(text: str, header: str, key: str) -> int | None:
    span = _section_lines(text, header)
    if span is None:
        return None
    lines = text.splitlines()
    pattern = re.compile(r"""^\s*["']?""" + re.escape(key) + r"""["']?\s*=""", re.I)
    return next((i + 1 for i in range(*span) if pattern.match(lines[i])), None)


def _string_line(text: str, header: str, value: str) -> int | None:
    span = _section_lines(text, header)
    lines = text.splitlines()
    start, end = span if span else (0, len(lines))
    quoted = (f'"{value}"', f"'{value}'")
    return next((i + 1 for i in range(start, end) if any(q in lines[i] for q in quoted)), None)


def _load_toml(manifest: Manifest, text: str) -> dict | None:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(error))
        name = posixpath.basename(manifest.path)
        manifest.problems.append((_toml_error_line(error), f"{name} is not valid TOML ({message})"))
        manifest.parsed = False
        return None


def _pep508_list(manifest: Manifest, text: str, header: str, values, sink: list[Requirement]) -> None:
    if not isinstance(values, list):
        return
    for value in values:
        if not isinstance(value, str):
            continue
        line = _string_line(text, header, value)
        try:
            parsed = parse_pep508(value)
        except RequirementError as error:
            manifest.problems.append((line, f"`{redact(value)}` in [{header}] is not a valid requirement: {error}"))
            continue
        sink.append(
            Requirement(
                parsed.name,
                value,
                manifest.path,
                line,
                parsed.extras,
                parsed.specifier,
                parsed.marker,
                parsed.url,
            )
        )


def parse_pyproject(path: str, text: str) -> Manifest:
    """PEP 621 `[project]` and Poetry's `[tool.poetry]`; extras and dev groups kept apart."""
    manifest = Manifest(path, "pyproject")
    data = _load_toml(manifest, text)
    if data is None:
        return manifest
    project = data.get("project") if isinstance(data.get("project"), dict) else {}
    tool = data.get("tool") if isinstance(data.get("tool"), dict) else {}
    poetry = tool.get("poetry") if isinstance(tool.get("poetry"), dict) else None
    if poetry is not None:
        manifest.kind = "poetry"
    _pep508_list(manifest, text, "project", project.get("dependencies"), manifest.requirements)
    manifest.duplicates = find_duplicates(manifest.requirements)
    if isinstance(project.get("requires-python"), str):
        manifest.python_requires = project["requires-python"]
        manifest.python_requires_line = _key_line(text, "project", "requires-python")
        manifest.python_requires_key = "requires-python"
    dynamic = project.get("dynamic") if isinstance(project.get("dynamic"), list) else []
    if "dependencies" in dynamic:
        _read_dynamic_dependencies(manifest, tool)
    optional = project.get("optional-dependencies")
    if isinstance(optional, dict):
        for extra, values in optional.items():
            group = Group("extra", extra, f"[project.optional-dependencies] {extra}")
            _pep508_list(manifest, text, "project.optional-dependencies", values, group.requirements)
            manifest.groups.append(group)
    dependency_groups = data.get("dependency-groups")
    if isinstance(dependency_groups, dict):
        for name, values in dependency_groups.items():
            group = Group("group", name, f"[dependency-groups] {name}")
            _pep508_list(manifest, text, "dependency-groups", values, group.requirements)
            manifest.groups.append(group)
    for tool_name in ("uv", "pdm"):
        section = tool.get(tool_name) if isinstance(tool.get(tool_name), dict) else {}
        dev = section.get("dev-dependencies")
        if isinstance(dev, list):
            group = Group("group", "dev", f"[tool.{tool_name}] dev-dependencies")
            _pep508_list(manifest, text, f"tool.{tool_name}", dev, group.requirements)
            manifest.groups.append(group)
        elif isinstance(dev, dict):
            for name, values in dev.items():
                group = Group("group", name, f"[tool.{tool_name}.dev-dependencies] {name}")
                _pep508_list(manifest, text, f"tool.{tool_name}.dev-dependencies", values, group.requirements)
                manifest.groups.append(group)
    if poetry is not None:
        _read_poetry(manifest, text, poetry)
    return manifest


def _read_dynamic_dependencies(manifest: Manifest, tool: dict) -> None:
    setuptools = tool.get("setuptools") if isinstance(tool.get("setuptools"), dict) else {}
    dynamic = setuptools.get("dynamic") if isinstance(setuptools.get("dynamic"), dict) else {}
    spec = dynamic.get("dependencies")
    files = spec.get("file") if isinstance(spec, dict) else None
    if isinstance(files, str):
        files = [files]
    if not isinstance(files, list) or not files:
        manifest.opaque = True
        return
    for name in files:
        if isinstance(name, str):
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(manifest.path), name))
            manifest.includes.append(Include(None, "requirement", name, resolved))


def _read_poetry(manifest: Manifest, text: str, poetry: dict) -> None:
    extras_of: dict[str, list[str]] = {}
    if isinstance(poetry.get("extras"), dict):
        for extra, names in poetry["extras"].items():
            if isinstance(names, list):
                for name in names:
                    if isinstance(name, str):
                        extras_of.setdefault(normalize(name), []).append(extra)
    header = "tool.poetry.dependencies"
    dependencies = poetry.get("dependencies")
    if isinstance(dependencies, dict):
        for key, value in dependencies.items():
            line = _key_line(text, header, key)
            if key.lower() == "python":
                if isinstance(value, str):
                    manifest.python_requires = value
                    manifest.python_requires_line = line
                    manifest.python_requires_key = "python"
                continue
            requirement, optional = _poetry_requirement(manifest.path, key, value, line)
            if not optional:
                manifest.requirements.append(requirement)
                continue
            for extra in extras_of.get(requirement.name, ["(unlisted)"]):
                group = manifest.group("extra", extra)
                if group is None:
                    group = Group("extra", extra, f"[tool.poetry.extras] {extra}")
                    manifest.groups.append(group)
                group.requirements.append(requirement)
    dev = poetry.get("dev-dependencies")
    if isinstance(dev, dict):
        group = Group("group", "dev", "[tool.poetry.dev-dependencies]")
        for key, value in dev.items():
            group.requirements.append(
                _poetry_requirement(manifest.path, key, value, _key_line(text, "tool.poetry.dev-dependencies", key))[0]
            )
        manifest.groups.append(group)
    groups = poetry.get("group")
    if isinstance(groups, dict):
        for name, body in groups.items():
            if not isinstance(body, dict) or not isinstance(body.get("dependencies"), dict):
                continue
            section = f"tool.poetry.group.{name}.dependencies"
            group = Group("group", name, f"[{section}]", optional=body.get("optional") is True)
            for key, value in body["dependencies"].items():
                group.requirements.append(
                    _poetry_requirement(manifest.path, key, value, _key_line(text, section, key))[0]
                )
            manifest.groups.append(group)


def _poetry_requirement(path: str, key: str, value, line: int | None) -> tuple[Requirement, bool]:
    """A Poetry dependency (`"^2.2"`, a table, or a list of tables) and whether it is optional."""
    if isinstance(value, list):
        tables = [v for v in value if isinstance(v, dict)]
        specs = [poetry_specifier(str(t.get("version", "*"))) for t in tables]
        spec = "||".join(specs) if specs and all(specs) else ""
        optional = bool(tables) and all(t.get("optional") is True for t in tables)
        return Requirement(normalize(key), f"{key} = {value!r}", path, line, specifier=spec), optional
    if isinstance(value, dict):
        url = next((str(value[k]) for k in ("git", "url", "path", "file") if k in value), None)
        extras = tuple(str(e) for e in value.get("extras", []) if isinstance(e, str))
        marker = value.get("markers") if isinstance(value.get("markers"), str) else None
        requirement = Requirement(
            normalize(key),
            f"{key} = {value!r}",
            path,
            line,
            extras,
            poetry_specifier(str(value.get("version", "*"))),
            marker,
            url,
            value.get("develop") is True,
        )
        return requirement, value.get("optional") is True
    return Requirement(normalize(key), f'{key} = "{value}"', path, line, specifier=poetry_specifier(str(value))), False


def parse_pipfile(path: str, text: str) -> Manifest:
    """`[packages]` is what gets installed; `[dev-packages]` only with `--dev`."""
    manifest = Manifest(path, "pipfile")
    data = _load_toml(manifest, text)
    if data is None:
        return manifest
    requires = data.get("requires")
    if isinstance(requires, dict):
        for key in ("python_full_version", "python_version"):
            if isinstance(requires.get(key), str):
                manifest.python_requires = requires[key]
                manifest.python_requires_line = _key_line(text, "requires", key)
                manifest.python_requires_key = key
                break
    for section, sink in (("packages", manifest.requirements), ("dev-packages", None)):
        table = data.get(section)
        if not isinstance(table, dict):
            continue
        group = None
        if sink is None:
            group = Group("group", "dev", f"[{section}]")
            manifest.groups.append(group)
            sink = group.requirements
        for key, value in table.items():
            sink.append(_pipfile_requirement(path, key, value, _key_line(text, section, key)))
    return manifest


def parse_pipfile_lock(path: str, text: str) -> Manifest:
    """The exact versions Pipfile.lock pins for `[packages]` (its "default" section): what
    `pipenv install --deploy` installs. Unreadable JSON pins nothing."""
    manifest = Manifest(path, "pipfile.lock")
    try:
        data = json.loads(text)
    except ValueError:
        manifest.parsed = False
        return manifest
    default = data.get("default") if isinstance(data, dict) else None
    for key, value in default.items() if isinstance(default, dict) else ():
        version = value.get("version") if isinstance(value, dict) else None
        if isinstance(version, str) and version.startswith("=="):
            manifest.requirements.append(
                Requirement(normalize(key), f'"{key}": "{version}"', path, None, specifier=version)
            )
    return manifest


def _pipfile_requirement(path: str, key: str, value, line: int | None) -> Requirement:
    if isinstance(value, dict):
        url = next((str(value[k]) for k in ("git", "path", "file") if k in value), None)
        version = str(value.get("version", "*"))
        extras = tuple(str(e) for e in value.get("extras", []) if isinstance(e, str))
        marker = value.get("markers") if isinstance(value.get("markers"), str) else None
        spec = "" if version.strip() == "*" else version.replace(" ", "")
        return Requirement(
            normalize(key), f"{key} = {value!r}", path, line, extras, spec, marker, url, value.get("editable") is True
        )
    version = str(value).strip()
    spec = "" if version == "*" else version.replace(" ", "")
    return Requirement(normalize(key), f'{key} = "{value}"', path, line, specifier=spec)


# -- setup.cfg / setup.py ----------------------------------------------------------------


def parse_setup_cfg(path: str, text: str) -> Manifest:
    manifest = Manifest(path, "setup.cfg")
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error as error:
        manifest.problems.append((getattr(error, "lineno", None), f"setup.cfg does not parse: {error.message}"))
        manifest.parsed = False
        return manifest
    if not parser.has_section("options"):
        return manifest
    options = parser["options"]
    if options.get("python_requires"):
        manifest.python_requires = options["python_requires"].strip()
        manifest.python_requires_line = _cfg_line(text, "python_requires")
        manifest.python_requires_key = "python_requires"
    raw = options.get("install_requires", "")
    if raw.strip().startswith("file:"):
        for name in raw.strip()[len("file:") :].split(","):
            name = name.strip()
            if name:
                resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), name))
                manifest.includes.append(Include(_cfg_line(text, "install_requires"), "requirement", name, resolved))
        return manifest
    for value in _cfg_list(raw):
        _append_pep508(manifest, value, _line_containing(text, value), manifest.requirements)
    if parser.has_section("options.extras_require"):
        for extra, raw_extra in parser["options.extras_require"].items():
            group = Group("extra", extra, f"[options.extras_require] {extra}")
            for value in _cfg_list(raw_extra):
                _append_pep508(manifest, value, _line_containing(text, value), group.requirements)
            manifest.groups.append(group)
    return manifest


def _cfg_list(raw: str) -> list[str]:
    values = []
    for line in raw.splitlines():
        line = _COMMENT.sub("", line).strip()
        if line:
            values.append(line)
    return values


def _cfg_line(text: str, key: str) -> int | None:
    match = re.search(rf"^\s*{re.escape(key)}\s*[=:]", text, re.M)
    return text.count("\n", 0, match.start()) + 1 if match else None


def _line_containing(text: str, value: str) -> int | None:
    index = text.find(value)
    return text.count("\n", 0, index) + 1 if index >= 0 else None


def _append_pep508(manifest: Manifest, value: str, line: int | None, sink: list[Requirement]) -> None:
    try:
        parsed = parse_pep508(value)
    except RequirementError as error:
        manifest.problems.append((line, f"`{redact(value)}` is not a valid requirement: {error}"))
        return
    sink.append(
        Requirement(parsed.name, value, manifest.path, line, parsed.extras, parsed.specifier, parsed.marker, parsed.url)
    )


_SETUP_NAMES = frozenset({"setuptools.setup", "distutils.core.setup", "setup"})


def parse_setup_py(project: Project, path: str) -> Manifest:
    """`install_requires` and `python_requires` when they are literals; anything computed makes it opaque."""
    manifest = Manifest(path, "setup.py")
    module = project.python(path)
    if module is None:
        manifest.opaque = True
        return manifest
    call = next(
        (
            node
            for node in _walk(module.tree)
            if isinstance(node, cst.Call) and (module.qualified_names(node.func) & _SETUP_NAMES)
        ),
        None,
    )
    if call is None:
        manifest.opaque = True
        return manifest
    for arg in call.args:
        if arg.keyword is None:
            if arg.star == "**":
                manifest.opaque = True
            continue
        value = arg.value
        if isinstance(value, cst.Name) and value.value in module.bindings:
            value = module.bindings[value.value].value or value
        if arg.keyword.value == "python_requires" and isinstance(literal(value), str):
            manifest.python_requires = literal(value)
            manifest.python_requires_line = module.line(arg)
            manifest.python_requires_key = "python_requires"
        elif arg.keyword.value == "install_requires":
            _setup_install_requires(manifest, module, value)
    return manifest


def _setup_install_requires(manifest: Manifest, module, value: cst.BaseExpression) -> None:
    if isinstance(value, (cst.List, cst.Tuple)):
        strings = [literal(element.value) for element in value.elements]
        if all(isinstance(s, str) for s in strings):
            for element, string in zip(value.elements, strings, strict=True):
                _append_pep508(manifest, string, module.line(element), manifest.requirements)
            return
    # `open("requirements.txt").read().splitlines()` and its kin: the file it names is what gets installed.
    files = [
        literal(node)
        for node in _walk(value)
        if isinstance(node, cst.SimpleString) and str(literal(node)).endswith((".txt", ".in"))
    ]
    if not files:
        manifest.opaque = True
        return
    for name in files:
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(manifest.path), name))
        manifest.includes.append(Include(module.line(value), "requirement", name, resolved))


def _walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


# -- what the build installs --------------------------------------------------------------


def is_requirements_name(path: str) -> bool:
    base = posixpath.basename(path)
    parent = posixpath.basename(posixpath.dirname(path))
    if not base.endswith((".txt", ".in")):
        return False
    return base.startswith("requirements") or base.startswith("constraints") or parent.startswith("requirements")


class _Reader:
    """Parses each manifest once, and walks what the build installs."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.loaded: dict[str, Manifest] = {}
        self.manifests = Manifests()

    def load(self, path: str, kind: str | None = None) -> Manifest | None:
        if path in self.loaded:
            return self.loaded[path]
        if path not in self.project.files.paths:
            return None
        base = posixpath.basename(path)
        kind = kind or (
            "pyproject"
            if base == "pyproject.toml"
            else "pipfile"
            if base == "Pipfile"
            else "setup.py"
            if base == "setup.py"
            else "setup.cfg"
            if base == "setup.cfg"
            else "requirements"
        )
        if kind == "setup.py":
            manifest = parse_setup_py(self.project, path)
        else:
            text = self.project.read_text(path)
            if text is None:
                manifest = Manifest(path, kind, parsed=False)
                manifest.problems.append((None, self._unreadable_reason(path)))
            elif kind == "pyproject":
                manifest = parse_pyproject(path, text)
            elif kind == "pipfile":
                manifest = parse_pipfile(path, text)
            elif kind == "setup.cfg":
                manifest = parse_setup_cfg(path, text)
            else:
                manifest = parse_requirements(path, text)
        self.loaded[path] = manifest
        self.manifests.all.append(manifest)
        return manifest

    def _unreadable_reason(self, path: str) -> str:
        reason = next((s.reason for s in self.project.files.skipped if s.path == path), "cannot be read")
        return f"{posixpath.basename(path)} cannot be read: {reason}"

    def install(self, manifest: Manifest, groups: list[Group] | None = None) -> None:
        if manifest in self.manifests.installed:
            return
        self.manifests.installed.append(manifest)
        if groups:
            self.manifests.selected_groups.setdefault(manifest.path, []).extend(groups)
        if manifest.opaque:
            self.manifests.complete = False
        self._follow(manifest, constraint=False)

    def constrain(self, manifest: Manifest) -> None:
        if manifest in self.manifests.constraints:
            return
        self.manifests.constraints.append(manifest)
        self._follow(manifest, constraint=True)

    def _follow(self, manifest: Manifest, *, constraint: bool) -> None:
        for include in manifest.includes:
            if include.path is None:
                self.manifests.complete = False
                continue
            target = self.load(include.path, "requirements")
            if target is None:
                if include.line is not None or manifest.kind != "requirements":
                    manifest.problems.append(
                        (include.line, f"the include `{include.target}` points to {include.path}, which does not exist")
                    )
                self.manifests.complete = False
                continue
            if constraint or include.kind == "constraint":
                self.constrain(target)
            else:
                self.install(target)
        if not constraint:
            for _line, directory, extras in manifest.local_projects:
                self.install_project(self.project.app_path(directory), extras=extras)

    def install_project(self, directory: str, *, extras: tuple[str, ...] = (), groups=()) -> bool:
        """`pip install .` and its kin: the pyproject/setup.cfg/setup.py of `directory`."""
        found = False
        for name in ("pyproject.toml", "setup.cfg", "setup.py"):
            manifest = self.load(posixpath.join(directory, name) if directory else name)
            if manifest is None:
                continue
            found = True
            chosen = [g for g in (manifest.group("extra", e) for e in extras) if g is not None]
            chosen += [g for g in (manifest.group(kind, n) for kind, n in groups) if g is not None]
            self.install(manifest, chosen)
        if not found:
            self.manifests.complete = False
        return found


def read_manifests(project: Project) -> Manifests:
    from analyzer.startcmd import uses_docker

    reader = _Reader(project)
    for path in project.app_files:
        base = posixpath.basename(path)
        if base in ("pyproject.toml", "Pipfile", "setup.cfg") or (
            base == "setup.py" and path == project.app_path(base)
        ):
            reader.load(path)
        elif is_requirements_name(path):
            reader.load(path, "requirements")
    if uses_docker(project):
        _docker_installs(project, reader)
    else:
        _railpack_installs(project, reader)
    # pip reads a file and its `-r` includes as one list, so a package repeated across them is repeated.
    installed_files = [m for m in reader.manifests.installed if m.kind == "requirements"]
    pairs = find_duplicates([req for m in installed_files for req in m.requirements])
    for first, repeated in pairs:
        next(m for m in installed_files if m.path == repeated.path).duplicates.append((first, repeated))
    return reader.manifests


def _railpack_installs(project: Project, reader: _Reader) -> None:
    """Railpack's order: requirements.txt; a locked pyproject; Pipfile; else the project itself (`pip install .`)."""
    requirements = reader.load(project.app_path("requirements.txt"))
    if requirements is not None:
        reader.install(requirements)
        return
    if project.exists("pyproject.toml") and any(project.exists(lock) for lock in LOCK_FILES):
        reader.install_project(project.app_root)
        return
    pipfile = reader.load(project.app_path("Pipfile"))
    if pipfile is not None:
        reader.install(pipfile)
        # `pipenv install --deploy` installs the lock's versions (and refuses a stale lock).
        lock = project.app_path("Pipfile.lock")
        text = project.read_text(lock) if lock in project.files.paths else None
        if text is not None:
            reader.constrain(parse_pipfile_lock(lock, text))
        return
    if any(project.exists(name) for name in ("pyproject.toml", "setup.py", "setup.cfg")):
        reader.install_project(project.app_root)


# -- Docker builds -------------------------------------------------------------------------

# Base images known to ship Python without any server installed.
_PLAIN_IMAGES = re.compile(
    r"^(?:[\w.-]+(?::\d+)?/)*(?:python|debian|ubuntu|alpine|buildpack-deps|uv|distroless/python3[\w-]*)(?:[:@]|$)"
)


@dataclass
class DockerStage:
    image: str  # with ARG defaults substituted
    written: str  # as written in the FROM line
    alias: str | None
    line: int
    instructions: list[DockerInstruction]
    variables: dict[str, str]  # ARG defaults and ENV values seen before the stage's FROM


def docker_stages(dockerfile: Dockerfile) -> list[DockerStage]:
    """The build stages, with each FROM's image expanded from the ARG defaults before it."""
    stages: list[DockerStage] = []
    variables: dict[str, str] = {}
    for instruction in dockerfile.instructions:
        if instruction.keyword == "FROM":
            words = [w for w in instruction.value.split() if not w.startswith("--")]
            image = expand(words[0], variables) if words else ""
            alias = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
            stages.append(DockerStage(image, words[0] if words else "", alias, instruction.line, [], dict(variables)))
            continue
        if instruction.keyword in ("ARG", "ENV"):
            for name, value in parse_env_instruction(instruction.value, instruction.keyword):
                if instruction.keyword == "ENV" or value or name not in variables:
                    variables[name] = expand(value, variables)
        if stages:
            stages[-1].instructions.append(instruction)
    return stages


def base_image(stages: list[DockerStage], index: int) -> str:
    """The external image a stage builds on, following `FROM builder` to the stage it names."""
    seen = set()
    image = stages[index].image
    while image not in seen:
        seen.add(image)
        named = next((s for s in stages[:index] if s.alias and s.alias.lower() == image.lower()), None)
        if named is None:
            return image
        image = named.image
    return image


_PIP = re.compile(r"^pip(\d+(\.\d+)?)?$")
_PYTHON = re.compile(r"^python(\d+(\.\d+)?)?$")
_PIP_VALUE_OPTIONS = frozenset(
    """
    -i --index-url --extra-index-url -f --find-links -t --target --prefix --root --trusted-host --cache-dir
    --platform --python-version --implementation --abi --src --upgrade-strategy --progress-bar --timeout
    --retries --log --proxy --no-binary --only-binary --python -p --index --default-index -C --config-settings
    --global-option --report --root-user-action -w --wheel-dir -d --dest --use-feature --exists-action
    --index-strategy --keyring-provider --resolution --prerelease --link-mode --python-platform
    """.split()  # noqa: SIM905 -- one option per line would run to fifty lines
)


class _DockerContext:
    """Where files sit inside the image: WORKDIR and COPY of one stage."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.workdir = "/"
        self.directories = {"/"}  # container paths known to be directories (every WORKDIR)
        self.copies: list[tuple[str, str]] = []  # (container path, app-relative source path; "" = the app root)

    def set_workdir(self, value: str) -> None:
        self.workdir = posixpath.normpath(posixpath.join(self.workdir, value))
        self.directories.add(self.workdir)

    def copy(self, value: str) -> None:
        argv = exec_form(value) or value.split()
        if any(word.startswith("--from") for word in argv):
            return
        words = [word for word in argv if not word.startswith("--")]
        if len(words) < 2:
            return
        *sources, written = words
        dest = posixpath.normpath(posixpath.join(self.workdir, written))
        # Docker copies into a directory when the destination ends in `/`, names an existing one, or takes several.
        into_dir = written.endswith("/") or dest in self.directories or len(sources) > 1
        for source in sources:
            source = posixpath.normpath(source.lstrip("/")).removeprefix("./")
            source = "" if source == "." else source
            matches = self._glob(source) if any(c in source for c in "*?[") else [source]
            for match in matches:
                if self._is_file(match):
                    self.copies.append((posixpath.join(dest, posixpath.basename(match)) if into_dir else dest, match))
                else:
                    self.directories.add(dest)
                    self.copies.append((dest, match))

    def _is_file(self, source: str) -> bool:
        return bool(source) and self.project.app_path(source) in self.project.files.paths

    def _glob(self, pattern: str) -> list[str]:
        prefix = self.project.app_root + "/" if self.project.app_root else ""
        relative = [p[len(prefix) :] for p in self.project.app_files if p.startswith(prefix)]
        return [p for p in relative if fnmatch.fnmatch(p, pattern)]

    def repo_path(self, container_path: str) -> str | None:
        """The app-relative repo path a container path was copied from, if it can be told."""
        container_path = posixpath.normpath(container_path)
        for dest, source in reversed(self.copies):
            if container_path == dest:
                candidate = source
            elif container_path.startswith(dest.rstrip("/") + "/"):
                candidate = posixpath.join(source, container_path[len(dest.rstrip("/")) + 1 :])
            else:
                continue
            if candidate == "" or self.project.exists(candidate) or self._is_dir(candidate):
                return candidate
        # Assume the repository was copied to the WORKDIR, as most Dockerfiles do.
        for base in (self.workdir, "/"):
            if container_path == base:
                return ""
            if container_path.startswith(base.rstrip("/") + "/"):
                candidate = container_path[len(base.rstrip("/")) + 1 :]
                if self.project.exists(candidate) or self._is_dir(candidate):
                    return candidate
        return None

    def _is_dir(self, candidate: str) -> bool:
        prefix = self.project.app_path(candidate) + "/"
        return any(path.startswith(prefix) for path in self.project.app_files)


def _docker_installs(project: Project, reader: _Reader) -> None:
    manifests = reader.manifests
    manifests.docker = True
    dockerfile = project.dockerfile
    manifests.dockerfile_path = dockerfile.path
    stages = docker_stages(dockerfile)
    for index, stage in enumerate(stages):
        if not _PLAIN_IMAGES.match(base_image(stages, index)):
            manifests.complete = False
        context = _DockerContext(project)
        variables = dict(stage.variables)
        exported: set[str] = set()
        for instruction in stage.instructions:
            if instruction.keyword == "WORKDIR":
                context.set_workdir(expand(instruction.value.strip(), variables))
            elif instruction.keyword in ("COPY", "ADD"):
                context.copy(expand(instruction.value, variables))
            elif instruction.keyword in ("ARG", "ENV"):
                for name, value in parse_env_instruction(instruction.value, instruction.keyword):
                    if instruction.keyword == "ENV" or value or name not in variables:
                        variables[name] = expand(value, variables)
            elif instruction.keyword == "RUN":
                for command in _run_commands(instruction.value, variables):
                    _docker_command(project, reader, context, command, instruction, exported)


def _run_commands(value: str, variables: dict[str, str]) -> list[SimpleCommand]:
    argv = exec_form(value)
    if argv is not None:
        return [SimpleCommand([expand(word, variables) for word in argv])]
    while value.startswith("--"):
        value = value.split(None, 1)[1] if " " in value else ""
    try:
        commands = parse_chain(value)
    except ShellSyntaxError:
        return []
    for command in commands:
        command.argv = [expand(word, variables) for word in command.argv]
    return commands


def _docker_command(
    project: Project,
    reader: _Reader,
    context: _DockerContext,
    command: SimpleCommand,
    instruction: DockerInstruction,
    exported: set[str],
) -> None:
    manifests = reader.manifests
    argv = command.argv
    cwd = posixpath.normpath(posixpath.join(context.workdir, command.cwd))
    program = command.program
    if _PYTHON.match(program) and argv[1:3] == ["-m", "pip"]:
        argv, program = argv[2:], "pip"
    if program == "uv" and len(argv) > 1 and argv[1] == "pip":
        argv, program = argv[1:], "pip"
    if _PIP.match(program) and len(argv) > 1 and argv[1] in ("install", "wheel", "download", "sync"):
        _pip_install(project, reader, context, cwd, argv[2:], instruction, exported, sync=argv[1] == "sync")
        return
    sub = argv[1] if len(argv) > 1 else ""
    flags = argv[2:]
    if program in ("poetry", "uv", "pdm", "pipenv") and sub in ("export", "requirements"):
        output = _option_value(flags, ("-o", "--output", "--output-file"))
        if output:
            exported.add(posixpath.normpath(posixpath.join(cwd, output)))
    if program == "poetry" and sub in ("install", "export", "sync"):
        _docker_project(reader, context, cwd, "pyproject.toml", _poetry_groups(reader, context, cwd, flags, sub))
    elif program == "uv" and sub in ("sync", "export"):
        _docker_project(reader, context, cwd, "pyproject.toml", _uv_groups(flags))
    elif program == "pdm" and sub in ("install", "sync", "export"):
        groups = [] if {"--prod", "--production"} & set(flags) else [("group", "dev")]
        _docker_project(reader, context, cwd, "pyproject.toml", groups)
    elif program == "pipenv" and sub in ("install", "sync", "requirements") and not _pipenv_packages(flags):
        groups = [("group", "dev")] if {"--dev", "-d"} & set(flags) else []
        _docker_project(reader, context, cwd, "Pipfile", groups)
    elif program == "make" or (argv and argv[0].endswith(".sh")) or (program in ("sh", "bash") and len(argv) > 1):
        manifests.complete = False


def _option_value(words: list[str], names: tuple[str, ...]) -> str | None:
    for index, word in enumerate(words):
        if word in names and index + 1 < len(words):
            return words[index + 1]
        for name in names:
            if name.startswith("--") and word.startswith(name + "="):
                return word.split("=", 1)[1]
    return None


def _pipenv_packages(flags: list[str]) -> list[str]:
    return [word for word in flags if not word.startswith("-")]


def _poetry_groups(reader: _Reader, context: _DockerContext, cwd: str, flags: list[str], sub: str):
    """Groups `poetry install` takes: every non-optional group unless `--only`/`--without`/`--no-dev`."""
    if sub == "export":
        return []
    joined = " ".join(flags)
    if "--only" in joined or "--no-dev" in flags:
        return []
    without = set(re.findall(r"--without[= ]([\w,-]+)", joined))
    excluded = {normalize(n) for value in without for n in value.split(",")}
    included = {normalize(n) for value in re.findall(r"--with[= ]([\w,-]+)", joined) for n in value.split(",")}
    path = context.repo_path(cwd)
    manifest = reader.load(project_path(reader.project, path, "pyproject.toml")) if path is not None else None
    if manifest is None:
        return []
    chosen = [
        ("group", g.name)
        for g in manifest.groups
        if g.kind == "group"
        and g.section.startswith("[tool.poetry")
        and normalize(g.name) not in excluded
        and (not g.optional or normalize(g.name) in included)
    ]
    extras = re.findall(r"(?:-E|--extras)[= ]([\w,-]+)", joined)
    if "--all-extras" in flags:
        chosen += [("extra", g.name) for g in manifest.groups if g.kind == "extra"]
    chosen += [("extra", n) for value in extras for n in value.split(",")]
    return chosen


def _uv_groups(flags: list[str]) -> list[tuple[str, str]]:
    joined = " ".join(flags)
    groups = [] if {"--no-dev", "--no-default-groups"} & set(flags) or "--only-group" in joined else [("group", "dev")]
    groups += [("group", name) for name in re.findall(r"--group[= ]([\w-]+)", joined)]
    groups += [("extra", name) for name in re.findall(r"--extra[= ]([\w-]+)", joined)]
    return groups


def project_path(project: Project, directory: str, name: str) -> str:
    return project.app_path(posixpath.join(directory, name) if directory else name)


def _docker_project(reader: _Reader, context: _DockerContext, cwd: str, name: str, groups) -> None:
    directory = context.repo_path(cwd)
    if directory is None:
        reader.manifests.complete = False
        return
    if name == "Pipfile":
        manifest = reader.load(project_path(reader.project, directory, name))
        if manifest is None:
            reader.manifests.complete = False
            return
        chosen = [g for g in (manifest.group(kind, n) for kind, n in groups) if g is not None]
        reader.install(manifest, chosen)
        return
    reader.install_project(reader.project.app_path(directory), groups=groups)


def _pip_install(
    project: Project,
    reader: _Reader,
    context: _DockerContext,
    cwd: str,
    args: list[str],
    instruction: DockerInstruction,
    exported: set[str],
    *,
    sync: bool,
) -> None:
    manifests = reader.manifests
    packages: list[str] = []
    index = 0
    while index < len(args):
        word = args[index]
        value = None
        name = word
        if word.startswith("--") and "=" in word:
            name, value = word.split("=", 1)
        elif word[:2] in ("-r", "-c", "-e") and len(word) > 2 and not word.startswith("--"):
            name, value = word[:2], word[2:]
        if name in ("-r", "--requirement", "-c", "--constraint", "-e", "--editable"):
            if value is None:
                index += 1
                value = args[index] if index < len(args) else None
            if value is not None:
                if name in ("-e", "--editable"):
                    packages.append(value)
                else:
                    _docker_requirements_file(reader, context, cwd, value, name in ("-c", "--constraint"), exported)
        elif name in _PIP_VALUE_OPTIONS:
            if value is None:
                index += 1
        elif not word.startswith("-"):
            if sync:
                _docker_requirements_file(reader, context, cwd, word, False, exported)
            else:
                packages.append(word)
        index += 1
    if not packages:
        return
    synthetic = Manifest(project.dockerfile.path, "dockerfile")
    for package in packages:
        local = _local_path(package)
        if local is not None and not local[0].endswith(_ARCHIVE):
            directory = context.repo_path(posixpath.normpath(posixpath.join(cwd, local[0])))
            if directory is not None:
                reader.install_project(project.app_path(directory), extras=local[1])
            continue
        try:
            parsed = parse_pep508(package)
        except RequirementError:
            continue
        if parsed.url is None and _URL.match(package):
            continue
        synthetic.requirements.append(
            Requirement(
                parsed.name,
                package,
                synthetic.path,
                instruction.line,
                parsed.extras,
                parsed.specifier,
                parsed.marker,
                parsed.url,
            )
        )
    if synthetic.requirements:
        manifests.installed.append(synthetic)


def _docker_requirements_file(
    reader: _Reader, context: _DockerContext, cwd: str, target: str, constraint: bool, exported: set[str]
) -> None:
    if _URL.match(target):
        reader.manifests.complete = False
        return
    container_path = posixpath.normpath(posixpath.join(cwd, target))
    if container_path in exported:
        return
    source = context.repo_path(container_path)
    manifest = reader.load(reader.project.app_path(source), "requirements") if source else None
    if manifest is None:
        reader.manifests.complete = False
        return
    if constraint:
        reader.constrain(manifest)
    else:
        reader.install(manifest)
