"""Differentiable primitives: one ``Function`` per op, grouped by concept."""
