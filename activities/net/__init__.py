"""Outbound connections for tools: the egress policy (``egress``), the address ranges it denies
(``ranges``) and the one HTTP exchange that applies it with caps (``exchange``)."""
