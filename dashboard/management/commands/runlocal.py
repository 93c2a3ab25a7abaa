"""Start Preflight on its embedded defaults: web, worker and scheduler together.

SQLite and a Celery broker on the filesystem, so nothing else has to run.
Ctrl-C stops all three. With DATABASE_URL and REDIS_URL set, the same
processes run on Postgres and Redis.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Migrate, then run web + worker + scheduler until Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
        parser.add_argument("--host", default="127.0.0.1")

    def handle(self, *args, port: int, host: str, **options):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        python = sys.executable
        env = {**os.environ, "PREFLIGHT_LOCAL": os.environ.get("PREFLIGHT_LOCAL", "1")}
        commands = {
            "web": [python, "-m", "gunicorn", "dashboard.wsgi", "--bind", f"{host}:{port}", "--workers", "2"],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "workers",
                "worker",
                "--queues",
                "scans,email",
                "--concurrency",
                "2",
            ],
            "beat": [
                python,
                "-m",
                "celery",
                "-A",
                "workers",
                "beat",
                "--schedule",
                settings.CELERY_BEAT_SCHEDULE_FILENAME,
            ],
        }
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        # Handlers first: a Ctrl-C while the children start must still stop them all.
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        processes: dict[str, subprocess.Popen] = {}
        try:
            for name, argv in commands.items():
                processes[name] = subprocess.Popen(argv, env=env)
            self.stdout.write(
                self.style.SUCCESS(f"Preflight is running: open http://{host}:{port}/  (Ctrl-C stops it)")
            )
            while not stopping:
                for name, process in processes.items():
                    if process.poll() is not None:
                        self.stderr.write(f"{name} exited with status {process.returncode}; stopping the others")
                        stopping = True
                time.sleep(0.5)
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.terminate()
            for process in processes.values():
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
