"""NESTFUL data: the samples and tool specs as typed records, loaded from the shared datasets."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    model_validator,
)

from evals.datasets import dataset_file

DatasetKind = Literal["executable", "glaive", "sgd"]


RESULT_CALL = "var_result"


CALC_TOOL = "calc"


class ParamSpec(BaseModel):
    """One query or path parameter of a NESTFUL tool spec."""

    model_config = ConfigDict(extra="allow")

    type: str = "string"
    description: str = ""
    required: bool | None = None
    optional: bool | None = None
    default: Any = None
    allowed_values: Any = None
    enum: Any = None
    possible_values: Any = None

    @model_validator(mode="before")
    @classmethod
    def _sgd_default(cls, data: Any) -> Any:
        if isinstance(data, dict) and "default_value" in data and "default" not in data:
            data = {**data, "default": data["default_value"]}
        return data

    def choices(self) -> list[Any] | None:
        """The allowed values when the spec lists them (not for ranges like "1-100")."""
        for values in (self.enum, self.allowed_values, self.possible_values):
            if isinstance(values, list) and values and all(
                isinstance(v, str | int | float) and not isinstance(v, bool) for v in values
            ):
                return values
        return None


class ToolSpec(BaseModel):
    """One NESTFUL tool spec (a RapidAPI endpoint for the executable set)."""

    model_config = ConfigDict(extra="allow")

    name: str
    description: str = ""
    query_parameters: dict[str, ParamSpec] = Field(default_factory=dict)
    path_parameters: dict[str, ParamSpec] = Field(default_factory=dict)
    output_parameters: dict[str, Any] = Field(default_factory=dict)
    output_parser: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = {k: v for k, v in data.items() if v is not None}
        if "arguments" in data and "query_parameters" not in data:  # the sgd spec format
            data["query_parameters"] = data.pop("arguments")
        return data

    def parameters(self) -> dict[str, ParamSpec]:
        return {**self.path_parameters, **self.query_parameters}

    def is_required(self, name: str) -> bool:
        """``required`` when the spec says so; a spec that marks ``optional`` parameters instead
        implies the unmarked ones are required; otherwise a parameter is optional."""
        param = self.parameters()[name]
        if param.required is not None:
            return param.required
        if any(p.optional is not None for p in self.parameters().values()):
            return not param.optional
        return False


class Call(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    label: str | None = None


class Sample(BaseModel):
    model_config = ConfigDict(extra="allow")

    input: str
    output: list[Call]

    def calls(self) -> list[Call]:
        """The tool calls, without the final ``var_result``."""
        return [c for c in self.output if c.name != RESULT_CALL]

    def result(self) -> Call | None:
        return next((c for c in self.output if c.name == RESULT_CALL), None)


@dataclass(frozen=True)
class NestfulData:
    kind: str
    folder: Path
    specs: list[ToolSpec]
    samples: list[Sample]

    def spec(self, name: str) -> ToolSpec:
        return next(s for s in self.specs if s.name == name)


def _files(kind: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if kind == "executable":
        base = ("nestful", "data", "executable")
        return (*base, "executable-data.json"), (*base, "executable-spec.json")
    if kind in ("glaive", "sgd"):
        base = ("nestful", "data", "non-executable")
        return ((*base, f"non-executable-{kind}-data.json"),
                (*base, f"non-executable-{kind}-spec.json"))
    raise ValueError(f"unknown NESTFUL set {kind!r}; choose executable, glaive or sgd")


def load_nestful(kind: DatasetKind | str = "executable") -> NestfulData:
    """Read the specs and samples of one NESTFUL set from the shared datasets folder."""
    data_parts, spec_parts = _files(kind)
    data_path, spec_path = dataset_file(*data_parts), dataset_file(*spec_parts)
    specs = TypeAdapter(list[ToolSpec]).validate_json(spec_path.read_bytes())
    samples = TypeAdapter(list[Sample]).validate_json(data_path.read_bytes())
    return NestfulData(kind=kind, folder=data_path.parent, specs=specs, samples=samples)
