"""Python version pins: the files Railpack reads for the interpreter version, and a Dockerfile's FROM tag."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from analyzer.deps import base_image, docker_stages

if TYPE_CHECKING:
    from analyzer.project import Project

# Railpack builds the non-EOL CPython releases from 3.10 on; 3.14 is the newest at the time of writing.
RAILPACK_OFFERED = ((3, 10), (3, 14))
RAILPACK_DEFAULT = "3.13"
# Platform variables that pin the version for Railpack and Nixpacks.
VERSION_VARIABLES = ("RAILPACK_PYTHON_VERSION", "PYTHON_VERSION", "NIXPACKS_PYTHON_VERSION")

PIN_FILES = (".python-version", ".tool-versions", "mise.toml", ".mise.toml", "runtime.txt", "Pipfile")

_VERSION = re.compile(r"^(?P<major>\d+)\.(?P<minor>\d+)(?:\.(?P<patch>\d+))?(?:(?:a|b|rc)\d+|t)?$")
_PYTHON_IMAGE = re.compile(r"^(?:(?:docker\.io/)?library/|[\w.-]+(?::\d+)?/(?:[\w.-]+/)*)?python(?::|@|$)")


@dataclass
class PythonPin:
    path: str
    line: int | None
    source: str  # .python-version, .tool-versions, mise.toml, runtime.txt, Pipfile, Dockerfile
    raw: str  # what is written, for messages
    version: str | None  # "3.12" or "3.12.3"; None when the file does not say a version
    problem: str | None = None  # why the pin does not parse

    @property
    def parses(self) -> bool:
        return self.version is not None

    @property
    def minor(self) -> tuple[int, int] | None:
        match = _VERSION.match(self.version or "")
        return (int(match.group("major")), int(match.group("minor"))) if match else None

    def offered_by_railpack(self) -> bool | None:
        minor = self.minor
        if minor is None:
            return None
        low, high = RAILPACK_OFFERED
        return low <= minor <= high


@dataclass
class PythonPins:
    pins: list[PythonPin] = field(default_factory=list)  # version files, in Railpack's order of precedence
    docker: PythonPin | None = None  # the final stage's `FROM python:X`, for a Docker build
    docker_build: bool = False
    docker_python_image: bool = False  # False when the final image is not the official python one
    variable: str | None = None  # a platform variable that pins the version
    # (path, line, spec, what it is) of pyproject.toml's requires-python or Poetry's `python`
    requires_python: tuple[str, int | None, str, str] | None = None

    @property
    def effective(self) -> PythonPin | None:
        """The pin the build uses."""
        if self.docker_build:
            return self.docker
        return next((pin for pin in self.pins if pin.parses), None)


def read_python_pins(project: Project) -> PythonPins:
    from analyzer.startcmd import uses_docker

    pins = PythonPins()
    for name in PIN_FILES:
        text = project.app_text(name)
        if text is None:
            continue
        pin = _read_pin(project.app_path(name), name, text)
        if pin is not None:
            pins.pins.append(pin)
    pins.variable = next((v for v in VERSION_VARIABLES if project.platform.has_variable(v)), None)
    pyproject = project.manifests.get(project.app_path("pyproject.toml"))
    if pyproject is not None and pyproject.python_requires:
        spec = pyproject.python_requires
        key = pyproject.python_requires_key
        label = f'`python = "{spec}"` (Poetry)' if key == "python" else f'`{key} = "{spec}"`'
        pins.requires_python = (pyproject.path, pyproject.python_requires_line, spec, label)
    if uses_docker(project):
        pins.docker_build = True
        _read_dockerfile_pin(project, pins)
    return pins


def _read_pin(path: str, name: str, text: str) -> PythonPin | None:
    if name == ".python-version":
        return _python_version_file(path, text)
    if name == ".tool-versions":
        return _tool_versions(path, text)
    if name in ("mise.toml", ".mise.toml"):
        return _mise(path, text)
    if name == "runtime.txt":
        return _runtime_txt(path, text)
    return _pipfile(path, text)


def _checked(path: str, line: int | None, source: str, raw: str, candidate: str) -> PythonPin:
    candidate = candidate.strip()
    if _VERSION.match(candidate):
        return PythonPin(path, line, source, raw, candidate)
    return PythonPin(path, line, source, raw, None, f"`{raw}` is not a Python version")


def _first_line(text: str) -> tuple[int, str] | None:
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.split("#", 1)[0].strip()
        if stripped:
            return number, stripped
    return None


def _python_version_file(path: str, text: str) -> PythonPin:
    first = _first_line(text)
    if first is None:
        return PythonPin(path, 1, ".python-version", "", None, "the file is empty")
    number, value = first
    return _checked(path, number, ".python-version", value, value.removeprefix("python-").removeprefix("cpython-"))


def _tool_versions(path: str, text: str) -> PythonPin | None:
    for number, line in enumerate(text.splitlines(), start=1):
        words = line.split("#", 1)[0].split()
        if words and words[0] == "python":
            if len(words) < 2:
                return PythonPin(path, number, ".tool-versions", line.strip(), None, "`python` has no version")
            return _checked(path, number, ".tool-versions", " ".join(words), words[1])
    return None


def _mise(path: str, text: str) -> PythonPin | None:
    source = path.rsplit("/", 1)[-1]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = re.search(r"at line (\d+)", str(error))
        return PythonPin(path, int(match.group(1)) if match else None, source, "", None, "invalid TOML")
    tools = data.get("tools")
    if not isinstance(tools, dict) or "python" not in tools:
        return None
    value = tools["python"]
    line = next(
        (n for n, raw in enumerate(text.splitlines(), start=1) if re.match(r"""^\s*["']?python["']?\s*=""", raw)),
        None,
    )
    if isinstance(value, list) and value:
        value = value[0]
    if isinstance(value, dict):
        value = value.get("version")
    if not isinstance(value, str):
        return PythonPin(path, line, source, f"python = {value!r}", None, "`python` has no version string")
    return _checked(path, line, source, f'python = "{value}"', value)


def _runtime_txt(path: str, text: str) -> PythonPin:
    first = _first_line(text)
    if first is None:
        return PythonPin(path, 1, "runtime.txt", "", None, "the file is empty")
    number, value = first
    return _checked(path, number, "runtime.txt", value, value.removeprefix("python-"))


def _pipfile(path: str, text: str) -> PythonPin | None:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        # PF204 reports the broken Pipfile; Railpack's regex may still find a version, we do not guess.
        return None
    requires = data.get("requires")
    if not isinstance(requires, dict):
        return None
    for key in ("python_full_version", "python_version"):
        value = requires.get(key)
        if value is None:
            continue
        line = next(
            (n for n, raw in enumerate(text.splitlines(), start=1) if re.match(rf"^\s*{key}\s*=", raw)),
            None,
        )
        return _checked(path, line, "Pipfile", f'{key} = "{value}"', str(value))
    return None


def _read_dockerfile_pin(project: Project, pins: PythonPins) -> None:
    dockerfile = project.dockerfile
    stages = docker_stages(dockerfile)
    if not stages:
        return
    image = base_image(stages, len(stages) - 1)
    # The FROM that names the image, when the final stage builds on an earlier one.
    named = next((s for s in stages if s.image == image), stages[-1])
    line = named.line
    if not _PYTHON_IMAGE.match(image):
        return
    pins.docker_python_image = True
    raw = f"FROM {named.written}"
    tag = image.split("@", 1)[0].rsplit("/", 1)[-1].partition(":")[2]
    if "$" in named.written and not re.match(r"^\d", tag):
        pins.docker = PythonPin(
            dockerfile.path, line, "Dockerfile", raw, None, "the tag comes from an ARG with no default"
        )
        return
    match = re.match(r"^(\d+)(?:\.(\d+))?(?:\.(\d+))?", tag)
    if not match or match.group(2) is None:
        floating = tag or "latest"
        pins.docker = PythonPin(
            dockerfile.path, line, "Dockerfile", raw, None, f"`python:{floating}` moves to each new Python release"
        )
        return
    version = ".".join(part for part in match.groups() if part is not None)
    pins.docker = PythonPin(dockerfile.path, line, "Dockerfile", raw, version)
