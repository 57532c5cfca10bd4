"""Evaluations of the planner against public datasets (read at run time, never vendored)."""
