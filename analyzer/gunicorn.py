"""Gunicorn's command-line and config-file rules, read without running gunicorn."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from analyzer.pysource import PyModule, module_level_statements
from analyzer.pyvalues import shell_string

# argparse's test for a negative number, which it takes as a value, not an option.
_NEGATIVE_NUMBER = re.compile(r"^-\d+$|^-\d*\.\d+$")
# Options that take no value (argparse store_true/store_const in gunicorn's settings).
FLAGS = frozenset(
    {
        "--reload",
        "--spew",
        "--check-config",
        "--print-config",
        "--preload",
        "--no-sendfile",
        "--reuse-port",
        "-D",
        "--daemon",
        "--capture-output",
        "-R",
        "--enable-stdio-inheritance",
        "--log-syslog",
        "--initgroups",
        "--strip-header-spaces",
        "--suppress-ragged-eofs",
        "--do-handshake-on-connect",
        "--disable-redirect-access-to-syslog",
        "--permit-unconventional-http-method",
        "--permit-unconventional-http-version",
        "--casefold-http-method",
        "--permit-obsolete-folding",
        "--no-control-socket",
        "-h",
        "--help",
        "-v",
        "--version",
    }
)

# Short options with a value, and the long option each stands for.
SHORT = {
    "-b": "--bind",
    "-w": "--workers",
    "-c": "--config",
    "-k": "--worker-class",
    "-t": "--timeout",
    "-e": "--env",
    "-p": "--pid",
    "-n": "--name",
    "-u": "--user",
    "-g": "--group",
    "-m": "--umask",
}
REPEATABLE = frozenset({"--bind", "--env", "--pythonpath"})


@dataclass
class GunicornArgs:
    options: dict[str, list[str | None]] = field(default_factory=dict)
    positional: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def last(self, option: str) -> str | None:
        values = self.options.get(option)
        return values[-1] if values else None

    def has(self, option: str) -> bool:
        return option in self.options

    @property
    def binds(self) -> list[str | None]:
        return self.options.get("--bind", [])

    @property
    def target(self) -> str | None:
        return self.positional[0] if self.positional else None


def parse_gunicorn_args(argv: list[str]) -> GunicornArgs:
    """Parse gunicorn's arguments (argv without the program) like its argparse does."""
    args = GunicornArgs()
    i = 0
    while i < len(argv):
        word = argv[i]
        i += 1
        if word == "--":
            args.positional.extend(argv[i:])
            break
        if not word.startswith("-") or word == "-":
            args.positional.append(word)
            continue
        if word in FLAGS:
            args.options.setdefault(word, []).append(None)
            continue
        if word.startswith("--"):
            name, sep, value = word.partition("=")
            if not sep:
                value = argv[i] if i < len(argv) and _is_value(argv[i]) else None
                if value is not None:
                    i += 1
            if value is None or value == "":
                args.problems.append(f"`{name}` has no value")
            args.options.setdefault(name, []).append(value or None)
            continue
        short, glued = word[:2], word[2:]
        name = SHORT.get(short, short)
        if glued:
            value = glued[1:] if glued.startswith("=") else glued
        elif i < len(argv) and _is_value(argv[i]):
            value = argv[i]
            i += 1
        else:
            value = None
            args.problems.append(f"`{short}` has no value")
        args.options.setdefault(name, []).append(value)
    return args


def _is_value(word: str) -> bool:
    """Whether argparse takes `word` as an option's value: anything not shaped like an option, and
    so also a lone `-` (`--access-logfile -`, stdout) and a negative number."""
    return not word.startswith("-") or word == "-" or _NEGATIVE_NUMBER.match(word) is not None


@dataclass
class ConfSetting:
    name: str
    value: str | None  # rendered as a shell word when knowable, else None
    node: cst.BaseExpression
    line: int


def read_gunicorn_conf(module: PyModule) -> dict[str, ConfSetting]:
    """Module-level settings of a gunicorn config file (bind, workers, wsgi_app, ...).

    The last unconditional assignment wins, as it does when gunicorn execs the file.
    """
    settings: dict[str, ConfSetting] = {}
    for statement in module_level_statements(module.tree):
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Assign) and len(small.targets) == 1:
                target, value = small.targets[0].target, small.value
            elif isinstance(small, cst.AnnAssign) and small.value is not None:
                target, value = small.target, small.value
            else:
                continue
            if isinstance(target, cst.Name):
                rendered = _render(value, module)
                settings[target.value] = ConfSetting(target.value, rendered, value, module.line(small))
    return settings


def _render(value: cst.BaseExpression, module: PyModule) -> str | None:
    if isinstance(value, (cst.List, cst.Tuple)) and value.elements:
        # bind = ["0.0.0.0:8000"]: judge each address; keep the first for display.
        return shell_string(value.elements[0].value, module)
    return shell_string(value, module)
