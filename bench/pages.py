"""Server time of the team overview and the project page on a large data set, next to a trivial view.

    DATABASE_URL=postgresql://... python bench/pages.py [--projects 1000] [--scans 100] [--findings 20]
                                                        [--requests 50] [--allow-sqlite]

Seeds a team named after the sizes ("Bench 1000x100x20") with `manage.py
seed_demo` unless the database already holds it, then requests each page
through Django's test Client, in process, as a logged-in owner of that team:
the whole middleware stack, the views, the queries and the template
rendering, without a network or a WSGI server in the way. `/healthz/` (a view
that returns "ok") is measured in the same rounds, interleaved with the
pages, so the ratios compare like with like. The project page is requested for
a spread of projects (worst to best). Prints median and p95 per page, the ratio
of each median to the trivial view's, and the page's SQL query count and size.
No pass mark: the figures are for reading.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--projects", type=int, default=1000)
    parser.add_argument("--scans", type=int, default=100, help="scans per project")
    parser.add_argument("--findings", type=int, default=20, help="findings per scan")
    parser.add_argument("--requests", type=int, default=50, help="timed requests per page")
    parser.add_argument("--allow-sqlite", action="store_true", help="run without DATABASE_URL (figures mean little)")
    options = parser.parse_args()

    if not os.environ.get("DATABASE_URL") and not options.allow_sqlite:
        parser.error("set DATABASE_URL to a Postgres database (or pass --allow-sqlite)")
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("PREFLIGHT_LOCAL", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

    import django

    django.setup()

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from dashboard.models import Finding, Membership, Project, Role, Scan, Team

    call_command("migrate", verbosity=0)
    name = f"Bench {options.projects}x{options.scans}x{options.findings}"
    team = Team.objects.filter(name=name).order_by("pk").first()
    if team is None or Project.objects.filter(team=team).count() < options.projects:
        print(f"seeding {name!r} ...", flush=True)
        started = time.monotonic()
        call_command(
            "seed_demo",
            projects=options.projects - (Project.objects.filter(team=team).count() if team else 0),
            scans_per_project=options.scans,
            findings_per_scan=options.findings,
            team=name,
            seed=1,
        )
        print(f"seeded in {time.monotonic() - started:.0f} s")
        team = Team.objects.get(name=name)
    else:
        print(f"reusing the seeded team {name!r}")

    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"email": "bench@example.org"})
    Membership.objects.get_or_create(user=user, team=team, defaults={"role": Role.OWNER})
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    session = client.session
    session["team_id"] = team.pk
    session.save()

    projects = list(
        Project.objects.filter(team=team, last_scan__score__isnull=False)
        .order_by("last_scan__score", "pk")
        .values_list("pk", flat=True)
    )
    sample = [projects[round(i * (len(projects) - 1) / 19)] for i in range(20)] if projects else []
    rng = random.Random(1)
    pages = {
        "trivial view (/healthz/)": lambda: reverse("healthz"),
        "team overview (home)": lambda: reverse("home"),
        "project page (project)": lambda: reverse("project", kwargs={"project_id": rng.choice(sample)}),
    }

    facts = {}
    for label, url in pages.items():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url())
        if response.status_code != 200:
            raise SystemExit(f"{label}: {response.status_code} for {response.request['PATH_INFO']}")
        facts[label] = (len(queries), len(response.content))
        for _ in range(3):
            client.get(url())

    timings: dict[str, list[float]] = {label: [] for label in pages}
    for _ in range(options.requests):
        order = list(pages.items())
        rng.shuffle(order)
        for label, url in order:
            path = url()
            started = time.perf_counter()
            response = client.get(path)
            timings[label].append(time.perf_counter() - started)
            assert response.status_code == 200, (path, response.status_code)

    data = {
        "projects": Project.objects.filter(team=team).count(),
        "scans": Scan.objects.filter(project__team=team).count(),
        "findings": Finding.objects.filter(scan__project__team=team).count(),
    }
    print(f"\n{connection.vendor}; team data: " + ", ".join(f"{count:,} {what}" for what, count in data.items()))
    print(f"Django test Client in process, {options.requests} requests per page, interleaved\n")
    base = statistics.median(timings["trivial view (/healthz/)"])
    print(f"{'page':28} {'median':>9} {'p95':>9} {'x trivial':>10} {'queries':>8} {'KB':>7}")
    for label, values in timings.items():
        median, p95 = statistics.median(values), percentile(values, 0.95)
        queries, size = facts[label]
        ratio = median / base
        print(f"{label:28} {median * 1000:7.1f}ms {p95 * 1000:7.1f}ms {ratio:9.1f}x {queries:8d} {size / 1024:7.0f}")


if __name__ == "__main__":
    main()
