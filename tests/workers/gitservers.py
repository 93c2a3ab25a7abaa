"""Real git servers on loopback for the worker tests and the benchmark.

- `GitDaemon`: `git daemon` serving public repositories over git://.
- `GitHTTPServer`: `git http-backend` behind a small HTTP server that demands
  basic auth (the password is the token, as on GitHub).
- `make_repo` / `commit`: bare repositories built with the git command line.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

TOKEN = "pf-test-token-7Hq2xZ9wLm"
FLASK_APP = {
    "app.py": "from flask import Flask\n\napp = Flask(__name__)\n\n\n@app.route('/')\ndef index():\n    return 'hi'\n",
    "requirements.txt": "flask==3.0.3\n",
}
DEPLOY_KEY = """-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACBkZXBsb3kta2V5LWZvci10ZXN0cy1vbmx5LW5vdC1yZWFsAAAAEHByZWZs
-----END OPENSSH PRIVATE KEY-----"""
GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_AUTHOR_NAME": "Ada Lovelace",
    "GIT_AUTHOR_EMAIL": "ada@example.org",
    "GIT_COMMITTER_NAME": "Ada Lovelace",
    "GIT_COMMITTER_EMAIL": "ada@example.org",
}


def git(*args: str, cwd: Path | None = None) -> str:
    env = {**os.environ, **GIT_ENV}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def _write(folder: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def make_repo(
    root: Path, name: str, files: dict[str, str | bytes], *, branch: str = "main", message: str = "First"
) -> Path:
    """A bare repository `root/<name>.git` with one commit of `files` on `branch` (its HEAD)."""
    bare = root / f"{name}.git"
    with tempfile.TemporaryDirectory(prefix="work-") as work:
        work_path = Path(work)
        git("init", "-q", "-b", branch, str(work_path))
        _write(work_path, files)
        git("add", "-A", cwd=work_path)
        git("commit", "-q", "-m", message, cwd=work_path)
        git("clone", "-q", "--bare", str(work_path), str(bare))
    return bare


def commit(bare: Path, files: dict[str, str | bytes], *, branch: str = "main", message: str = "Change") -> str:
    """Add a commit of `files` to `branch` of the bare repository; its sha."""
    with tempfile.TemporaryDirectory(prefix="work-") as work:
        work_path = Path(work) / "w"
        git("clone", "-q", "--no-checkout", str(bare), str(work_path))
        existing = git("ls-remote", "--heads", str(bare), branch).strip()
        git(
            "checkout", "-q", *(["-B", branch, f"origin/{branch}"] if existing else ["--orphan", branch]), cwd=work_path
        )
        _write(work_path, files)
        git("add", "-A", cwd=work_path)
        git("commit", "-q", "-m", message, cwd=work_path)
        git("push", "-q", "origin", f"HEAD:refs/heads/{branch}", cwd=work_path)
        return git("rev-parse", "HEAD", cwd=work_path).strip()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


class GitDaemon:
    """`git daemon` exporting every repository under `root` at git://127.0.0.1:<port>/<name>.git."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                "git",
                "daemon",
                "--reuseaddr",
                "--export-all",
                "--informative-errors",
                f"--base-path={root}",
                "--listen=127.0.0.1",
                f"--port={self.port}",
                str(root),
            ],
            env={**os.environ, **GIT_ENV},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def url(self, name: str) -> str:
        return f"git://127.0.0.1:{self.port}/{name}.git"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


class _GitHandler(BaseHTTPRequestHandler):
    server: GitHTTPServer

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: object) -> None:
        self.server.requests.append(format % args)

    def _serve(self) -> None:
        path, _, query = self.path.partition("?")
        for old, new in self.server.redirects.items():
            if path.startswith(old):
                self.send_response(301)
                self.send_header("Location", new + path[len(old) :] + (f"?{query}" if query else ""))
                self.end_headers()
                return
        user = self._authorised_user()
        if user is None:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.end_headers()
            self.wfile.write(b"Authentication required\n")
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        env = {
            **os.environ,
            **GIT_ENV,
            "GIT_PROJECT_ROOT": str(self.server.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "REQUEST_METHOD": self.command,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
            "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
            "REMOTE_USER": user,
            "REMOTE_ADDR": "127.0.0.1",
        }
        output = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True).stdout
        head, _, payload = output.partition(b"\r\n\r\n")
        status = 200
        headers = []
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            elif name:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _authorised_user(self) -> str | None:
        if self.server.password is None:
            return "anonymous"
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return None
        self.server.attempts.append((user, password))
        return user if password == self.server.password else None


class GitHTTPServer(ThreadingHTTPServer):
    """`git http-backend` for the repositories under `root`; with a password, basic auth is required."""

    daemon_threads = True

    def __init__(self, root: Path, password: str | None) -> None:
        super().__init__(("127.0.0.1", 0), _GitHandler)
        self.root = root
        self.password = password
        self.redirects: dict[str, str] = {}
        self.requests: list[str] = []
        self.attempts: list[tuple[str, str]] = []
        self.port = self.server_address[1]
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}.git"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


FAKE_SSH = r'''#!{python}
"""Stands in for ssh: checks the identity file against the authorised key, then runs git-upload-pack locally."""
import json, os, shlex, stat, subprocess, sys

args = sys.argv[1:]
record = {{"argv": args, "key_mode": None}}
key = args[args.index("-i") + 1] if "-i" in args else None
authorised = open(os.environ["FAKE_SSH_AUTHORIZED"]).read().strip()
offered = open(key).read().strip() if key else ""
if key:
    record["key_mode"] = stat.S_IMODE(os.stat(key).st_mode)
    record["key_path"] = key
with open(os.environ["FAKE_SSH_LOG"], "a") as log:
    log.write(json.dumps(record) + "\n")
if offered != authorised:
    sys.stderr.write("git@127.0.0.1: Permission denied (publickey).\r\n")
    sys.exit(255)
program, path = shlex.split(args[-1])
sys.exit(subprocess.call([program, os.path.join(os.environ["FAKE_SSH_ROOT"], path.lstrip("/"))]))
'''


def install_fake_ssh(bin_dir: Path, python: str) -> Path:
    bin_dir.mkdir(parents=True, exist_ok=True)
    script = bin_dir / "ssh"
    script.write_text(FAKE_SSH.format(python=python))
    script.chmod(0o755)
    return script
