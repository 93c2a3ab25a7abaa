"""Patches that fix findings, proven before they are offered.

A rule attaches a `Fix` to a finding: the new content of each file it
changes (or creates), plus files the user must untrack with `git rm --cached`.
Before a patch is shown, `verify_fixes` checks that `git apply --check`
accepts it, that every patched Python file still parses, that re-analyzing
the patched tree clears the finding, and that no rule reports anything new in
the files the patch changes or about the repository as a whole (a finding in
an untouched file was there before, hidden by what the patch repairs).
"""

from __future__ import annotations

import difflib
import shutil
import subprocess
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from analyzer.report import Finding


@dataclass
class Fix:
    title: str  # imperative, e.g. "Use app:app"
    safety: str  # when applying it could change behaviour (ruff's "Fix safety")
    changes: dict[str, str]  # repo path -> full new text (a path not in the repo is created)
    untrack: list[str] = field(default_factory=list)  # paths to `git rm --cached`; the diff cannot say it
    note: str = ""


@dataclass(frozen=True)
class Edit:
    """A replacement of original[start:end] in one file; what fixes are combined from."""

    path: str
    start: int
    end: int
    text: str


def minimal_edits(originals: dict[str, str | None], fix: Fix) -> list[Edit]:
    """The smallest edit per file, so independent fixes to one file can be combined."""
    edits = []
    for path, new in fix.changes.items():
        old = originals.get(path) or ""
        prefix = 0
        limit = min(len(old), len(new))
        while prefix < limit and old[prefix] == new[prefix]:
            prefix += 1
        suffix = 0
        while suffix < limit - prefix and old[len(old) - 1 - suffix] == new[len(new) - 1 - suffix]:
            suffix += 1
        edits.append(Edit(path, prefix, len(old) - suffix, new[prefix : len(new) - suffix]))
    return edits


def apply_edits(originals: dict[str, str | None], edits: list[Edit]) -> dict[str, str]:
    """New contents after applying compatible edits; insertions at one point keep their order."""
    unique = list(dict.fromkeys(edits))  # two fixes adding the same import add it once
    results: dict[str, str] = {}
    for path in {edit.path for edit in unique}:
        text = originals.get(path) or ""
        ordered = sorted(((e.start, i, e) for i, e in enumerate(unique) if e.path == path), reverse=True)
        for _, _, edit in ordered:
            text = text[: edit.start] + edit.text + text[edit.end :]
        results[path] = text
    return results


def _whole_lines(text: str) -> bool:
    return text.endswith("\n") or text.startswith(("\n", "\r\n"))


def overlaps(edits: list[Edit], others: list[Edit]) -> bool:
    """Whether two fixes touch the same text. Identical edits, and whole lines inserted at one point, combine."""

    def clash(a: Edit, b: Edit) -> bool:
        if a.path != b.path or a == b:
            return False
        if a.start == a.end == b.start == b.end and _whole_lines(a.text) and _whole_lines(b.text):
            return False  # two lines added at one place, like two requirements appended
        return a.start < max(b.end, b.start + 1) and b.start < max(a.end, a.start + 1)

    return any(clash(a, b) for a in edits for b in others)


def unified_diff(originals: dict[str, str | None], changes: dict[str, str]) -> str:
    """A git-style unified diff that `git apply` accepts, CRLF and missing final newlines included."""
    chunks = []
    for path in sorted(changes):
        old, new = originals.get(path), changes[path]
        if old == new:
            continue
        created = old is None
        lines = difflib.unified_diff(
            (old or "").splitlines(keepends=True),
            new.splitlines(keepends=True),
            "/dev/null" if created else f"a/{path}",
            f"b/{path}",
            n=3,
        )
        body = []
        for line in lines:
            if line.startswith(("---", "+++")):
                body.append(line.rstrip("\n") + "\n")
            elif line.endswith("\n"):
                body.append(line)
            else:
                body.append(line + "\n\\ No newline at end of file\n")
        header = f"diff --git a/{path} b/{path}\n" + ("new file mode 100644\n" if created else "")
        chunks.append(header + "".join(body))
    return "".join(chunks)


def git_apply_check(originals: dict[str, str | None], patch: str) -> str | None:
    """None when `git apply --check` accepts the patch against the original files, else why not."""
    if not patch:
        return "the fix changes nothing"
    git = shutil.which("git")
    if git is None:
        return "git is not installed, so the patch could not be checked"
    with tempfile.TemporaryDirectory(prefix="preflight-fix-") as scratch:
        for path, text in originals.items():
            if text is None:
                continue
            target = Path(scratch, path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(text.encode("utf-8"))
        result = subprocess.run(
            [git, "apply", "--check", "-"],
            input=patch.encode("utf-8"),
            cwd=scratch,
            capture_output=True,
            timeout=30,
            env={"GIT_CONFIG_NOSYSTEM": "1", "HOME": scratch, "PATH": "/usr/bin:/bin"},
        )
    if result.returncode != 0:
        return "git apply --check rejects it: " + result.stderr.decode("utf-8", "replace").strip().splitlines()[0]
    return None


def python_parse_problem(changes: dict[str, str]) -> str | None:
    for path, text in changes.items():
        if path.endswith(".py"):
            try:
                cst.parse_module(text)
            except cst.ParserSyntaxError as error:
                return f"the patched {path} does not parse ({error.message})"
    return None


Reanalyze = Callable[[dict[str, bytes | None]], list[Finding]]


@dataclass
class Verified:
    patch: str | None
    problem: str | None


def verify(
    fix: Fix,
    targets: list[Finding],
    before: list[Finding],
    originals: dict[str, str | None],
    reanalyze: Reanalyze,
) -> Verified:
    """Run every check on one fix (or a combination); the patch when all pass, else the reason."""
    changes = {path: text for path, text in fix.changes.items() if originals.get(path) != text}
    patch = unified_diff(originals, changes)
    problem = git_apply_check({path: originals.get(path) for path in changes}, patch) if changes else None
    if not changes and not fix.untrack:
        problem = "the fix changes nothing"
    problem = problem or python_parse_problem(changes)
    if problem:
        return Verified(None, problem)
    overlay: dict[str, bytes | None] = {path: text.encode("utf-8") for path, text in changes.items()}
    overlay.update({path: None for path in fix.untrack})
    after = reanalyze(overlay)
    # Findings are counted by what they are about, not by fingerprint: a rule's repeats of one
    # subject in one file are numbered in source order, and clearing the first renumbers the rest.
    had = Counter(finding.identity for finding in before)
    has = Counter(finding.identity for finding in after)
    left = had - Counter(target.identity for target in targets)
    remaining = [target for target in targets if has[target.identity] > left[target.identity]]
    if remaining:
        return Verified(None, f"re-analysis of the patched tree still reports {remaining[0].rule}")
    # A finding that appears in a file the fix leaves alone was there all along, hidden by what the
    # fix repairs (a start command that loads the wrong module hides the app's own code). Only the
    # files the fix touches, and the repository as a whole, must not get a new one.
    touched = {*changes, *fix.untrack}
    new = [
        finding
        for finding in after
        if has[finding.identity] > had[finding.identity] and (finding.path is None or finding.path in touched)
    ]
    if new:
        return Verified(None, f"the patched tree gets a new finding: {new[0].rule} {new[0].message}")
    return Verified(patch or None, None)


def original_texts(project, paths) -> dict[str, str | None]:
    """The current text of each path (None when absent), decoded as UTF-8 with line endings kept."""
    texts: dict[str, str | None] = {}
    for path in paths:
        data = project.raw(path) if path in project.files.paths else None
        texts[path] = data.decode("utf-8") if data is not None else None
    return texts


def verify_fixes(
    project, findings: list[Finding], baseline: list[Finding], run_rules: Callable
) -> tuple[str | None, str | None]:
    """Verify each finding's proposed fix, then their combination ("fix all").

    `baseline` is what every rule reports on the unpatched tree; a patched tree
    must report nothing outside it.

    Sets `patch`, `fix_title` and `fix_safety` on findings whose fix passes,
    `fix_problem` on the others, and returns (fix-all patch, why there is none).
    """

    def reanalyze(overlay: dict[str, bytes | None]) -> list[Finding]:
        return run_rules(project.derive(overlay))

    offered: list[tuple[Finding, Fix, list[Edit]]] = []
    for finding in findings:
        fix = finding.fix
        if not isinstance(fix, Fix) or finding.suppressed:
            continue
        try:
            originals = original_texts(project, fix.changes)
        except UnicodeDecodeError:
            finding.fix_problem = "a file the fix changes is not UTF-8, so it is left alone"
            continue
        result = verify(fix, [finding], baseline, originals, reanalyze)
        if result.problem:
            finding.fix_problem = result.problem
            continue
        finding.patch, finding.fix_title, finding.fix_safety = result.patch, fix.title, fix.safety
        finding.fix_edits = minimal_edits(originals, fix)
        offered.append((finding, fix, finding.fix_edits))
    if not offered:
        return None, None
    chosen: list[tuple[Finding, Fix, list[Edit]]] = []
    for item in offered:
        if not any(overlaps(item[2], other[2]) for other in chosen):
            chosen.append(item)
    if len(chosen) == 1:
        return chosen[0][0].patch, None
    edits = [edit for _, _, fix_edits in chosen for edit in fix_edits]
    originals = original_texts(project, {edit.path for edit in edits})
    combined = Fix(
        "Apply every verified fix",
        "See each fix's own note.",
        apply_edits(originals, edits),
        untrack=sorted({path for _, fix, _ in chosen for path in fix.untrack}),
    )
    result = verify(combined, [finding for finding, _, _ in chosen], baseline, originals, reanalyze)
    return result.patch, result.problem


class PatchError(Exception):
    """`git apply` refused the patch; the message is git's reason."""


def apply_patch(root: Path, patch: str) -> list[str]:
    """Apply a verified patch to the working tree with `git apply`; the files it changed."""
    git = shutil.which("git")
    if git is None:
        raise PatchError("git is not installed")
    changed = subprocess.run(
        [git, "apply", "--numstat", "-"], input=patch.encode(), cwd=root, capture_output=True, timeout=60
    )
    result = subprocess.run([git, "apply", "-"], input=patch.encode(), cwd=root, capture_output=True, timeout=60)
    if result.returncode != 0:
        raise PatchError("git apply refused the patch: " + result.stderr.decode("utf-8", "replace").strip())
    return [line.split("\t", 2)[2] for line in changed.stdout.decode().splitlines() if line.count("\t") >= 2]
