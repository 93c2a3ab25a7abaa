"""Fetching a project's repository safely: one bare mirror per project, shallow fetches, throwaway checkouts.

Git runs with no system or global config, hooks off, only the project's
transport allowed, no submodules, no terminal prompts, a time limit and a
size cap. Credentials reach git through the environment only: an askpass
script reads the HTTPS token from a variable, and an SSH deploy key is a
0600 file named in GIT_SSH_COMMAND, deleted afterwards. Error messages are
written here from fixed sentences, never copied from git's output.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import shlex
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from git import Git, Repo

from workers.urlpolicy import RepoURL, UnsafeURL, parse_repo_url

logger = logging.getLogger(__name__)

LOCAL_REF = "refs/preflight/head"
_BRANCH = re.compile(r"^(?!-)(?!.*\.\.)(?!.*@\{)(?!.*//)[^\x00-\x20\x7f~^:?*\[\\]{1,200}(?<![./])$")
_ASKPASS = """#!/bin/sh
# Answers git's prompts from the environment; the token only goes to the project's host.
case "$1" in
  Username*) printf '%s\\n' "$PREFLIGHT_GIT_USERNAME" ;;
  Password*)
    case "$1" in
      *"@$PREFLIGHT_GIT_HOST'"*|*"//$PREFLIGHT_GIT_HOST'"*) printf '%s\\n' "$PREFLIGHT_GIT_TOKEN" ;;
      *) exit 1 ;;
    esac ;;
  *) exit 1 ;;
esac
"""


class CloneError(Exception):
    """Fetching or checking out failed; the message is safe to show and says what to do."""


@dataclass(frozen=True)
class Credentials:
    kind: str  # "none", "token" or "ssh_key" (dashboard.models.AuthKind values)
    secret: str = ""

    def __repr__(self) -> str:
        return f"Credentials(kind={self.kind!r})"


@dataclass(frozen=True)
class Fetched:
    sha: str
    branch: str
    message: str
    author: str


@dataclass
class _Result:
    returncode: int
    stdout: str
    stderr: str


def mirror_path(project_id: int) -> Path:
    return Path(settings.GIT_CACHE_DIR) / str(project_id)


def scratch_dir() -> Path:
    """Where checkouts, empty homes and key files live while a scan runs."""
    path = Path(settings.GIT_CACHE_DIR) / "tmp"
    path.mkdir(parents=True, exist_ok=True)
    return path


def fetch(project_id: int, repo_url: str, branch: str, credentials: Credentials) -> Fetched:
    """Update the project's mirror with the tracked branch's head (depth 1) and describe that commit."""
    try:
        target = parse_repo_url(repo_url)
    except UnsafeURL as error:
        raise CloneError(f"The repository URL is not allowed: {error}") from None
    if branch and not _BRANCH.match(branch):
        raise CloneError(f"'{branch}' is not a valid branch name. Fix the project's branch.")
    mirror = mirror_path(project_id)
    with _mirror_lock(mirror), _GitSession(target, credentials, project_id) as session:
        _prepare_mirror(mirror)
        branch, remote_sha = _remote_ref(session, mirror, branch)
        # An unchanged branch costs one round trip: the commit is in the mirror already.
        if _local_sha(mirror) != remote_sha:
            _fetch_branch(session, mirror, branch)
        return _describe(mirror, branch)


@contextlib.contextmanager
def checkout(project_id: int, sha: str) -> Iterator[Path]:
    """Check `sha` out of the project's mirror into a temporary folder, removed whatever happens."""
    mirror = mirror_path(project_id)
    folder = Path(tempfile.mkdtemp(prefix="checkout-", dir=scratch_dir()))
    try:
        tree = folder / "src"
        tree.mkdir()
        _check_tree_size(mirror, sha)
        env = _local_env(folder)
        env["GIT_INDEX_FILE"] = str(folder / "index")
        for args in (
            ["read-tree", sha],
            # Symlinks become plain files holding the link text: a link cannot lead the analyzer off the checkout.
            ["--work-tree", str(tree), "-c", "core.symlinks=false", "checkout-index", "--all", "--force"],
        ):
            result = _run(["--git-dir", str(mirror), *_SAFE_CONFIG, *args], env=env, cwd=folder)
            if result.returncode != 0:
                logger.warning("checkout of %s failed: %s", sha, _tail(result.stderr))
                shutil.rmtree(mirror, ignore_errors=True)
                raise CloneError("Git could not check out the commit. Start a new scan; the cache will be rebuilt.")
        (folder / "index").unlink(missing_ok=True)
        yield tree
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def remove_stale_scratch(older_than: float) -> int:
    """Remove leftovers of workers that died mid-scan (checkouts, homes, key files); how many."""
    removed = 0
    cutoff = time.time() - older_than
    for entry in scratch_dir().iterdir():
        with contextlib.suppress(FileNotFoundError):
            if entry.lstat().st_mtime < cutoff:
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink()
                removed += 1
    return removed


# -- git's environment -------------------------------------------------------

_SAFE_CONFIG = [
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "submodule.recurse=false",
    "-c",
    "fetch.recurseSubmodules=false",
    "-c",
    "gc.auto=0",
    "-c",
    "maintenance.auto=false",
    "-c",
    "credential.helper=",
    # A redirect could lead to a host the URL policy never saw.
    "-c",
    "http.followRedirects=false",
    "-c",
    "protocol.version=2",
]


def _local_env(home: Path) -> dict[str, str]:
    return {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ALLOW_PROTOCOL": "none",
        "GIT_PROTOCOL_FROM_USER": "0",
        "GIT_LFS_SKIP_SMUDGE": "1",
        "GIT_NO_REPLACE_OBJECTS": "1",
        "GIT_ASKPASS": "/bin/false",
        "SSH_ASKPASS": "/bin/false",
        "SSH_ASKPASS_REQUIRE": "never",
        "PREFLIGHT_GIT_TOKEN": "",
    }


class _GitSession:
    """Environment and config for network git commands of one fetch; its files are removed on exit."""

    def __init__(self, target: RepoURL, credentials: Credentials, project_id: int) -> None:
        self.target = target
        self.credentials = credentials
        self.project_id = project_id
        self.home: Path | None = None

    def __enter__(self) -> _GitSession:
        self.home = Path(tempfile.mkdtemp(prefix="home-", dir=scratch_dir()))
        os.chmod(self.home, 0o700)
        self.env = _local_env(self.home)
        self.env["GIT_ALLOW_PROTOCOL"] = self.target.scheme
        askpass = self.home / "askpass"
        askpass.write_text(_ASKPASS)
        askpass.chmod(0o700)
        token = self.credentials.secret if self.credentials.kind == "token" else ""
        self.env.update(
            {
                "GIT_ASKPASS": str(askpass),
                "PREFLIGHT_GIT_USERNAME": _token_username(self.target.host),
                "PREFLIGHT_GIT_TOKEN": token,
                "PREFLIGHT_GIT_HOST": _netloc_host(self.target.url),
                "GIT_SSH_VARIANT": "ssh",
                "GIT_SSH_COMMAND": self._ssh_command(),
            }
        )
        self.config = [*_SAFE_CONFIG, "-c", "protocol.allow=never", "-c", f"protocol.{self.target.scheme}.allow=always"]
        if self.target.scheme in ("http", "https") and self.target.addresses:
            # Connect to the addresses the policy checked, not to whatever the name resolves to next.
            pinned = ",".join(f"[{a}]" if ":" in a else a for a in self.target.addresses)
            self.config += ["-c", f"http.curloptResolve={self.target.host}:{self.target.port}:{pinned}"]
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.home is not None:
            shutil.rmtree(self.home, ignore_errors=True)

    def _ssh_command(self) -> str:
        assert self.home is not None
        known_hosts = Path(settings.GIT_CACHE_DIR) / f"{self.project_id}.known_hosts"
        options = [
            "-F",
            "/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentityAgent=none",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "StrictHostKeyChecking=accept-new",
            "-o",
            f"UserKnownHostsFile={known_hosts}",
            "-o",
            f"HostKeyAlias={self.target.host}",
            "-o",
            "ConnectTimeout=20",
            "-o",
            "PermitLocalCommand=no",
        ]
        if self.target.scheme == "ssh" and self.target.addresses:
            options += ["-o", f"HostName={self.target.addresses[0]}"]
        if self.credentials.kind == "ssh_key" and self.credentials.secret:
            key = self.home / "deploy_key"
            descriptor = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(self.credentials.secret.strip().replace("\r\n", "\n") + "\n")
            options += ["-i", str(key)]
        return shlex.join(["ssh", *options])

    def run(self, what: str, args: list[str], *, cwd: Path, watch: Callable[[], str | None] | None = None) -> _Result:
        result = _run([*self.config, *args], env=self.env, cwd=cwd, watch=watch)
        if result.returncode != 0:
            logger.warning(
                "git %s failed for project %s (exit %s): %s",
                what,
                self.project_id,
                result.returncode,
                _tail(self.redact(result.stderr)),
            )
        return result

    def redact(self, text: str) -> str:
        secret = self.credentials.secret
        if secret:
            text = text.replace(secret, "[redacted]")
            for line in secret.splitlines():
                if len(line.strip()) >= 8:
                    text = text.replace(line.strip(), "[redacted]")
        return text


def _token_username(host: str) -> str:
    # Tokens are the password; hosts differ on the user name they expect beside one.
    if host == "bitbucket.org":
        return "x-token-auth"
    if "gitlab" in host:
        return "oauth2"
    return "x-access-token"


def _netloc_host(url: str) -> str:
    rest = url.split("://", 1)[1] if "://" in url else url
    return rest.split("/", 1)[0].rsplit("@", 1)[-1]


# -- running git ---------------------------------------------------------------


def _run(
    args: list[str],
    *,
    env: dict[str, str],
    cwd: Path,
    watch: Callable[[], str | None] | None = None,
) -> _Result:
    """Run git with a time limit; `watch` is polled and may stop it by returning an error message."""
    timeout = settings.GIT_TIMEOUT
    handle = Git(str(cwd)).execute(["git", *args], as_process=True, env=env, start_new_session=True)
    process = handle.proc
    outputs: dict[str, bytes] = {}

    def drain(name: str, stream) -> None:
        outputs[name] = stream.read()

    readers = [
        threading.Thread(target=drain, args=("stdout", process.stdout), daemon=True),
        threading.Thread(target=drain, args=("stderr", process.stderr), daemon=True),
    ]
    for reader in readers:
        reader.start()
    started = time.monotonic()
    stopped: str | None = None
    try:
        while process.poll() is None:
            if time.monotonic() - started > timeout:
                stopped = (
                    f"Fetching the repository took longer than {timeout} s and was stopped. Try again later; if it "
                    "keeps happening the server is too slow or the repository too large."
                )
            elif watch is not None:
                stopped = watch()
            if stopped:
                break
            time.sleep(0.05)
    finally:
        # Also on the task's soft time limit: git and its helpers must not outlive the scan.
        if process.poll() is None:
            _kill_group(process.pid)
            process.wait()
    for reader in readers:
        reader.join(timeout=5)
    if stopped:
        raise _Stopped(stopped)
    return _Result(
        process.returncode,
        outputs.get("stdout", b"").decode("utf-8", "replace"),
        outputs.get("stderr", b"").decode("utf-8", "replace"),
    )


class _Stopped(CloneError):
    """A git command was killed for running too long or growing too big."""


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _tail(text: str, limit: int = 600) -> str:
    text = text.strip()
    return text if len(text) <= limit else "..." + text[-limit:]


# -- the mirror ------------------------------------------------------------------


@contextlib.contextmanager
def _mirror_lock(mirror: Path) -> Iterator[None]:
    mirror.parent.mkdir(parents=True, exist_ok=True)
    with open(mirror.parent / f"{mirror.name}.lock", "w") as lock:
        deadline = time.monotonic() + settings.GIT_TIMEOUT
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise CloneError("Another scan of this project is still fetching. Try again in a minute.") from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _prepare_mirror(mirror: Path) -> None:
    # A mirror grows by one shallow snapshot per changed commit; start afresh before it nears the cap.
    if mirror.exists() and (not (mirror / "objects").is_dir() or _size(mirror) > _cap_bytes() // 2):
        shutil.rmtree(mirror, ignore_errors=True)
    if not mirror.exists():
        # An empty template: no sample hooks or other files from the system in the mirror.
        Repo.init(mirror, bare=True, mkdir=True, template="", allow_unsafe_options=True).close()


def _remote_ref(session: _GitSession, mirror: Path, branch: str) -> tuple[str, str]:
    """The branch to scan (the remote's default when `branch` is empty) and its head commit on the remote."""
    wanted = f"refs/heads/{branch}" if branch else "HEAD"
    args = ["ls-remote", *([] if branch else ["--symref"]), "--end-of-options", session.target.url, wanted]
    result = session.run("ls-remote", args, cwd=mirror)
    if result.returncode != 0:
        raise CloneError(_explain(result.stderr, session, branch=branch))
    sha = ""
    for line in result.stdout.splitlines():
        if line.startswith("ref: refs/heads/") and line.endswith("\tHEAD"):
            branch = line[len("ref: refs/heads/") : -len("\tHEAD")]
        elif line.partition("\t")[2] == wanted:
            sha = line.partition("\t")[0]
    if not branch:
        raise CloneError(
            "The repository has no default branch (is it empty?). Push a commit or set the project's branch."
        )
    if not sha:
        raise CloneError(_missing_branch_message(branch))
    return branch, sha


def _local_sha(mirror: Path) -> str | None:
    result = _run(
        ["--git-dir", str(mirror), *_SAFE_CONFIG, "rev-parse", "--verify", "--quiet", f"{LOCAL_REF}^{{commit}}"],
        env=_local_env(scratch_dir()),
        cwd=mirror,
    )
    return result.stdout.strip() if result.returncode == 0 else None


def _fetch_branch(session: _GitSession, mirror: Path, branch: str) -> None:
    objects = mirror / "objects"
    before = _size(objects)
    cap = _cap_bytes()

    def too_big() -> str | None:
        return _too_large_message() if _size(objects) - before > cap else None

    args = [
        "--git-dir",
        str(mirror),
        "fetch",
        "--depth=1",
        "--no-tags",
        "--no-recurse-submodules",
        "--no-write-fetch-head",
        "--quiet",
        "--end-of-options",
        session.target.url,
        f"+refs/heads/{branch}:{LOCAL_REF}",
    ]
    try:
        result = session.run("fetch", args, cwd=mirror, watch=too_big)
    except _Stopped:
        shutil.rmtree(mirror, ignore_errors=True)
        raise
    if result.returncode != 0:
        raise CloneError(_explain(result.stderr, session, branch=branch))
    if _size(objects) - before > cap:
        shutil.rmtree(mirror, ignore_errors=True)
        raise CloneError(_too_large_message())


def _describe(mirror: Path, branch: str) -> Fetched:
    repo = Repo(mirror)
    try:
        commit = repo.commit(LOCAL_REF)
        author = f"{commit.author.name} <{commit.author.email}>" if commit.author.email else commit.author.name
        message = commit.message if isinstance(commit.message, str) else commit.message.decode("utf-8", "replace")
        return Fetched(sha=commit.hexsha, branch=branch, message=message.strip()[:5000], author=(author or "")[:200])
    finally:
        repo.close()


def _check_tree_size(mirror: Path, sha: str) -> None:
    # A few MB of pack can inflate to gigabytes on disk; the tree's blob sizes tell before writing anything.
    env = _local_env(scratch_dir())
    result = _run(["--git-dir", str(mirror), *_SAFE_CONFIG, "ls-tree", "-r", "-l", "-z", sha], env=env, cwd=mirror)
    if result.returncode != 0:
        raise CloneError("Git could not read the fetched commit. Start a new scan; the cache will be rebuilt.")
    total = 0
    for entry in result.stdout.split("\0"):
        fields = entry.split(None, 4)
        if len(fields) >= 4 and fields[3].isdigit():
            total += int(fields[3])
    if total > _cap_bytes():
        raise CloneError(_too_large_message())


def _size(path: Path) -> int:
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(FileNotFoundError):
                total += os.lstat(os.path.join(folder, name)).st_size
    return total


def _cap_bytes() -> int:
    return settings.GIT_MAX_MB * 1024 * 1024


def _too_large_message() -> str:
    return (
        f"The repository is larger than the {settings.GIT_MAX_MB} MB limit and was not scanned. Scan a smaller "
        "repository, or ask the operator to raise PREFLIGHT_GIT_MAX_MB."
    )


# -- explaining failures -----------------------------------------------------------

_AUTH = (
    "authentication failed",
    "could not read username",
    "could not read password",
    "permission denied (publickey",
    "permission denied, please try again",
    "http basic: access denied",
    "invalid username or password",
    "returned error: 401",
    "returned error: 403",
    "terminal prompts disabled",
    "access denied",
)
_NOT_FOUND = (
    "repository not found",
    "does not appear to be a git repository",
    "returned error: 404",
    "no such repository",
    "not found",
    "access denied or repository not exported",
)
_UNREACHABLE = (
    "connection refused",
    "failed to connect",
    "couldn't connect",
    "connection timed out",
    "operation timed out",
    "network is unreachable",
    "no route to host",
    "connection reset",
    "could not resolve",
)


def _missing_branch_message(branch: str) -> str:
    return (
        f"The branch '{branch}' does not exist in the repository. Fix the project's branch, or leave it empty for "
        "the default branch."
    )


def _explain(stderr: str, session: _GitSession, *, branch: str) -> str:
    text = stderr.lower()
    url = session.target.url
    has_credentials = session.credentials.kind != "none" and bool(session.credentials.secret)
    if "couldn't find remote ref" in text or "invalid refspec" in text:
        return _missing_branch_message(branch)
    if "host key verification failed" in text or "remote host identification has changed" in text:
        return (
            f"The SSH host key of {session.target.host} does not match the one seen on earlier scans. If the server "
            "really changed, ask the operator to clear the project's known hosts in the git cache."
        )
    if "returned error: 30" in text:
        return f"The server redirects {url} elsewhere. Enter the repository's current clone URL."
    if "certificate" in text and ("verif" in text or "problem" in text):
        return f"The TLS certificate of {session.target.host} is not valid, so the connection was refused."
    if any(pattern in text for pattern in _AUTH):
        if has_credentials:
            what = "token" if session.credentials.kind == "token" else "deploy key"
            return (
                f"Authentication failed: the server refused the project's {what}. Check that it is current and has "
                "read access to the repository, then save it again."
            )
        return (
            "The server asked for credentials: the repository is private, or the URL is wrong. Check the URL, or "
            "add an HTTPS access token or an SSH deploy key to the project."
        )
    if any(pattern in text for pattern in _UNREACHABLE):
        return f"Could not connect to {session.target.host}. Check the URL, or try again later if the server is down."
    if any(pattern in text for pattern in _NOT_FOUND):
        return (
            f"Repository not found at {url}. Check the URL; a private repository also needs an access token or "
            "deploy key."
        )
    return "Git could not fetch the repository. Check the URL and the branch, then start a new scan."
