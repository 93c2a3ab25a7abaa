from __future__ import annotations

import re

import pytest

from analyzer.rules import catalog
from dashboard.markdown import render, render_inline

FAMILIES = [
    "Start command",
    "Dependencies and build",
    "Secrets and debug",
    "Database",
    "Static files and proxy",
    "Processes and migrations",
    "Leaving Heroku",
]


def _sections(html: str) -> dict[str, str]:
    """Family heading -> that family's section of the page."""
    parts = re.split(r'<section class="card rule-family" id="pf\d">', html)[1:]
    return {re.search(r"<h2>(.+?) <span", part).group(1): part for part in parts}


def test_it_lists_every_rule_grouped_by_family(client, vic):
    client.force_login(vic)
    sections = _sections(client.get("/rules/").content.decode())
    assert list(sections) == FAMILIES
    for rule in catalog().rules:
        section = sections[FAMILIES[int(rule.id[2]) - 1]]
        assert f'<a href="/rules/{rule.id}/">{rule.id}</a>' in section
        assert rule.title in section


def test_it_shows_severity_and_summary_with_inline_code(client, bob):
    client.force_login(bob)
    html = client.get("/rules/").content.decode()
    row = re.search(r'<tr>\s*<td><a href="/rules/PF305/">PF305</a>.*?</tr>', html, re.S).group(0)
    severity = catalog().by_id("PF305").severity.value
    assert f'<td class="sev-{severity}">{severity}</td>' in row
    assert "Flags a committed <code>.env</code>" in row


def test_it_needs_a_login(client, alice):
    for path in ("/rules/", "/rules/PF101/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_it_shows_a_rule_with_its_guidance_severity_slug_and_examples(client, charlie):
    client.force_login(charlie)
    response = client.get("/rules/PF101/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "PF101 · No start command" in html
    assert "<strong>blocker</strong>" in html and "<code>no-start-command</code>" in html
    assert '<h2 id="what-it-does">What it does</h2>' in html
    assert "<code>deploy.startCommand</code>" in html
    assert "<pre><code>" in html and "web: gunicorn wsgi:app" in html
    rule = catalog().by_id("PF101")
    assert f"Flagged ({len(rule.INVALID)})" in html and f"Not flagged ({len(rule.VALID)})" in html
    assert "<figcaption><code>Procfile</code></figcaption>" in html
    assert "web: gunicorn app:app" in html


def test_it_shows_an_examples_app_root_and_railway_settings(client, alice):
    rule = next(
        r
        for r in catalog().rules
        if any(e.platform for e in r.INVALID) and any(e.app_root != "." for e in r.VALID + r.INVALID)
    )
    client.force_login(alice)
    html = client.get(f"/rules/{rule.id}/").content.decode()
    assert "Railway setting <code>" in html
    assert "<dt>App root</dt>" in html


def test_it_answers_404_for_an_unknown_rule(client, alice):
    client.force_login(alice)
    assert client.get("/rules/PF999/").status_code == 404
    assert client.get("/rules/<script>/").status_code == 404


def test_it_redirects_a_lowercase_rule_id(client, alice):
    client.force_login(alice)
    response = client.get("/rules/pf101/")
    assert response.status_code == 302 and response["Location"] == "/rules/PF101/"


def test_it_refuses_to_change_anything(client, alice):
    client.force_login(alice)
    assert client.post("/rules/").status_code == 405
    assert client.post("/rules/PF101/").status_code == 405


@pytest.mark.parametrize(
    ("text", "html"),
    [
        (
            "## What it does\nFlags `app.run()`.",
            '<h2 id="what-it-does">What it does</h2>\n<p>Flags <code>app.run()</code>.</p>',
        ),
        ("one\nparagraph\n\ntwo", "<p>one paragraph</p>\n<p>two</p>"),
        (
            "- a\n- b\n  continued\n\n1. first\n2. second",
            "<ul><li>a</li><li>b continued</li></ul>\n<ol><li>first</li><li>second</li></ol>",
        ),
        ("Intro:\n- item", "<p>Intro:</p>\n<ul><li>item</li></ul>"),
        (
            "```python\nif a < b:\n    x = `y`\n```",
            '<pre><code class="language-python">if a &lt; b:\n    x = `y`</code></pre>',
        ),
        ("```\n# not a heading\n- not a list", "<pre><code># not a heading\n- not a list</code></pre>"),
    ],
)
def test_it_renders_the_guidance_markdown(text, html):
    assert render(text) == html


def test_it_escapes_everything_it_renders():
    html = render(
        '# <img src=x onerror=alert(1)>\n<script>alert("x")</script> `<b>` **bold** [l](javascript:x)\n```"><svg>\n<i>\n```'
    )
    assert (
        "<script" not in html and "<img" not in html and "<svg" not in html and "<b>" not in html and "<i>" not in html
    )
    assert "&lt;script&gt;" in html and "<code>&lt;b&gt;</code>" in html
    assert 'class="language-' not in html
    assert render_inline("a & `<x>` & b") == "a &amp; <code>&lt;x&gt;</code> &amp; b"


def test_it_renders_every_rules_guidance_with_its_fixed_headings():
    for rule in catalog().rules:
        html = render(rule.guidance())
        for anchor in ("what-it-does", "why-is-this-bad", "example", "use-instead", "how-to-fix", "references"):
            assert f'id="{anchor}"' in html, (rule.id, anchor)
        assert html.count("<pre>") == html.count("</pre>")


def test_it_serves_a_page_for_every_rule(client, bob):
    client.force_login(bob)
    for rule in catalog().rules:
        response = client.get(f"/rules/{rule.id}/")
        assert response.status_code == 200, rule.id
        assert f"{rule.id} · {rule.title}" in response.content.decode()
