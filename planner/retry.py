"""The one retry model: a tool's retry policy, and a step's partial override of it.

Seconds everywhere; the Temporal engine turns a ``RetrySpec`` into Temporal's ``RetryPolicy``,
the simple engine into tenacity's stop and wait."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class RetryOverride(BaseModel):
    """Per-step retry settings in a plan; unset fields keep the tool's defaults."""

    model_config = ConfigDict(extra="forbid")

    max_attempts: int | None = Field(None, ge=1, le=100)
    initial_interval_s: float | None = Field(None, gt=0, le=3600)
    backoff: float | None = Field(None, ge=1, le=10)
    max_interval_s: float | None = Field(None, gt=0, le=86400)


class RetrySpec(BaseModel):
    """A retry policy (Temporal's RetryPolicy, in seconds): a tool's default, fixed into each
    step's policy when a plan is prepared."""

    model_config = ConfigDict(frozen=True)

    max_attempts: int = Field(3, ge=1)
    initial_interval_s: float = Field(1.0, gt=0)
    backoff: float = Field(2.0, ge=1)
    max_interval_s: float = Field(30.0, gt=0)

    def merged(self, override: RetryOverride | None) -> RetrySpec:
        """This policy with a step's overrides applied."""
        if override is None:
            return self
        return self.model_copy(update=override.model_dump(exclude_none=True))
