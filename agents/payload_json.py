"""The data converter of every client and worker: pydantic models as JSON, leaving out the
fields at their defaults.

A workflow's input, its results, its local activities' markers and its query answers are
written into the history and read back on every replay; most of their fields sit at their
defaults (a step's empty description, no gate, no error, a policy's default retry), so leaving
those out halves a plan run's history (docs/performance.md). Decoding fills them back in, so a
payload reads the same with or without them, and a worker of an earlier version reads one
written this way as it read its own.

The price: **a field's default is part of the durable contract**. A payload that left a field
out reads as whatever default the reading code has, so a default must never change
(tests/unit/test_payload_defaults.py pins them all): add a new field instead. A plan's
``schema_version`` is always written (planner/plan.py), since a plan without one reads as the
current version.
"""

from __future__ import annotations

import functools
from typing import Any

from pydantic import TypeAdapter
from pydantic_core import SchemaSerializer, core_schema
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
)

_ANY = SchemaSerializer(core_schema.any_schema())


@functools.lru_cache(maxsize=1024)
def _adapter(type_hint: Any) -> TypeAdapter[Any]:
    """One type adapter per type for the whole process (the SDK builds a converter for each
    workflow activation, which would otherwise start with an empty cache)."""
    return TypeAdapter(type_hint)


class CompactJSONPayloadConverter(PydanticJSONPlainPayloadConverter):
    """``json/plain`` payloads without the fields at their defaults."""

    def __init__(self) -> None:
        super().__init__()
        self._type_adapter = _adapter

    def to_payload(self, value: Any) -> Payload | None:
        return Payload(metadata={"encoding": self.encoding.encode()},
                       data=_ANY.to_json(value, exclude_defaults=True))


class CompactPayloadConverter(CompositePayloadConverter):
    """The SDK's default converters, with :class:`CompactJSONPayloadConverter` for JSON."""

    def __init__(self) -> None:
        compact = CompactJSONPayloadConverter()
        super().__init__(*(compact if isinstance(c, JSONPlainPayloadConverter) else c
                           for c in DefaultPayloadConverter.default_encoding_payload_converters))


data_converter = DataConverter(payload_converter_class=CompactPayloadConverter)
