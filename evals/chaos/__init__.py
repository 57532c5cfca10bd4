"""The fault and load suite: ``python -m evals chaos`` (or ``jarvis bench chaos``).

Goals and plan runs are submitted while worker processes and the Temporal server are SIGKILLed
at random moments and right after side effects (``tools.chaos_effect`` holds after its effect
so the kill lands there), tools fail transiently and for good, and the LLM endpoint returns
429s, 500s, timeouts and garbage in bursts (``llm.FaultyLLM``). Every acknowledged goal and run
is then accounted for: completed, failed with its reason, or lost; every side effect is counted
by its idempotency key (repeated or missing). A bounded loopback load test of the web API
follows (``web_load``). ``report`` writes JSON and Markdown; docs/reliability.md has the
figures.
"""
