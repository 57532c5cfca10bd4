"""MCP servers' tools as JARVIS tools: sessions (``sessions.py``) and the tools built from what
a server lists (``tools.py``). The servers are configured in settings (planner/mcp_servers.py)."""
