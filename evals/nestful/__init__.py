"""NESTFUL executable samples as JARVIS plans, run against stub tools built from the spec.

NESTFUL (IBM, Basu et al. 2024) holds nested API-call sequences: each sample is a query and a list
of calls whose arguments reference earlier outputs as ``$var1.field$``. Here every sample becomes a
:class:`~planner.plan.Plan` (``$var1.a.b[0]$`` -> ``${var1.a.b[0]}``, the final ``var_result`` call
-> ``plan.outputs``) and every spec becomes a stub :class:`~planner.tools.Tool`: its
arguments typed from the spec's parameters, its output a deterministic value shaped like the spec's
output fields (it depends on the tool name, the field path and the call's arguments, so a test can
check what each consumer received).

The gold calls do not always match their own spec. Each mismatch amends the stub tool (or the plan,
for NESTFUL conventions) and is recorded as a :class:`SpecGap`, never hidden:

- ``unknown_arg``: a call passes an argument the spec lacks -> the stub accepts it (optional);
- ``missing_required_arg``: a call omits an argument the spec requires -> made optional;
- ``arg_type_mismatch``: a value (literal or referenced) has a type the parameter does not
  accept -> the parameter type is widened;
- ``unknown_output_field``: a reference uses an output field the spec does not declare -> the
  stub's output schema gets the field;
- ``array_first_element`` (plan rewrite): a field path applied to a list means its first element
  (``news.webUrl`` -> ``news[0].webUrl``);
- ``malformed_ref`` (plan rewrite): a reference missing one of its ``$`` is repaired;
- ``calc_step`` (plan rewrite): arithmetic text passed to a numeric argument becomes a ``calc``
  step whose value the consumer references.

Run ``python -m evals.nestful [--out report.json]`` for a summary."""

from __future__ import annotations

from evals.nestful.conversion import (
    ConversionError,
    convert_sample,
)
from evals.nestful.data import (
    CALC_TOOL,
    RESULT_CALL,
    Call,
    DatasetKind,
    NestfulData,
    ParamSpec,
    Sample,
    ToolSpec,
    load_nestful,
)
from evals.nestful.gaps import (
    REWRITE_KINDS,
    SPEC_GAP_KINDS,
    GapKind,
    SpecGap,
)
from evals.nestful.references import (
    Template,
    iter_templates,
    parse_nestful_ref,
    parse_nestful_value,
)
from evals.nestful.registry import (
    build_stub_registry,
    default_stub_registry,
)
from evals.nestful.report import (
    NestfulReport,
    NestfulSuite,
    SampleReport,
    build_suite,
    convert_all,
    main,
)
from evals.nestful.schemas import (
    PathWalk,
    json_type,
    output_schema_from_spec,
    walk_schema,
)
from evals.nestful.stubs import (
    StubCall,
    stub_call_args,
    stub_output,
)

__all__ = [
    "CALC_TOOL",
    "RESULT_CALL",
    "REWRITE_KINDS",
    "SPEC_GAP_KINDS",
    "Call",
    "ConversionError",
    "DatasetKind",
    "GapKind",
    "NestfulData",
    "NestfulReport",
    "NestfulSuite",
    "ParamSpec",
    "PathWalk",
    "Sample",
    "SampleReport",
    "SpecGap",
    "StubCall",
    "Template",
    "ToolSpec",
    "build_stub_registry",
    "build_suite",
    "convert_all",
    "convert_sample",
    "default_stub_registry",
    "iter_templates",
    "json_type",
    "load_nestful",
    "main",
    "output_schema_from_spec",
    "parse_nestful_ref",
    "parse_nestful_value",
    "stub_call_args",
    "stub_output",
    "walk_schema",
]
