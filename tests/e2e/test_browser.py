"""A first user's whole journey in a real browser, with a real worker scanning a repository from a real git server.

Set up Preflight, register the repository, scan it and watch the progress bar,
open a finding, copy its patch and apply it to the repository, scan again and
see the fix in the score history.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.workers.gitservers import git, make_repo

pytestmark = pytest.mark.django_db(transaction=True)

SHOP = {
    "app.py": (
        "from flask import Flask\n"
        "\n"
        "app = Flask(__name__)\n"
        'app.config["SECRET_KEY"] = "dev-secret-value-123"\n'
        "\n"
        "\n"
        '@app.route("/")\n'
        "def index():\n"
        '    return "Hello from the shop"\n'
    ),
    # gunicorn starts the app but the build never installs it: PF202, whose fix is a patch.
    "Procfile": "web: gunicorn app:app\n",
    "requirements.txt": "flask==3.0.3\n",
}
PASSWORD = "a-long-browser-test-password"
SCAN_TIMEOUT = 90_000


def _scan_and_watch_the_progress_bar(page: Page) -> None:
    page.get_by_role("button", name="Scan now").click()
    progress = page.get_by_role("progressbar", name="Scan progress")
    expect(progress).to_be_visible()
    # The bar moves without a reload: the worker's stages show up as it goes.
    expect(page.locator("[data-stage]")).to_have_text("analyzing", timeout=SCAN_TIMEOUT)
    expect(progress).to_have_attribute("aria-valuenow", "100", timeout=SCAN_TIMEOUT)
    expect(page.locator("[data-progress-url]")).to_have_attribute("data-finished", "succeeded")
    # Then the page reloads with the result, and the bar is gone.
    expect(progress).to_have_count(0, timeout=SCAN_TIMEOUT)


def _apply(patch: str, bare: Path, work: Path) -> None:
    git("clone", "-q", str(bare), str(work))
    (work / "preflight.patch").write_text(patch)
    git("apply", "preflight.patch", cwd=work)
    (work / "preflight.patch").unlink()
    git("commit", "-q", "-am", "Declare gunicorn, as Preflight suggests", cwd=work)
    git("push", "-q", "origin", "HEAD", cwd=work)


def test_it_takes_the_first_user_from_setup_to_a_fixed_finding(page, live_server, scan_worker, git_server, tmp_path):
    bare = make_repo(git_server.root, "shop", SHOP, message="Flask shop")

    # 1. The first visitor sets Preflight up: the admin account and the first team.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/setup/$"))
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Email").fill("ada@example.org")
    page.get_by_label("Password:", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_label("Team name").fill("Shop team")
    page.get_by_role("button", name="Create the account and the team").click()
    expect(page.get_by_role("heading", name="Shop team")).to_be_visible()

    # 2. She registers the repository that the local git server serves.
    page.get_by_role("link", name="Add a project").click()
    page.get_by_label("Repository URL").fill(git_server.url("shop"))
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("heading", name="shop")).to_be_visible()
    expect(page.get_by_text("Not scanned yet")).to_be_visible()

    # 3. She starts a scan and watches it finish.
    _scan_and_watch_the_progress_bar(page)
    expect(page.locator(".result .score")).to_have_text("19/100")
    expect(page.locator(".start-command code")).to_have_text("gunicorn app:app")

    # 4. She opens the PF202 finding, copies its patch and downloads it.
    finding = page.locator("details.finding[data-rule='PF202']")
    finding.locator(":scope > summary").click()
    patch_box = finding.locator("pre.patch")
    expect(patch_box).to_be_visible()
    expect(patch_box).to_contain_text("+gunicorn")
    finding.get_by_role("button", name="Copy patch").click()
    expect(finding.get_by_role("button", name="Copied")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("diff --git a/requirements.txt b/requirements.txt")
    assert copied == patch_box.text_content()

    with page.expect_download() as download_info:
        finding.get_by_role("button", name="Download").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".patch")
    assert Path(download.path()).read_text() == copied

    # The copied patch applies to the repository as it is: she commits and pushes it.
    _apply(copied, bare, tmp_path / "work")

    # 5. A second scan: the finding is fixed, and the history chart shows both scores.
    _scan_and_watch_the_progress_bar(page)
    expect(page.locator(".result .score")).to_have_text("59/100")
    expect(page.locator("details.finding[data-rule='PF202']")).to_have_count(0)
    chart = page.locator("section.history svg.history-chart")
    expect(chart).to_be_visible()
    expect(chart).to_have_attribute("data-points", "2")
    expect(chart.locator("circle")).to_have_count(2)
    expect(chart).to_have_attribute("aria-label", re.compile(r"latest score 59"))
    scans = page.locator("#scans tbody tr")
    expect(scans).to_have_count(2)
    expect(scans.locator("td:nth-child(2)")).to_have_text(["Succeeded", "Succeeded"])
    expect(scans.locator("td:nth-child(5)")).to_have_text(["59", "19"])

    page.get_by_role("link", name="what changed").click()
    expect(page.locator("#changes")).to_contain_text("score 19 → 59")
    expect(page.locator("#changes details.finding[data-rule='PF202']")).to_have_count(1)
