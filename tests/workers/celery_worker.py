"""A real Celery worker for the tests: `python -m tests.workers.celery_worker QUEUE NAME`.

Environment knobs, all optional:
- PREFLIGHT_TEST_KEY_PREFIX: a Redis key prefix, so the test's messages and
  unacked bookkeeping are its own even on a shared Redis;
- PREFLIGHT_TEST_VISIBILITY_TIMEOUT: seconds before an unacknowledged message
  is handed out again (short, so a killed worker's scan comes back quickly);
- PREFLIGHT_TEST_SLOW_ANALYSIS: seconds the analysis sleeps first, so a test
  can kill the worker mid-scan; with PREFLIGHT_TEST_SLOW_ONCE (a file path),
  only the first analysis sleeps.
"""

from __future__ import annotations

import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
django.setup()

from workers import pipeline  # noqa: E402
from workers.celery import app  # noqa: E402


def main(queue: str, name: str) -> None:
    options = dict(app.conf.broker_transport_options or {})
    if os.environ.get("PREFLIGHT_TEST_KEY_PREFIX"):
        options["global_keyprefix"] = os.environ["PREFLIGHT_TEST_KEY_PREFIX"]
    if os.environ.get("PREFLIGHT_TEST_VISIBILITY_TIMEOUT"):
        options["visibility_timeout"] = float(os.environ["PREFLIGHT_TEST_VISIBILITY_TIMEOUT"])
    app.conf.broker_transport_options = options

    slow = float(os.environ.get("PREFLIGHT_TEST_SLOW_ANALYSIS") or 0)
    if slow:
        analyze = pipeline.analyze

        once = os.environ.get("PREFLIGHT_TEST_SLOW_ONCE")

        def slow_analyze(*args, **kwargs):
            if not (once and os.path.exists(once)):
                if once:
                    open(once, "w").close()
                time.sleep(slow)
            return analyze(*args, **kwargs)

        pipeline.analyze = slow_analyze

    app.worker_main(
        [
            "worker",
            "--queues",
            queue,
            "--hostname",
            f"{name}@%h",
            "--concurrency",
            "1",
            "--pool",
            "prefork",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel",
            "INFO",
        ]
    )


if __name__ == "__main__":
    main(*sys.argv[1:3])
