"""The typed contracts between the layers and with running workflows: workflow and activity
inputs and outputs (one model each), the queryable states, the event log, payload handles, token
usage, and every durable name (:mod:`planner.contracts.names`). Pure pydantic models."""
