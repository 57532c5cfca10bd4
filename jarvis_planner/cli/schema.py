"""`jarvis schema`: the plan JSON Schema."""

from __future__ import annotations


def schema() -> None:
    """Print the plan JSON Schema."""
    import json

    from planner.plan import plan_json_schema

    print(json.dumps(plan_json_schema(), indent=2))
