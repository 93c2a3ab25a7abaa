"""Which config is loaded, and what value each setting takes on each app of the production path.

For every Flask app constructed on the path, the config operations that run are
collected in execution order: `app.config.from_object(...)` (a class, an
instance, a module, an import string, a dict lookup such as
`config[os.getenv("FLASK_CONFIG") or "default"]`), `from_pyfile`, `from_envvar`,
`from_file` (JSON/TOML), `from_mapping`, `from_prefixed_env`, `update`,
`setdefault`, `app.config["K"] = v`, and `app.secret_key` / `app.debug` /
`app.testing` assignments. Applying them in order gives the effective config.

A conditional operation (an undecided branch) never overrides an unconditional
setting; it only fills a key nothing else sets, flagged `conditional`. When
`from_object` gets an argument that cannot be decided (a variable the platform
sets, whose value is unknown), the candidates are known: a key every candidate
sets from the same line is applied as known, the others become `Unknown` with
the candidates' values as options.
"""

from __future__ import annotations

import json
import posixpath
import tomllib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

from analyzer.prodpath.lattice import (
    REPO_ROOT,
    ClassRef,
    Known,
    ModuleRef,
    ObjectRef,
    Unknown,
    Value,
    describe,
)
from analyzer.prodpath.values import Assignment, Evaluator, code_of
from analyzer.pyvalues import literal

if TYPE_CHECKING:
    from analyzer.prodpath.imports import Step, Walker

CONFIG_METHODS = frozenset(
    {
        "from_object",
        "from_pyfile",
        "from_envvar",
        "from_file",
        "from_mapping",
        "from_prefixed_env",
        "update",
        "setdefault",
    }
)
# Attributes of the Flask object that are views of config keys.
APP_ATTRIBUTES = {
    "secret_key": "SECRET_KEY",
    "debug": "DEBUG",
    "testing": "TESTING",
    "env": "ENV",
    "permanent_session_lifetime": "PERMANENT_SESSION_LIFETIME",
    "session_cookie_name": "SESSION_COOKIE_NAME",
}


@dataclass
class Setting:
    """One assignment of a config key: its value and where it comes from."""

    key: str
    value: Value
    path: str | None  # where the key is assigned (the class attribute, the `app.config[...]` line)
    line: int | None
    source: str  # "ProductionConfig (config.py:12)", "`app.config[...] = ...` (app.py:9)"
    seq: int  # execution order of the operation that applied it
    conditional: bool = False
    defined_in: ClassRef | None = None
    node: cst.CSTNode | None = field(default=None, repr=False)

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}" if self.path and self.line else (self.path or "")

    @property
    def evidence(self) -> list[str]:
        """How the value was decided: the source, then the value's own trace."""
        return [f"`{self.key}` comes from {self.source}", *self.value.trace]


@dataclass
class ConfigOp:
    """One config operation that runs on the production path."""

    kind: str  # a CONFIG_METHODS name, "setitem" or "setattr"
    path: str
    line: int
    seq: int
    node: cst.CSTNode = field(repr=False)
    code: str
    conditional: bool
    argument: Value | None = None
    loaded: list[str] = field(default_factory=list)  # class names, module or file paths
    settings: list[Setting] = field(default_factory=list)
    note: str = ""
    env_reads: list[tuple[str, bool]] = field(default_factory=list)  # (variable, required) read by Flask itself

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def description(self) -> str:
        return f"`{self.code}` ({self.where})"


@dataclass
class AppConfig:
    """The effective config of one Flask app on the production path."""

    app: ObjectRef
    operations: list[ConfigOp] = field(default_factory=list)
    settings: dict[str, Setting] = field(default_factory=dict)
    history: dict[str, list[Setting]] = field(default_factory=dict)  # every assignment, in order
    # Config classes certainly loaded (an unconditional, decided `from_object`), with their repo bases.
    selected: list[ClassRef] = field(default_factory=list)
    # Config classes certainly not loaded; empty whenever a `from_object` is undecided or conditional.
    unselected: list[ClassRef] = field(default_factory=list)
    loaded_files: list[str] = field(default_factory=list)  # modules and files loaded as config
    ambiguous: bool = False  # a `from_object` whose argument could not be decided
    evidence: list[str] = field(default_factory=list)
    _unselected_why: dict[str, list[str]] = field(default_factory=dict, repr=False)

    def get(self, key: str) -> Setting | None:
        return self.settings.get(key)

    def value(self, key: str) -> Value | None:
        setting = self.settings.get(key)
        return setting.value if setting is not None else None

    def setting_before(self, key: str, seq: int) -> Setting | None:
        """The setting in effect just before the step `seq` runs (e.g. `db.init_app(app)`)."""
        current = None
        for setting in self.history.get(key, []):
            if setting.seq < seq and (current is None or not setting.conditional or current.conditional):
                current = setting
        return current

    def settings_after(self, key: str, seq: int) -> list[Setting]:
        return [setting for setting in self.history.get(key, []) if setting.seq > seq]

    def is_selected(self, cls: ClassRef | str) -> bool:
        name = cls if isinstance(cls, str) else cls.name
        return any(selected.name == name and (isinstance(cls, str) or selected == cls) for selected in self.selected)

    def is_unselected(self, cls: ClassRef | str) -> bool:
        """True only when the class is known not to be loaded (False when ambiguous)."""
        name = cls if isinstance(cls, str) else cls.name
        return any(other.name == name and (isinstance(cls, str) or other == cls) for other in self.unselected)

    def why_not_selected(self, cls: ClassRef | str) -> list[str]:
        """Evidence that a config class is not loaded, e.g.
        `ProductionConfig is not selected: ... -> DevelopmentConfig (app/__init__.py:15)`."""
        name = cls if isinstance(cls, str) else cls.name
        return list(self._unselected_why.get(name, []))

    def apply(self, setting: Setting) -> None:
        self.history.setdefault(setting.key, []).append(setting)
        current = self.settings.get(setting.key)
        if setting.conditional and current is not None and not current.conditional:
            return
        self.settings[setting.key] = setting


class _Collector:
    def __init__(self, walker: Walker, evaluator: Evaluator) -> None:
        self.walker = walker
        self.evaluator = evaluator
        self.configs: dict[ObjectRef, AppConfig] = {app: AppConfig(app) for app in walker.reach.apps}
        self._candidates: dict[ObjectRef, list[ClassRef]] = {}
        self._step: Step | None = None  # the step of the operation being applied

    def app_config(self, receiver: cst.BaseExpression, step: Step) -> AppConfig | None:
        value = self.evaluator.evaluate(receiver, step.scope, before=step.node).effective
        if isinstance(value, Known) and isinstance(value.value, ObjectRef) and value.value.is_flask_app:
            app = value.value
            if app not in self.configs:
                self.configs[app] = AppConfig(app)
            return self.configs[app]
        return None

    def run(self) -> list[AppConfig]:
        steps = self.walker.reach.steps
        index = 0
        # Loading a config module or file runs it, which can append steps: iterate by index.
        while index < len(steps):
            step = steps[index]
            index += 1
            if step.quiet:
                continue  # no config operation in a quiet module
            node = step.node
            if isinstance(node, (cst.Assign, cst.AnnAssign)):
                self._assignment(node, step)
            for call in step.calls():
                func = call.func
                if (
                    isinstance(func, cst.Attribute)
                    and func.attr.value in CONFIG_METHODS
                    and isinstance(func.value, cst.Attribute)
                    and func.value.attr.value == "config"
                ):
                    config = self.app_config(func.value.value, step)
                    if config is not None:
                        self._operation(config, func.attr.value, call, step)
        for config in self.configs.values():
            self._selection(config)
        return list(self.configs.values())

    # -- operations ----------------------------------------------------------

    def _new_op(self, config: AppConfig, kind: str, node: cst.CSTNode, step: Step, **kwargs) -> ConfigOp:
        op = ConfigOp(
            kind,
            step.path,
            step.module.line(node),
            step.seq,
            node,
            code_of(step.module, node),
            step.conditional,
            **kwargs,
        )
        config.operations.append(op)
        return op

    def _set(
        self,
        config: AppConfig,
        op: ConfigOp,
        key: str,
        value: Value,
        *,
        path: str | None = None,
        line: int | None = None,
        source: str | None = None,
        defined_in: ClassRef | None = None,
        node: cst.CSTNode | None = None,
        conditional: bool = False,
    ) -> None:
        setting = Setting(
            key,
            value,
            path or op.path,
            line or op.line,
            source or op.description,
            op.seq,
            op.conditional or conditional,
            defined_in,
            node or op.node,
        )
        op.settings.append(setting)
        config.apply(setting)

    def _assignment(self, node: cst.Assign | cst.AnnAssign, step: Step) -> None:
        targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
        for target in targets:
            if (
                isinstance(target, cst.Subscript)
                and isinstance(target.value, cst.Attribute)
                and target.value.attr.value == "config"
                and len(target.slice) == 1
                and isinstance(target.slice[0].slice, cst.Index)
            ):
                config = self.app_config(target.value.value, step)
                if config is None:
                    continue
                key = self.evaluator.evaluate(target.slice[0].slice.value, step.scope, step.node).effective
                op = self._new_op(config, "setitem", node, step)
                if isinstance(key, Known) and isinstance(key.value, str):
                    self._set(config, op, key.value, self._value(node.value, step))
                else:
                    op.note = "the key is not known"
            elif isinstance(target, cst.Attribute) and target.attr.value in APP_ATTRIBUTES:
                config = self.app_config(target.value, step)
                if config is not None:
                    op = self._new_op(config, "setattr", node, step)
                    self._set(config, op, APP_ATTRIBUTES[target.attr.value], self._value(node.value, step))

    def _value(self, expr: cst.BaseExpression | None, step: Step) -> Value:
        copied = self._config_read(expr, step) if expr is not None else None
        return copied if copied is not None else self.evaluator.evaluate(expr, step.scope, before=step.node)

    def _config_read(self, expr: cst.BaseExpression, step: Step) -> Value | None:
        """`app.config["K"]` or `app.config.get("K")` of an app whose config is being collected: the
        value K has at this point (`app.secret_key = app.config["SECRET_KEY"]` copies the config's
        value, fallback literal included). None when K is not set yet or the read is not one."""
        read = config_read(expr)
        if read is None:
            return None
        app, key_node = read
        config = self.app_config(app, step)
        key = self.evaluator.evaluate(key_node, step.scope, before=step.node).effective
        if config is None or not (isinstance(key, Known) and isinstance(key.value, str)):
            return None
        setting = config.settings.get(key.value)
        return setting.value if setting is not None else None

    def _operation(self, config: AppConfig, method: str, call: cst.Call, step: Step) -> None:
        self._step = step
        op = self._new_op(config, method, call, step)
        positional = [arg.value for arg in call.args if arg.keyword is None and not arg.star]
        keywords = {arg.keyword.value: arg.value for arg in call.args if arg.keyword is not None}
        first = positional[0] if positional else None
        silent = self._flag(keywords.get("silent"), step)
        if method == "from_object" and first is not None:
            self._from_object(config, op, self._value(first, step), step, first)
        elif method == "from_pyfile" and first is not None:
            op.argument = self._value(first, step)
            self._from_file(config, op, op.argument, silent, "python")
        elif method == "from_file" and first is not None:
            op.argument = self._value(first, step)
            loader = keywords.get("load") or (positional[1] if len(positional) > 1 else None)
            names = step.module.qualified_names(loader) if loader is not None else set()
            kind = "json" if "json.load" in names else "toml" if names & {"tomllib.load", "toml.load"} else "other"
            self._from_file(config, op, op.argument, silent, kind)
        elif method == "from_envvar" and first is not None:
            self._from_envvar(config, op, first, silent, step)
        elif method == "from_mapping":
            mapping = self._value(first, step) if first is not None else Known({})
            extra = {name: self._value(value, step) for name, value in keywords.items()}
            self._mapping(config, op, mapping, extra, uppercase_only=True)
        elif method == "update":
            mapping = self._value(first, step) if first is not None else Known({})
            extra = {name: self._value(value, step) for name, value in keywords.items()}
            self._mapping(config, op, mapping, extra, uppercase_only=False)
        elif method == "setdefault" and first is not None:
            key = self._value(first, step).effective
            if isinstance(key, Known) and isinstance(key.value, str) and key.value not in config.settings:
                value = self._value(positional[1], step) if len(positional) > 1 else Known(None)
                self._set(config, op, key.value, value)
        elif method == "from_prefixed_env":
            self._prefixed(config, op, keywords, positional, step)

    def _flag(self, expr: cst.BaseExpression | None, step: Step) -> bool:
        if expr is None:
            return False
        value = self._value(expr, step).effective
        return isinstance(value, Known) and bool(value.value)

    def _from_object(self, config: AppConfig, op: ConfigOp, argument: Value, step: Step, expr) -> None:
        op.argument = argument
        target = argument.effective
        if isinstance(target, Known) and isinstance(target.value, str):
            imported = self.evaluator.import_string(target.value, step.scope)
            target = imported.effective.with_context(env=argument.env, trace=argument.trace)
            op.argument = target
            if isinstance(target, Known) and isinstance(target.value, (ClassRef, ModuleRef)):
                # import_string imports the module: it runs at this point.
                module = self.evaluator.module_name(target.value.path)
                self.walker.import_module(module, step, how="is imported by `from_object` at")
        self._remember_candidates(config, expr, step)
        if isinstance(target, Unknown) and target.options:
            self._ambiguous(config, op, target)
            return
        loaded = self._object_settings(target)
        if loaded is None:
            config.ambiguous = True
            op.note = f"loads {describe(target)}"
            return
        label, settings = loaded
        op.loaded.append(label)
        for setting in settings:
            self._set(config, op, **setting)

    def _object_settings(self, target: Value) -> tuple[str, list[dict]] | None:
        """(label, settings) of what `from_object` reads from a class, instance or module."""
        if not isinstance(target, Known):
            return None
        obj = target.value
        cls = obj if isinstance(obj, ClassRef) else obj.cls if isinstance(obj, ObjectRef) else None
        if cls is not None:
            found = []
            for key, (value, defined_in, entry) in self.evaluator.class_settings(cls).items():
                if defined_in == cls:
                    source = f"{cls.name} ({cls.path}:{cls.line})"
                else:
                    source = f"{defined_in.name} ({defined_in.path}:{defined_in.line}), inherited by {cls.name}"
                found.append(self._setting_kwargs(key, value, entry, defined_in.path, source, defined_in))
            return cls.name, found
        if isinstance(obj, ModuleRef):
            return obj.path, self._module_settings(obj.path)
        return None

    def _module_settings(self, path: str) -> list[dict]:
        self.walker.run_module(path, step=self._step, how="is loaded as config at")
        found = []
        for key, (value, entry) in self.evaluator.module_settings(path).items():
            found.append(self._setting_kwargs(key, value, entry, path, f"{path}:{entry.line}", None))
        return found

    @staticmethod
    def _setting_kwargs(key, value, entry: Assignment, path, source, defined_in) -> dict:
        return {
            "key": key,
            "value": value,
            "path": path,
            "line": entry.line,
            "source": source,
            "defined_in": defined_in,
            "node": entry.node,
        }

    def _ambiguous(self, config: AppConfig, op: ConfigOp, target: Unknown) -> None:
        config.ambiguous = True
        per_option = []
        for option in target.options:
            loaded = self._object_settings(option.effective)
            if loaded is not None:
                op.loaded.append(loaded[0])
                per_option.append({setting["key"]: setting for setting in loaded[1]})
        op.note = f"one of {', '.join(op.loaded)}: {target.reason}"
        if not per_option:
            return
        keys = dict.fromkeys(key for settings in per_option for key in settings)
        for key in keys:
            present = [settings.get(key) for settings in per_option]
            origins = {(s["path"], s["line"]) if s else None for s in present}
            if len(origins) == 1 and None not in origins:
                self._set(config, op, **present[0])
                continue
            options = tuple(s["value"] for s in present if s is not None)
            first = next(s for s in present if s is not None)
            reason = f"`{key}` depends on which of {', '.join(op.loaded)} is loaded"
            self._set(
                config,
                op,
                key,
                Unknown(reason, options, env=target.env, trace=target.trace),
                source=op.description,
                node=first["node"],
                conditional=None in origins,
            )

    def _remember_candidates(self, config: AppConfig, expr: cst.BaseExpression, step: Step) -> None:
        """Config classes a dict lookup could select (`config[name]`, `config.get(name)`)."""
        container = None
        if isinstance(expr, cst.Subscript):
            container = expr.value
        elif isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and expr.func.attr.value == "get":
            container = expr.func.value
        if container is None:
            return
        value = self._value(container, step).effective
        if isinstance(value, Known) and isinstance(value.value, dict):
            for item in value.value.values():
                plain = item.effective
                if isinstance(plain, Known) and isinstance(plain.value, ClassRef):
                    self._candidates.setdefault(config.app, []).append(plain.value)

    def _resolve_file(self, config: AppConfig, name: str) -> str | None:
        if name.startswith(REPO_ROOT + "/"):
            return posixpath.normpath(name[len(REPO_ROOT) + 1 :])
        if name.startswith("/"):
            return None
        app = config.app
        attribute = "root_path"
        for arg in app.node.args:
            if arg.keyword is not None and arg.keyword.value == "instance_relative_config" and literal(arg.value):
                attribute = "instance_path"
        base = self.evaluator.app_attribute(app, attribute, {}).value
        return posixpath.normpath(posixpath.join(base[len(REPO_ROOT) + 1 :], name))

    def _from_file(self, config: AppConfig, op: ConfigOp, argument: Value, silent: bool, kind: str) -> None:
        name = argument.effective
        if not (isinstance(name, Known) and isinstance(name.value, str)):
            op.note = "the file name is not known"
            config.ambiguous = True
            return
        path = self._resolve_file(config, name.value)
        project = self.evaluator.project
        if path is None or path not in project.files.paths:
            shown = path or name.value
            op.note = f"{shown} is not in the repository" + (" (silent=True: skipped)" if silent else "")
            return
        op.loaded.append(path)
        config.loaded_files.append(path)
        if kind == "python":
            for setting in self._module_settings(path):
                self._set(config, op, **setting)
            return
        text = project.read_text(path) or ""
        try:
            data = json.loads(text) if kind == "json" else tomllib.loads(text) if kind == "toml" else None
        except (ValueError, tomllib.TOMLDecodeError):
            data = None
        if not isinstance(data, dict):
            op.note = f"{path} is not read"
            return
        for key, value in data.items():
            if isinstance(key, str) and key.isupper():
                self._set(config, op, key, Known(value, path=path), path=path, source=path)

    def _from_envvar(self, config: AppConfig, op: ConfigOp, expr, silent: bool, step: Step) -> None:
        name = self._value(expr, step).effective
        if not (isinstance(name, Known) and isinstance(name.value, str)):
            op.note = "the variable name is not known"
            return
        variable = name.value
        op.env_reads.append((variable, not silent))
        env_value = self.evaluator.env_value(variable, None, not silent, expr, step.scope)
        op.argument = env_value
        resolved = env_value.effective
        if isinstance(resolved, Known) and isinstance(resolved.value, str):
            self._from_file(config, op, resolved, silent, "python")
        elif isinstance(resolved, Known):
            op.note = f"`{variable}` is not set" + ("" if silent else ": RuntimeError at startup")
        else:
            op.note = f"`{variable}` names a file that is not known"
            config.ambiguous = True

    def _mapping(self, config, op, mapping: Value, extra: dict[str, Value], *, uppercase_only: bool) -> None:
        op.argument = mapping
        plain = mapping.effective
        if not (isinstance(plain, Known) and isinstance(plain.value, dict)):
            op.note = "the mapping is not known"
            config.ambiguous = True
            items: dict = {}
        else:
            items = dict(plain.value)
        items.update(extra)
        for key, value in items.items():
            if isinstance(key, str) and (key.isupper() or not uppercase_only):
                self._set(config, op, key, value, line=value.line if value.path == op.path else None)

    def _prefixed(self, config: AppConfig, op: ConfigOp, keywords, positional, step: Step) -> None:
        prefix_expr = keywords.get("prefix") or (positional[0] if positional else None)
        prefix = self._value(prefix_expr, step).effective if prefix_expr is not None else Known("FLASK")
        if not (isinstance(prefix, Known) and isinstance(prefix.value, str)):
            op.note = "the prefix is not known"
            return
        start = f"{prefix.value}_"
        env = self.evaluator.env
        names = [name for name in env.names() if name.startswith(start)]
        op.note = f"reads every `{start}*` variable: {', '.join(names) if names else 'none is set'}"
        for name in names:
            source = env.source(name)
            key = name[len(start) :]
            if source.value is None:
                value: Value = Unknown(source.describe(name), env=(name,))
            else:
                try:
                    parsed = json.loads(source.value)
                except ValueError:
                    parsed = source.value
                value = Known(parsed, env=(name,), trace=(source.describe(name),))
            self._set(config, op, key, value, source=f"`{name}` via {op.description}")

    # -- selection -----------------------------------------------------------

    def _selection(self, config: AppConfig) -> None:
        evaluator = self.evaluator
        selected: list[ClassRef] = []
        candidates: list[ClassRef] = list(self._candidates.get(config.app, []))
        loaders = [op for op in config.operations if op.kind == "from_object"]
        for op in loaders:
            target = op.argument.effective if op.argument is not None else None
            obj = target.value if isinstance(target, Known) else None
            cls = obj if isinstance(obj, ClassRef) else obj.cls if isinstance(obj, ObjectRef) else None
            if cls is not None and op.conditional:
                candidates.append(cls)
            elif cls is not None:
                for base in evaluator.mro(cls):
                    if isinstance(base, ClassRef) and base not in selected:
                        selected.append(base)
            elif isinstance(target, Unknown):
                for option in target.options:
                    plain = option.effective
                    if isinstance(plain, Known) and isinstance(plain.value, ClassRef):
                        candidates.append(plain.value)
            trace = list(op.argument.trace) if op.argument is not None else []
            loaded = ", ".join(op.loaded) or "nothing known"
            config.evidence.extend([f"{op.description} loads {loaded}", *trace])
        for path in dict.fromkeys(cls.path for cls in [*selected, *candidates]):
            candidates.extend(_config_classes(evaluator, path))
        config.selected = selected
        undecided = any(
            op.conditional or not op.loaded or (op.argument is not None and isinstance(op.argument.effective, Unknown))
            for op in loaders
        )
        unselected: list[ClassRef] = []
        for cls in candidates:
            if cls not in selected and cls not in unselected and not undecided:
                unselected.append(cls)
        config.unselected = unselected
        for cls in unselected:
            why = [f"{cls.name} is not selected: nothing loads it"]
            if loaders:
                op = loaders[-1]
                names = ", ".join(op.loaded) or "nothing known"
                trace = list(op.argument.trace) if op.argument is not None else []
                why = [f"{cls.name} is not selected: {op.description} loads {names}", *trace]
            config._unselected_why[cls.name] = why


def config_read(expr: cst.BaseExpression) -> tuple[cst.BaseExpression, cst.BaseExpression] | None:
    """`X.config["K"]` or `X.config.get("K", ...)`: (X, the key's expression); None for anything else."""
    if isinstance(expr, cst.Subscript) and len(expr.slice) == 1 and isinstance(expr.slice[0].slice, cst.Index):
        receiver, key = expr.value, expr.slice[0].slice.value
    elif (
        isinstance(expr, cst.Call)
        and isinstance(expr.func, cst.Attribute)
        and expr.func.attr.value == "get"
        and expr.args
        and expr.args[0].keyword is None
    ):
        receiver, key = expr.func.value, expr.args[0].value
    else:
        return None
    if isinstance(receiver, cst.Attribute) and receiver.attr.value == "config":
        return receiver.value, key
    return None


def _config_classes(evaluator: Evaluator, path: str) -> list[ClassRef]:
    """Classes of a module that look like config classes: they define UPPERCASE attributes."""
    scope = evaluator.module_scope(path)
    if scope is None:
        return []
    found = []
    for entry in scope.entries():
        if entry.kind == "class":
            ref = ClassRef(path, entry.name, entry.node, scope.module)
            class_scope = evaluator.class_scope(ref)
            if class_scope is not None and any(name.isupper() for name in class_scope.names()):
                found.append(ref)
    return found


def collect_configs(walker: Walker, evaluator: Evaluator) -> list[AppConfig]:
    return _Collector(walker, evaluator).run()
