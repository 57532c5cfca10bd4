"""The durable side: the goal and plan workflows, the one step driver both engines use, the
simple engine, the worker, the embedded dev server and the one client.

Note: the ``openai-agents`` distribution also ships a top-level package named ``agents``; never
install it in the same environment as JARVIS Planner.
"""
