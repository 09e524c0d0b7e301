"""Stable, readable OpenAPI operationIds (FastAPI's default glues the path on:
``history_v1_resident_meters__meter_id__readings_get``).

The id is the route's module and function, ``resident_meters_history``; the module prefix is
dropped where the function already starts with it (``health``, ``login``). Renaming a route
function changes its id; tests/api/test_operation_ids.py holds the committed list so that is
a deliberate change.
"""

from __future__ import annotations

from fastapi.routing import APIRoute


def operation_id(route: APIRoute) -> str:
    module = route.endpoint.__module__.rsplit(".", 1)[-1]
    name = route.name
    return name if name == module or name.startswith(module + "_") else f"{module}_{name}"


__all__ = ["operation_id"]
