"""`python -m analyzer PATH`: analyze a repository folder and print the report.

Exit codes: 0 when no unsuppressed finding reaches --fail-on, 1 when one does,
2 for a usage error (bad option, unreadable PATH or platform file, unknown rule id).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from analyzer.autofix import PatchError, apply_patch
from analyzer.engine import analyze
from analyzer.formats import ENV_CONTRACT_FORMATS, FORMATS, render, render_env_contract
from analyzer.platform import Platform, PlatformError
from analyzer.report import Report, Severity
from analyzer.rules import catalog

FAIL_ON = ("blocker", "high", "medium", "low", "never")
DEFAULT_FAIL_ON = "high"
USAGE_ERROR = 2

_RULE_ID = re.compile(r"PF\d{1,3}")

_EPILOG = """\
exit status:
  0  no unsuppressed finding at or above --fail-on (always, with --env-contract)
  1  at least one such finding
  2  usage error (bad option, unreadable PATH or --platform file, unknown rule
     id) or an internal error of the analyzer

environment contract:
  --env-contract prints every environment variable the production path reads
  instead of the findings: where it is read, what sets it in production
  (--platform variables, the Dockerfile's ENV, the start command, Railway
  itself) and what happens when it is unset. JSON reports and SARIF runs
  always carry it (`env_contract`, `properties.envContract`).

suppressing a finding:
  put `# preflight: ignore[PF303] reason` on the flagged line or the line above
  (Python files, Procfile, railway.toml, .env files: any file with # comments).
  A suppressed finding stays in the report with its reason and does not count
  toward the score or the exit status.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m analyzer",
        description="Check a Flask repository for what will break or go live unsafe when deployed on Railway.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("path", metavar="PATH", help="the repository folder to analyze")
    parser.add_argument(
        "--app-root",
        metavar="DIR",
        default=".",
        help="the folder inside PATH that Railway deploys, for monorepos (default: PATH itself)",
    )
    parser.add_argument(
        "--platform",
        metavar="FILE",
        help=(
            "JSON file with the Railway service settings: start_command, pre_deploy_command, "
            "variables (names only), volume_mount_path, worker_service; every key optional"
        ),
    )
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    parser.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        default=DEFAULT_FAIL_ON,
        help=(
            f"exit 1 when an unsuppressed finding has this severity or worse (default: {DEFAULT_FAIL_ON}); "
            "`never` always exits 0 after a successful analysis"
        ),
    )
    parser.add_argument(
        "--select",
        metavar="ID",
        nargs="+",
        action="extend",
        help=(
            "run only these rules; a prefix such as PF1 selects a family "
            "(space- or comma-separated; give PATH before this option)"
        ),
    )
    parser.add_argument("--ignore", metavar="ID", nargs="+", action="extend", help="skip these rules or rule families")
    parser.add_argument("--output", metavar="FILE", help="write the report to FILE instead of standard output")
    parser.add_argument(
        "--env-contract",
        action="store_true",
        help="print the environment variables the app reads instead of the findings (text or json)",
    )
    parser.add_argument(
        "--diff",
        action="store_true",
        help="print the verified patches as one diff that `git apply` accepts, instead of the report",
    )
    parser.add_argument(
        "--fix",
        action="store_true",
        help="apply the verified patches to PATH, print what changed, then report what is left",
    )
    parser.add_argument("--force", action="store_true", help="with --fix: apply even when the git tree has changes")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.env_contract and args.format not in ENV_CONTRACT_FORMATS:
        parser.error(f"--env-contract prints {' or '.join(ENV_CONTRACT_FORMATS)}, not {args.format}")
    if args.diff and (args.fix or args.env_contract):
        parser.error("--diff cannot be combined with --fix or --env-contract")
    root = _repository(parser, args.path)
    _check_app_root(parser, root, args.app_root)
    if args.fix and not args.force:
        refusal = dirty_tree_refusal(root)
        if refusal:
            parser.error(refusal)
    platform = _platform(parser, args.platform)
    select = _rule_ids(parser, "--select", args.select)
    ignore = _rule_ids(parser, "--ignore", args.ignore)
    try:
        report = analyze(root, app_root=args.app_root, platform=platform, select=select, ignore=ignore)
    except Exception:
        # An analyzer bug must not read as "findings found" (1) in CI; exit like a usage error, loudly.
        traceback.print_exc()
        print(f"{parser.prog}: internal error while analyzing {args.path}", file=sys.stderr)
        return USAGE_ERROR

    if args.diff:
        for finding in report.findings:
            if finding.patch:
                print(f"{finding.rule} {finding.location}: {finding.fix_title}", file=sys.stderr)
        sys.stdout.write(report.fix_all_patch or "")
        return 0
    if args.fix:
        if not report.fix_all_patch:
            print("nothing to fix: no finding has a verified patch", file=sys.stderr)
        else:
            try:
                changed = apply_patch(root, report.fix_all_patch)
            except PatchError as error:
                print(f"{parser.prog}: {error}", file=sys.stderr)
                return USAGE_ERROR
            print("fixed:", file=sys.stderr)
            for finding in report.findings:
                if finding.patch:
                    print(f"  {finding.rule} {finding.location}: {finding.fix_title}", file=sys.stderr)
                    if finding.fix_safety:
                        print(f"      {finding.fix_safety}", file=sys.stderr)
            print("changed files: " + ", ".join(changed), file=sys.stderr)
            report = analyze(root, app_root=args.app_root, platform=platform, select=select, ignore=ignore)

    color = args.output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    output = render_env_contract(report, args.format) if args.env_contract else render(report, args.format, color=color)
    if args.output is None:
        sys.stdout.write(output)
    else:
        try:
            Path(args.output).write_text(output, encoding="utf-8")
        except OSError as error:
            parser.error(f"cannot write {args.output}: {error.strerror}")
    return 0 if args.env_contract else exit_status(report, args.fail_on)


def dirty_tree_refusal(root: Path) -> str | None:
    """Why --fix must not write to this folder without --force, or None when it may."""
    try:
        status = subprocess.run(
            ["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return "cannot run git to check for uncommitted changes; use --force to apply anyway"
    if status.returncode != 0:
        return f"{root} is not a git work tree, so --fix could not be undone; use --force to apply anyway"
    if status.stdout.strip():
        return "the git tree has uncommitted changes; commit or stash them first, or use --force"
    return None


def exit_status(report: Report, fail_on: str) -> int:
    if fail_on == "never":
        return 0
    threshold = Severity(fail_on).rank
    return 1 if any(finding.severity.rank >= threshold for finding in report.active()) else 0


def _repository(parser: argparse.ArgumentParser, path: str) -> Path:
    root = Path(path)
    if not root.exists():
        parser.error(f"{path}: no such folder")
    if not root.is_dir():
        parser.error(f"{path} is a file; give the repository's folder")
    try:
        with os.scandir(root):
            pass
    except OSError as error:
        parser.error(f"cannot read {path}: {error.strerror}")
    return root


def _check_app_root(parser: argparse.ArgumentParser, root: Path, app_root: str) -> None:
    folder = (root / app_root).resolve()
    if not folder.is_relative_to(root.resolve()):
        parser.error(f"--app-root {app_root} leaves the repository")
    if not folder.is_dir():
        parser.error(f"--app-root {app_root}: no such folder inside {root}")


def _platform(parser: argparse.ArgumentParser, path: str | None) -> Platform | None:
    if path is None:
        return None
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as error:
        parser.error(f"cannot read platform settings {path}: {error.strerror}")
    except UnicodeDecodeError:
        parser.error(f"platform settings {path} are not UTF-8 text")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        parser.error(f"platform settings {path} are not valid JSON: {error.msg} at line {error.lineno}")
    try:
        return Platform.from_dict(data)
    except PlatformError as error:
        parser.error(f"platform settings {path}: {error}")


def _rule_ids(parser: argparse.ArgumentParser, option: str, values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    known = [rule.id for rule in catalog().rules]
    given = [part.strip() for value in values for part in value.split(",") if part.strip()]
    if not given:
        parser.error(f"{option} needs at least one rule id")
    for rule_id in given:
        code = rule_id.upper()
        if not _RULE_ID.fullmatch(code) or not any(known_id.startswith(code) for known_id in known):
            parser.error(
                f"unknown rule id {rule_id!r} in {option}; known: {', '.join(known)} "
                "(a prefix such as PF1 selects a family)"
            )
    return [rule_id.upper() for rule_id in given]


if __name__ == "__main__":
    raise SystemExit(main())
