"""Shared by the optimizer exercises: run the engine's optimizer for one step on arrays, and a
property body that follows a trajectory of several steps."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ...autograd.tensor import Tensor
from ...nn import Parameter
from ..calls import compare, format_call
from . import _data


def engine_step(optimizer_class, param, grad, state: dict, **hyper):
    """One step of ``optimizer_class`` on a copy of ``param``; returns (param, new state)."""
    p = Parameter(Tensor(np.array(param, dtype=np.float64)))
    p.grad = Tensor(np.array(grad, dtype=np.float64))
    optimizer = optimizer_class([p], **hyper)
    optimizer.state[p] = {}
    for key, value in state.items():
        optimizer.state[p][key] = Tensor(np.array(value)) if isinstance(value, np.ndarray) \
            else value
    optimizer.step()
    new = {k: (v.detach().numpy().copy() if isinstance(v, Tensor) else v)
           for k, v in optimizer.state[p].items()}
    return p.detach().numpy().copy(), new


@st.composite
def trajectories(draw):
    return dict(shape=tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=2))),
                steps=draw(st.integers(1, 4)), seed=draw(st.integers(0, 2**16)),
                lr=draw(st.sampled_from([0.5, 0.1, 0.01])),
                weight_decay=draw(st.sampled_from([0.0, 0.0, 0.1, 0.5])),
                momentum=draw(st.sampled_from([0.0, 0.9, 0.5])),
                betas=draw(st.sampled_from([(0.9, 0.999), (0.5, 0.75)])))


def follow(function, solution, student, config, make_args, unpack):
    """Take ``steps`` steps with both; compare after each (the call to paste included)."""
    param = _data.values(config["seed"], config["shape"])
    mine = theirs = None
    for step in range(1, config["steps"] + 1):
        grad = _data.values(config["seed"] + step, config["shape"])
        args = make_args(param, grad, theirs, step)
        want = solution(**{k: (v.copy() if isinstance(v, np.ndarray) else v)
                           for k, v in args.items()})
        got = student(**{k: (v.copy() if isinstance(v, np.ndarray) else v)
                         for k, v in args.items()})
        compare(got, want, 1e-9, 1e-12, format_call(function, args), what=f"step {step}")
        param, theirs = unpack(want)
        mine = got
    return mine
