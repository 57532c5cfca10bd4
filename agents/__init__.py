"""The durable side: the plan workflow, the shared DAG scheduler, engines, worker, dev server.

Note: the ``openai-agents`` distribution also ships a top-level package named ``agents``; never
install it in the same environment as JARVIS Planner.
"""
