"""Seed templates shipped with JARVIS: goals that plan offline on a fresh machine
(loaded by :func:`planner.memory.seed.seed_templates`)."""
