"""Words that carry no meaning in a goal: shared by the hashing embedder and template rebinding."""

from __future__ import annotations

_STOP_TEXT = """
a an the and or but if then else of to in on at by for with from into onto about as is are was
were be been being do does did doing have has had having i me my mine we us our you your he him
his she her it its they them their this that these those there here what which who whom whose
when where why how can could would should will shall may might must please just also very so
than too some any all each every no not only own same such up down out over under again once
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())
