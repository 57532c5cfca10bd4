"""Test doubles for code that embeds JARVIS: a strict, scripted OpenAI-compatible HTTP server.

    from jarvis_planner.testing import ScriptedLLM, reply_json

    with ScriptedLLM() as llm:
        llm.expect(reply_json({"goal": "...", "steps": [...]}))
        settings = Settings(llm_base_url=llm.base_url, llm_api_key="test", ...)
        ...                       # plan a goal: the planner talks to the scripted server
        llm.assert_done()         # an extra call or an unconsumed reply fails here

``forbid_real_llm()`` makes an accidental call to a real provider impossible in a test process.
"""

from jarvis_planner.testing.replies import (
    Matcher,
    Reply,
    Step,
    reply_error,
    reply_json,
    reply_text,
    reply_tool_call,
    step,
)
from jarvis_planner.testing.scripted_llm import (
    UNROUTABLE_BASE_URL,
    RecordedRequest,
    ScriptedLLM,
    deterministic_embedding,
    forbid_real_llm,
)

__all__ = [
    "UNROUTABLE_BASE_URL",
    "Matcher",
    "RecordedRequest",
    "Reply",
    "ScriptedLLM",
    "Step",
    "deterministic_embedding",
    "forbid_real_llm",
    "reply_error",
    "reply_json",
    "reply_text",
    "reply_tool_call",
    "step",
]
