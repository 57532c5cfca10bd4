"""Reading a workflow's history in tests: which activities it ran, regular or local."""

from __future__ import annotations

import json

from temporalio.client import WorkflowHistory

LOCAL_ACTIVITY_MARKER = "core_local_activity"


def activities_run(history: WorkflowHistory) -> list[str]:
    """The activity types the history records, in order: each scheduled regular activity and
    each local activity's marker (its details name the type)."""
    found = []
    for event in history.events:
        if event.HasField("activity_task_scheduled_event_attributes"):
            found.append(event.activity_task_scheduled_event_attributes.activity_type.name)
        elif (event.HasField("marker_recorded_event_attributes")
              and event.marker_recorded_event_attributes.marker_name == LOCAL_ACTIVITY_MARKER):
            data = event.marker_recorded_event_attributes.details["data"].payloads[0].data
            found.append(json.loads(data)["activity_type"])
    return found
