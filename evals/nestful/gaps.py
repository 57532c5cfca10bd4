"""Defects of NESTFUL's own spec against its gold data, as records."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    BaseModel,
    Field,
)

GapKind = Literal["unknown_arg", "missing_required_arg", "arg_type_mismatch",
                  "unknown_output_field", "array_first_element", "malformed_ref", "calc_step"]


SPEC_GAP_KINDS: tuple[GapKind, ...] = ("unknown_arg", "missing_required_arg",
                                       "arg_type_mismatch", "unknown_output_field")


REWRITE_KINDS: tuple[GapKind, ...] = ("array_first_element", "malformed_ref", "calc_step")


class SpecGap(BaseModel):
    """Where a sample's gold calls and its spec disagree, and what was amended."""

    tool: str
    kind: GapKind
    detail: str
    sample_index: int
    field: str = Field("", description="The argument name, or the output path as '.a[0].b'.")

    def __str__(self) -> str:
        return f"[{self.kind}] sample {self.sample_index}, {self.tool}: {self.detail}"
