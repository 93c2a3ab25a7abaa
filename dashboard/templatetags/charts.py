"""`{% load charts %}`: the SVG charts of dashboard.charts as template tags."""

from django import template

from dashboard.charts import history_chart_svg, sparkline_svg

register = template.Library()

register.simple_tag(sparkline_svg, name="sparkline")
register.simple_tag(history_chart_svg, name="history_chart")
