"""The production path (RULES.md "The production path"): what runs when the app starts on Railway.

`production_path(project)` (cached as `project.production`) answers, without
running any code:

- which code runs: `reach.modules`, `reach.functions_run`, `reach.steps`,
  `runs(path, line)`, `imported(path)`, with `why(path)` evidence (`imports`);
- which config is loaded and what value each setting takes: `config` (the
  served app's `AppConfig`), `configs` (every app on the path) (`configs`);
- what value an expression takes: `evaluate(expr, path)` returning a lattice
  value, `Known` / `EnvValue` / `Generated` / `Unknown` (`values`, `lattice`);
- which extensions are on the app: `extensions`, `extension(kind)` (`extensions`);
- the environment contract: `env_reads`, `env_contract()` (`envcontract`).

Rules never fire on `Unknown` unless RULES.md says so. Every decision carries
evidence strings (`Value.trace`, `Setting.evidence`, `AppConfig.why_not_selected`,
`ProductionPath.why`) to put in `Finding.evidence`.

Cost: modules whose import runs nothing but imports and definitions (most views,
models and forms) are walked from CPython's tree and parsed with libcst only when
something asks for a node of theirs (`quiet`). `step.path`, `step.seq`,
`step.conditional` and `step.quiet` are free; `step.node`, `step.scope`,
`step.line` and `step.calls()` parse a quiet step's module. To look for a name,
prefilter by path (`project.python_paths_containing`) or use
`reach.calls(b"name")`, which leaves the quiet modules that cannot hold it unparsed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

from analyzer.deployfiles import parse_env_file
from analyzer.gcpause import collector_paused
from analyzer.prodpath.configs import AppConfig, ConfigOp, Setting, collect_configs, config_read
from analyzer.prodpath.dotenv import DotenvLoad, loaded_dotenv_files
from analyzer.prodpath.envcontract import EnvUse, environment_contract
from analyzer.prodpath.environment import Environment, EnvSource, is_secret_name, production_environment
from analyzer.prodpath.extensions import ExtensionInit, ExtensionUse, find_extensions
from analyzer.prodpath.imports import Entry, FunctionRun, Reach, Step, Walker, find_entry, served_app, walk
from analyzer.prodpath.lattice import (
    REPO_ROOT,
    ClassRef,
    EnvValue,
    External,
    FunctionRef,
    Generated,
    Known,
    ModuleRef,
    ObjectRef,
    Unknown,
    Value,
    describe,
)
from analyzer.prodpath.values import Evaluator, Scope

if TYPE_CHECKING:
    from analyzer.project import Project

__all__ = [
    "REPO_ROOT",
    "AppConfig",
    "ClassRef",
    "ConfigOp",
    "DotenvLoad",
    "Entry",
    "EnvSource",
    "EnvUse",
    "EnvValue",
    "Environment",
    "Evaluator",
    "ExtensionInit",
    "ExtensionUse",
    "External",
    "FunctionRef",
    "FunctionRun",
    "Generated",
    "Known",
    "ModuleRef",
    "ObjectRef",
    "ProductionPath",
    "Reach",
    "Scope",
    "Setting",
    "Step",
    "Unknown",
    "Value",
    "describe",
    "is_secret_name",
    "production_path",
]


@dataclass
class ProductionPath:
    entry: Entry
    environment: Environment
    evaluator: Evaluator = field(repr=False)
    reach: Reach = field(repr=False)
    configs: list[AppConfig] = field(default_factory=list)
    app: ObjectRef | None = None  # the Flask app the server serves
    extensions: list[ExtensionUse] = field(default_factory=list)
    env_reads: list[EnvUse] = field(default_factory=list)
    dotenv: list[DotenvLoad] = field(default_factory=list)  # committed dotenv files loaded at import

    # -- code ----------------------------------------------------------------

    @property
    def assumed(self) -> bool:
        """No start command leads to a module: the path starts at the Flask apps discovered."""
        return self.entry.assumed

    @property
    def modules(self) -> list[str]:
        return self.reach.modules

    @property
    def functions_run(self) -> list[FunctionRun]:
        return self.reach.functions_run

    def imported(self, path: str) -> bool:
        """The module is imported on the path (its request handlers can run)."""
        return self.reach.imported(path)

    def runs(self, path: str, line: int) -> bool:
        """Code at path:line runs at startup (not a request handler, not a `__main__` block)."""
        return self.reach.runs(path, line)

    def why(self, path: str) -> list[str]:
        """Evidence that a module is on the path: the chain of imports from the entry."""
        chain = self.reach.why(path)
        if self.assumed and chain and chain[0] != self.entry.evidence[0]:
            chain.insert(0, self.entry.evidence[0])
        return chain

    # -- config --------------------------------------------------------------

    @property
    def config(self) -> AppConfig | None:
        """The effective config of the served app (the first app on the path when not known)."""
        if self.app is not None:
            found = self.config_for(self.app)
            if found is not None:
                return found
        return self.configs[0] if self.configs else None

    def config_for(self, app: ObjectRef) -> AppConfig | None:
        return next((config for config in self.configs if config.app == app), None)

    def setting(self, key: str) -> Setting | None:
        config = self.config
        return config.get(key) if config is not None else None

    def is_selected(self, cls: ClassRef | str) -> bool:
        return any(config.is_selected(cls) for config in self.configs)

    def is_unselected(self, cls: ClassRef | str) -> bool:
        """Known not to be loaded by any app on the path (False when it is ambiguous)."""
        return any(config.is_unselected(cls) for config in self.configs) and not self.is_selected(cls)

    def why_not_selected(self, cls: ClassRef | str) -> list[str]:
        for config in self.configs:
            why = config.why_not_selected(cls)
            if why:
                return why
        return []

    # -- values --------------------------------------------------------------

    def scope(self, path: str, function: cst.FunctionDef | None = None) -> Scope | None:
        """The module scope, or a function's scope as it runs on the path (unbound parameters
        are `Unknown` when the function does not run)."""
        module_scope = self.evaluator.module_scope(path)
        if function is None or module_scope is None:
            return module_scope
        ref = FunctionRef(path, function.name.value, function, module_scope.module)
        return self.evaluator.function_scope(ref) or self.evaluator.bind_arguments(ref, [], {}, called=False)

    def evaluate(
        self,
        expr: cst.BaseExpression,
        path: str,
        before: cst.CSTNode | None = None,
        function: cst.FunctionDef | None = None,
    ) -> Value:
        """The production value of an expression of the module at `path`."""
        scope = self.scope(path, function)
        if scope is None:
            return Unknown(f"{path} cannot be read")
        return self.value_in(expr, scope, before)

    def value_in(self, expr: cst.BaseExpression, scope: Scope, before: cst.CSTNode | None = None) -> Value:
        """The production value of an expression in a scope. A read of an app's config
        (`app.config["K"]`, `current_app.config.get("K")`) is the value K has once startup is over:
        request handlers and the functions they call read it then."""
        read = config_read(expr)
        if read is not None:
            receiver, key_node = read
            app = self.evaluator.evaluate(receiver, scope, before).effective
            if isinstance(app, Known) and isinstance(app.value, ObjectRef):
                config = self.config_for(app.value)
            else:
                module = scope.module
                current = "current_app" in module.text and "flask.current_app" in module.qualified_names(receiver)
                config = self.config if current else None
            key = self.evaluator.evaluate(key_node, scope, before).effective
            known = isinstance(key, Known) and isinstance(key.value, str)
            setting = config.get(key.value) if config is not None and known else None
            if setting is not None:
                return setting.value
        return self.evaluator.evaluate(expr, scope, before)

    # -- extensions and environment --------------------------------------------

    def extension(self, kind: str, *, on_path: bool = True) -> list[ExtensionUse]:
        return [use for use in self.extensions if use.kind == kind and (use.on_path or not on_path)]

    def env_contract(self) -> list[dict]:
        """The report's environment contract: one entry per read (name, required, default, path, line)."""
        return [use.as_dict() for use in self.env_reads]


def production_path(project: Project) -> ProductionPath:
    """Evaluate the production path of a project (use `project.production`, which caches it)."""
    with collector_paused():
        return _production_path(project)


def _production_path(project: Project) -> ProductionPath:
    env = production_environment(project)
    entry = find_entry(project)
    run = project.server_run
    if run is not None and run.kind == "flask-run" and "python-dotenv" in project.dependency_text().lower():
        # `flask run` loads .env, then .flaskenv, when python-dotenv is installed; neither overrides.
        for name in (".env", ".flaskenv"):
            path = project.app_path(name)
            text = project.read_text(path)
            if text is not None:
                env = env.with_dotenv(
                    [(key, value, f"{path}:{line}") for key, value, line in parse_env_file(text)], False
                )
    walker, evaluator = _walk(project, entry, env)
    loads = loaded_dotenv_files(walker.reach, evaluator)
    if any(load.entries for load in loads):
        for load in loads:
            env = env.with_dotenv([(k, v, f"{load.path}:{line}") for k, v, line in load.entries], load.override)
        walker, evaluator = _walk(project, entry, env)
    reach = walker.reach
    configs = collect_configs(walker, evaluator)
    extensions = find_extensions(project, reach, evaluator, configs)
    return ProductionPath(
        entry=entry,
        environment=env,
        evaluator=evaluator,
        reach=reach,
        configs=configs,
        app=served_app(reach, evaluator),
        extensions=extensions,
        env_reads=environment_contract(reach, evaluator, configs, env),
        dotenv=loads,
    )


def _walk(project: Project, entry: Entry, env: Environment) -> tuple[Walker, Evaluator]:
    main = entry.path if entry.main else None
    evaluator = Evaluator(project, env, entry.roots, main, entry.cwd)
    walker = Walker(evaluator, entry)
    walk(walker, entry)
    return walker, evaluator
