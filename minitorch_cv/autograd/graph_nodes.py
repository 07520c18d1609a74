"""torch's view of the graph for students who walk it: ``grad_fn.next_functions``.

Each Context (``tensor.grad_fn``) lists, per input, ``(node, 0)``: the Context that made the
input, an ``AccumulateGrad`` node for a leaf that requires grad (its ``variable`` is the leaf),
or ``(None, 0)`` for an input without gradient, as torch prints them. The engine itself walks
``ctx.parents``; this is a read-only view built on demand.
"""

from __future__ import annotations

from .function import Context


class AccumulateGrad:
    """The node where a leaf's gradient is accumulated into ``variable.grad``."""

    __slots__ = ("variable",)
    next_functions: tuple = ()

    def __init__(self, variable):
        self.variable = variable

    def name(self) -> str:
        return "AccumulateGrad"

    def __repr__(self) -> str:
        return "<AccumulateGrad>"

    def __eq__(self, other) -> bool:
        return isinstance(other, AccumulateGrad) and other.variable is self.variable

    def __hash__(self) -> int:
        return id(self.variable)


def _next_functions(ctx: Context) -> tuple:
    nodes = []
    for parent in ctx.parents or (None,) * len(ctx.needs_input_grad):
        if parent is None or isinstance(parent, Context):
            nodes.append((parent, 0))
        else:
            nodes.append((AccumulateGrad(parent), 0))
    return tuple(nodes)


Context.next_functions = property(_next_functions, doc=_next_functions.__doc__)
