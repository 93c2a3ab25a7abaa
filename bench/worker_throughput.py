"""Scans per minute through real Celery workers, and what an unchanged re-scan costs next to a first scan.

    DATABASE_URL=postgresql://... REDIS_URL=redis://... python bench/worker_throughput.py [--repos N] [--processes 1,2]

It builds N small Flask repositories, serves them with `git daemon` on
loopback, and for each worker size starts `celery -A workers.celery:app
worker --concurrency P` on a queue of its own, sends one scan per repository
(fresh projects and an empty git cache, so every scan fetches and analyzes)
and times until the last one is stored. Then, in this process, it times the
pipeline on a first scan of a repository and on a re-scan of the same
unchanged commit (a shallow fetch that finds nothing new, and the previous
result reused). The run uses its own database, `<name>_bench` on the
DATABASE_URL server, created and dropped here; no pass mark, the figures are
for reading.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def flask_repo(index: int) -> dict[str, str]:
    """A small but realistic app: a factory, blueprints, config, a Procfile; a few findings to store."""
    files = {
        "Procfile": "web: gunicorn 'shop:create_app()'\n",
        "requirements.txt": "flask==3.0.3\ngunicorn==22.0.0\nflask-sqlalchemy==3.1.1\n",
        "shop/__init__.py": (
            "import os\n\nfrom flask import Flask\n\nfrom shop.config import Config\n\n\n"
            "def create_app():\n    app = Flask(__name__)\n    app.config.from_object(Config)\n"
            "    from shop.views import bp\n\n    app.register_blueprint(bp)\n    return app\n"
        ),
        "shop/config.py": (
            "import os\n\n\nclass Config:\n"
            f"    SECRET_KEY = 'not-so-secret-{index}'\n"
            "    SQLALCHEMY_DATABASE_URI = os.environ.get('DATABASE_URL', 'sqlite:///shop.db')\n"
        ),
        "shop/views.py": (
            "from flask import Blueprint, render_template\n\nbp = Blueprint('shop', __name__)\n\n\n"
            "@bp.route('/')\ndef index():\n    return render_template('index.html')\n"
        ),
        "shop/templates/index.html": "<h1>Shop</h1>\n",
    }
    for module in range(8):
        files[f"shop/service_{module}.py"] = "".join(
            f"def handler_{n}(payload):\n    return {{'id': {n}, 'payload': payload}}\n\n\n" for n in range(20)
        )
    return files


def bench_database(database_url: str) -> str:
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(database_url)
    name = f"{config['NAME']}_bench"
    admin = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    return database_url.rsplit("/", 1)[0] + f"/{name}"


def drop_database(database_url: str) -> None:
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    admin = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_worker(queue: str, concurrency: int, log: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workers.celery:app",
            "worker",
            "--queues",
            queue,
            "--concurrency",
            str(concurrency),
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel",
            "INFO",
        ],
        cwd=REPO,
        env=os.environ.copy(),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while "ready." not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the worker did not start:\n{log.read_text()}")
        time.sleep(0.1)
    return process


def forget_queue(queue: str) -> None:
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    for key in client.scan_iter(f"*{queue}*"):
        client.delete(key)
    client.close()


def throughput(daemon, names: list[str], team, concurrency: int, scratch: Path) -> tuple[float, int]:
    from django.conf import settings

    from dashboard.models import Project, Scan, ScanStatus
    from workers.tasks import scan_project

    settings.GIT_CACHE_DIR = scratch / f"cache-{concurrency}"
    os.environ["PREFLIGHT_GIT_CACHE"] = str(settings.GIT_CACHE_DIR)
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    scans = [
        Scan.objects.create(
            project=Project.objects.create(team=team, name=f"{name}-{concurrency}", repo_url=daemon.url(name))
        )
        for name in names
    ]
    warm_up = [
        Scan.objects.create(project=Project.objects.create(team=team, name=f"warm-{n}-{concurrency}", repo_url=url))
        for n, url in enumerate(daemon.url(name) for name in names[: concurrency * 2])
    ]
    worker = start_worker(queue, concurrency, scratch / f"worker-{concurrency}.log")

    def run(batch: list) -> float:
        started = time.monotonic()
        for scan in batch:
            scan_project.apply_async((scan.pk,), queue=queue)
        ids = [scan.pk for scan in batch]
        while Scan.objects.filter(pk__in=ids, status__in=[ScanStatus.QUEUED, ScanStatus.RUNNING]).exists():
            time.sleep(0.05)
        return time.monotonic() - started

    try:
        # Every pool process imports the analyzer and opens its database connection before the clock starts.
        run(warm_up)
        elapsed = run(scans)
        ids = [scan.pk for scan in scans]
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        forget_queue(queue)
    failed = Scan.objects.filter(pk__in=ids, status=ScanStatus.FAILED).count()
    return elapsed, failed


def rescan_cost(daemon, names: list[str], team, scratch: Path) -> tuple[list[float], list[float]]:
    from django.conf import settings

    from dashboard.models import Project, Scan
    from workers import pipeline

    settings.GIT_CACHE_DIR = scratch / "cache-rescan"
    first, again = [], []
    for name in names:
        project = Project.objects.create(team=team, name=f"{name}-rescan", repo_url=daemon.url(name))
        for timings in (first, again):
            scan = Scan.objects.create(project=project)
            started = time.perf_counter()
            assert pipeline.scan_project(scan.pk) == "succeeded", Scan.objects.get(pk=scan.pk).error
            timings.append(time.perf_counter() - started)
    return first, again


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repos", type=int, default=50)
    parser.add_argument("--processes", default="1,2", help="worker concurrencies to time, comma-separated")
    parser.add_argument("--rescan-samples", type=int, default=10)
    options = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get("REDIS_URL"):
        raise SystemExit("Set DATABASE_URL (Postgres) and REDIS_URL: the benchmark runs real workers on them.")

    scratch = Path(tempfile.mkdtemp(prefix="preflight-bench-"))
    os.environ["DATABASE_URL"] = bench_database(os.environ["DATABASE_URL"])
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "dashboard.settings",
            "PREFLIGHT_LOCAL": "1",
            "PREFLIGHT_ALLOW_LOOPBACK_GIT": "1",
            "PREFLIGHT_VAR_DIR": str(scratch / "var"),
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    from dashboard.models import Team
    from tests.workers.gitservers import GitDaemon, make_repo

    call_command("migrate", verbosity=0)
    served = scratch / "served"
    served.mkdir()
    names = [f"app{index:03d}" for index in range(options.repos)]
    for index, name in enumerate(names):
        make_repo(served, name, flask_repo(index))
    daemon = GitDaemon(served)
    team = Team.objects.create(name="Bench")
    try:
        print(
            f"{options.repos} repositories of {len(flask_repo(0))} files, git daemon on loopback, {os.cpu_count()} CPUs"
        )
        rates = {}
        for concurrency in (int(value) for value in options.processes.split(",")):
            elapsed, failed = throughput(daemon, names, team, concurrency, scratch)
            rates[concurrency] = options.repos / elapsed * 60
            note = f", {failed} failed" if failed else ""
            print(
                f"  {concurrency} worker process(es): {elapsed:6.2f} s for {options.repos} scans = "
                f"{rates[concurrency]:6.0f} scans/min{note}"
            )
        if len(rates) > 1:
            low, high = min(rates), max(rates)
            print(f"  speed-up {low} -> {high} processes: {rates[high] / rates[low]:.2f}x")
        first, again = rescan_cost(daemon, names[: options.rescan_samples], team, scratch)
        first_ms, again_ms = statistics.median(first) * 1000, statistics.median(again) * 1000
        print(f"first scan (fetch + checkout + analyze + store), median of {len(first)}: {first_ms:7.1f} ms")
        print(f"re-scan of the unchanged commit (fetch + reuse),  median of {len(again)}: {again_ms:7.1f} ms")
        print(f"  re-scan / first scan: {again_ms / first_ms:.2f}  ({first_ms / again_ms:.1f}x faster)")
    finally:
        daemon.stop()
        from django.db import connections

        connections.close_all()
        drop_database(os.environ["DATABASE_URL"])


if __name__ == "__main__":
    main()
