from __future__ import annotations

from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

from django.template import Context, Template

from dashboard.charts import history_chart_svg, sparkline_svg

SVG = "{http://www.w3.org/2000/svg}"


def test_it_draws_a_sparkline_with_one_point_per_score():
    svg = ElementTree.fromstring(sparkline_svg([40, 60, 100]))
    points = svg.find(f"{SVG}polyline").get("points").split()
    assert len(points) == 3
    ys = [float(point.split(",")[1]) for point in points]
    assert ys[0] > ys[1] > ys[2]  # higher scores are drawn higher
    assert "40, 60, 100" in svg.get("aria-label")


def test_it_draws_nothing_without_scores():
    assert sparkline_svg([]) == ""
    assert history_chart_svg([]) == ""


def test_it_draws_the_history_over_time_with_a_dot_per_scan():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    points = [(start, 30), (start + timedelta(days=1), 50), (start + timedelta(days=10), 90)]
    svg = ElementTree.fromstring(history_chart_svg(points))
    dots = svg.findall(f"{SVG}circle")
    assert [dot.find(f"{SVG}title").text for dot in dots] == [
        "2026-01-01 00:00 · 30",
        "2026-01-02 00:00 · 50",
        "2026-01-11 00:00 · 90",
    ]
    xs = [float(dot.get("cx")) for dot in dots]
    assert xs[1] - xs[0] < xs[2] - xs[1]  # spaced by time, not by index
    assert svg.find(f"{SVG}line[@class='threshold']") is not None


def test_it_is_available_as_template_tags():
    html = Template("{% load charts %}{% sparkline scores %}").render(Context({"scores": [10, 20]}))
    assert html.startswith('<svg class="sparkline"')
