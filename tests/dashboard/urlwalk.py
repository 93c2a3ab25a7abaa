"""Walking the whole URLconf, for the tests that check every view's access rules."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import IntConverter
from django.urls.resolvers import RoutePattern

_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>\w+)>")


@dataclass
class Route:
    name: str  # "namespace:name", or the route itself when the pattern has no name
    namespace: str  # "admin" for the admin's patterns, "" at the top level
    route: str  # the full route, e.g. "projects/<int:project_id>/scans/"
    converters: dict  # kwarg name -> converter
    regex: bool  # a regular-expression pattern somewhere on the way (the admin's, for one)

    @property
    def kwargs(self) -> list[str]:
        return list(self.converters)

    @property
    def int_kwargs(self) -> list[str]:
        return [name for name, conv in self.converters.items() if isinstance(conv, IntConverter)]

    def path(self, values: dict) -> str:
        def fill(match: re.Match) -> str:
            return self.converters[match["name"]].to_url(values[match["name"]])

        return "/" + _PARAM.sub(fill, self.route)


def all_routes() -> list[Route]:
    routes: list[Route] = []

    def walk(patterns, prefix: str, converters: dict, namespace: str, regex: bool) -> None:
        for entry in patterns:
            pattern = entry.pattern
            is_route = isinstance(pattern, RoutePattern)
            route = prefix + (pattern._route if is_route else str(pattern))
            found = {**converters, **(pattern.converters if is_route else {})}
            if isinstance(entry, URLResolver):
                inner = (
                    f"{namespace}:{entry.namespace}" if namespace and entry.namespace else entry.namespace or namespace
                )
                walk(entry.url_patterns, route, found, inner, regex or not is_route)
            elif isinstance(entry, URLPattern):
                name = (f"{namespace}:{entry.name}" if namespace else entry.name) if entry.name else route
                routes.append(
                    Route(name=name, namespace=namespace, route=route, converters=found, regex=regex or not is_route)
                )

    walk(get_resolver().url_patterns, "", {}, "", False)
    return routes
