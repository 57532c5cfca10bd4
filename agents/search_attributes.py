"""The goal's search attributes (names in planner.contracts.names): typed keys, what a goal
upserts at each stage, and registering them in a namespace.

Operators find goals with them in the Temporal UI and the stock CLI, e.g.
``temporal workflow list --query 'JarvisStage="failed"'``. A namespace must have them
registered before a workflow upserts them (else its task fails): the embedded dev server starts
with ``--search-attribute`` flags (agents/devserver.py), ``register`` adds missing ones through
the operator API, and clients ask goals to upsert only when the namespace has them all
(``GoalInput.index``).
"""

from __future__ import annotations

from typing import Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import SearchAttributeKey, SearchAttributeUpdate

from planner.contracts.goal_flow import GoalState
from planner.contracts.names import (
    COST_ATTRIBUTE,
    RISK_ATTRIBUTE,
    SEARCH_ATTRIBUTES,
    SOURCE_ATTRIBUTE,
    STAGE_ATTRIBUTE,
    TEMPLATE_ATTRIBUTE,
)
from planner.tools import Risk

STAGE = SearchAttributeKey.for_keyword(STAGE_ATTRIBUTE)
SOURCE = SearchAttributeKey.for_keyword(SOURCE_ATTRIBUTE)
TEMPLATE = SearchAttributeKey.for_keyword(TEMPLATE_ATTRIBUTE)
RISK = SearchAttributeKey.for_keyword(RISK_ATTRIBUTE)
COST = SearchAttributeKey.for_float(COST_ATTRIBUTE)

_RISK_ORDER = [Risk.READ_ONLY, Risk.SIDE_EFFECTING, Risk.DANGEROUS]
_TYPES = {"Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
          "Double": IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE}


def goal_attributes(state: GoalState) -> list[SearchAttributeUpdate[Any]]:
    """What a goal in ``state`` shows operators (deterministic: workflow code calls it)."""
    updates: list[SearchAttributeUpdate[Any]] = [STAGE.value_set(state.stage),
                                            COST.value_set(round(state.usage.cost_usd, 6))]
    if state.source:
        updates.append(SOURCE.value_set(state.source))
    if state.template_id:
        updates.append(TEMPLATE.value_set(state.template_id))
    if state.risks:
        updates.append(RISK.value_set(max(state.risks.values(), key=_RISK_ORDER.index).value))
    return updates


async def missing(client: Client) -> list[str]:
    """The Jarvis search attributes ``client``'s namespace lacks."""
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace))
    return [name for name in SEARCH_ATTRIBUTES if name not in listed.custom_attributes]


async def register(client: Client) -> list[str]:
    """Add the missing ones (operator API; needs the rights to); returns what was added."""
    absent = await missing(client)
    if absent:
        await client.operator_service.add_search_attributes(AddSearchAttributesRequest(
            namespace=client.namespace,
            search_attributes={n: _TYPES[SEARCH_ATTRIBUTES[n]] for n in absent}))
    return absent
