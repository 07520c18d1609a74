"""gradcheck for a student's backward: wrap it in an autograd Function and compare with
finite differences of the forward (``minitorch_cv.testing.gradcheck``: float64, central
differences, a random upstream gradient, never all ones).

The forward is the reference's (the properties stage has already compared the student's own
forward with it), so a failure here is a failure of the backward alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..testing import GradcheckError, gradcheck
from .calls import format_call, indent, literal
from .core import StageFailure


@dataclass
class GradProblem:
    """One backward to check.

    Attributes:
        function: the student's backward's name (for the call printed on failure).
        forward: ``(*arrays, **params) -> array``, the reference forward.
        backward: ``(grad_output, *arrays, **params) -> one gradient per array``.
        arrays: the differentiable inputs by name (float64).
        params: the other arguments (strides, flags).
        call_args: ``(grad_output, arrays) -> the student's call's arguments`` (for the paste).
        reference_backward: like ``backward``, the engine's (shown beside the student's).
    """

    function: str
    forward: Callable
    backward: Callable
    arrays: dict
    params: dict = field(default_factory=dict)
    call_args: Callable | None = None
    reference_backward: Callable | None = None


def _function_class(problem: GradProblem):
    names = list(problem.arrays)

    class StudentBackward(Function):
        @staticmethod
        def forward(ctx, *arrays, **params):
            ctx.arrays, ctx.params = arrays, params
            return np.asarray(problem.forward(*arrays, **params), dtype=np.float64)

        @staticmethod
        def backward(ctx, grad_output):
            grads = problem.backward(grad_output.copy(), *[a.copy() for a in ctx.arrays],
                                     **ctx.params)
            grads = grads if isinstance(grads, (tuple, list)) else (grads,)
            if len(grads) != len(names):
                raise StageFailure(f"{problem.function} returned {len(grads)} gradients; it "
                                   f"must return one per input ({', '.join(names)})")
            out = []
            for name, grad, array in zip(names, grads, ctx.arrays):
                grad = np.asarray(grad, dtype=np.float64)
                if grad.shape != array.shape:
                    raise StageFailure(f"{problem.function}: the gradient for {name} has shape "
                                       f"{grad.shape}, but {name} has shape {array.shape}")
                out.append(grad)
            return tuple(out)

    return StudentBackward


def run_problems(problems: list[GradProblem], seed: int) -> None:
    """gradcheck every problem; StageFailure with the student's call to paste on failure."""
    for problem in problems:
        cls = _function_class(problem)
        tensors = [Tensor(np.array(a, dtype=np.float64), requires_grad=True)
                   for a in problem.arrays.values()]
        try:
            gradcheck(lambda *ts, cls=cls, p=problem: cls.apply(*ts, **p.params), *tensors,
                      seed=seed)
        except GradcheckError as error:
            raise StageFailure(_explain(problem, error, seed)) from None


def _explain(problem: GradProblem, error: GradcheckError, seed: int) -> str:
    out = np.asarray(problem.forward(*problem.arrays.values(), **problem.params))
    upstream = np.random.default_rng(seed).standard_normal(out.shape)
    message = f"{problem.function}: {error}"
    if problem.call_args is not None:
        args = problem.call_args(upstream, problem.arrays)
        message += ("\n  your backward on the smallest failing input, with the random upstream "
                    "gradient gradcheck used (paste it to reproduce):\n"
                    + indent(format_call(problem.function, args)))
    if problem.reference_backward is not None:
        want = problem.reference_backward(upstream, *problem.arrays.values(), **problem.params)
        message += "\n  the correct gradients there are:\n" + indent(literal(tuple(want)))
    return message
