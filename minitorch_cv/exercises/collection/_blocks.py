"""Shared by the architecture exercises: the student writes an ``nn.Module`` class; the
checker compares parameter count, output shape, and (after loading the reference block's
weights into the student's) the output, in training and in eval mode."""

from __future__ import annotations

import numpy as np

from ... import manual_seed
from ...autograd.function import no_grad
from ...autograd.tensor import Tensor
from ..calls import describe_difference
from ..checker import student_error
from ..core import Example, StageFailure


def count(module) -> int:
    return sum(int(np.prod(p.shape)) for p in module.parameters())


def build(cls, kwargs, who):
    manual_seed(0)
    try:
        return cls(**kwargs).double()  # float64: outputs compared to 1e-9
    except Exception as exc:  # noqa: BLE001
        raise student_error(exc, f"{who}({_kwargs(kwargs)})") from None


def _kwargs(kwargs):
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items())


def compare_block(exercise, student, config):
    """Build both blocks, copy the reference's weights into the student's, compare outputs."""
    cls_name = next(iter(exercise.functions))
    kwargs, shape = config["kwargs"], config["input"]
    call = f"{cls_name}({_kwargs(kwargs)}) on an input of shape {shape}"
    replay = f"exercises.replay({exercise.name!r}, {cls_name}, {config!r})"
    ref = build(exercise.solution[cls_name], kwargs, "the reference " + cls_name)
    mine = build(student[cls_name], kwargs, cls_name)
    if count(mine) != count(ref):
        raise StageFailure(f"{call}: {count(mine)} parameters, the reference has {count(ref)}"
                           f"\n  reproduce with {replay}")
    state = ref.state_dict()
    try:
        mine.load_state_dict(state)
    except Exception as exc:  # noqa: BLE001
        names = ", ".join(state)
        raise StageFailure(f"{call}: the reference's weights do not load into yours ({exc}).\n"
                           f"  Name the layers as the template says; the reference's state "
                           f"names are: {names}") from None
    x = np.random.default_rng(config.get("seed", 0)).integers(-8, 9, shape) / 4
    for training in (True, False):
        ref.train(training)
        mine.train(training)
        with no_grad():
            want = ref(Tensor(x.copy())).numpy()
            try:
                got = mine(Tensor(x.copy()))
            except Exception as exc:  # noqa: BLE001
                raise student_error(exc, call) from None
        got = got.numpy() if isinstance(got, Tensor) else got
        problem = describe_difference(got, want, 1e-9, 1e-10,
                                      "output in " + ("training" if training else "eval mode"))
        if problem:
            raise StageFailure(f"{call} with the reference's weights: {problem}\n"
                               f"  reproduce with {replay}")


def signature_check(exercise, student, example_kwargs, shape):
    cls_name = next(iter(exercise.functions))
    mine = build(student[cls_name], example_kwargs, cls_name)
    ref = build(exercise.solution[cls_name], example_kwargs, "reference")
    with no_grad():
        try:
            out = mine.eval()(Tensor(np.zeros(shape)))
        except Exception as exc:  # noqa: BLE001
            raise student_error(exc, f"{cls_name}({_kwargs(example_kwargs)}) on {shape}") \
                from None
        want = ref.eval()(Tensor(np.zeros(shape)))
    if tuple(out.shape) != tuple(want.shape):
        raise StageFailure(f"{cls_name}({_kwargs(example_kwargs)}) maps {shape} to "
                           f"{tuple(out.shape)}; it must give {tuple(want.shape)}")
    return f"{cls_name} builds, and maps {shape} to {tuple(out.shape)}"


def run_example(exercise, student, example: Example):
    cls_name = next(iter(exercise.functions))
    module = build(student[cls_name], example.args, cls_name)
    if example.function == "parameters":
        return count(module)
    raise ValueError(example.function)
