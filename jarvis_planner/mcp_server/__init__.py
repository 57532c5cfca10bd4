"""JARVIS as an MCP server (`jarvis mcp`): tools to plan, run, read, review and cancel goals,
each going through the one client (``agents.client.JarvisClient``), over stdio or streamable
HTTP (``transport.py``: Host/Origin checks and a bearer token)."""
