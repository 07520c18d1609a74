"""Shared by tests/nn: run our module and the same torch module on one input and weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import minitorch_cv as mt

TOL = {"float32": (1e-4, 1e-5), "float64": (1e-10, 1e-12)}


def torch_state_as_numpy(module: torch.nn.Module) -> dict:
    return {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}


def assert_close(got, want, what: str, dtype) -> None:
    got = got.detach().numpy() if hasattr(got, "detach") else np.asarray(got)
    want = want.detach().numpy() if hasattr(want, "detach") else np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != torch's {want.shape}"
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype} != torch's {want.dtype}"
    if got.dtype.kind in "iub":
        np.testing.assert_array_equal(got, want, err_msg=what)
        return
    rtol, atol = TOL[np.dtype(dtype).name]
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=what)


def compare_module(ours, theirs, x: np.ndarray, train: bool = True, seed: int = 0,
                   steps: int = 1) -> None:
    """Copy torch's weights into ``ours``, then for ``steps`` forward/backward passes compare
    the output, the input gradient, every parameter gradient and every buffer afterwards."""
    dtype = x.dtype
    theirs = theirs.to(torch.float64 if dtype == np.float64 else torch.float32)
    ours.to(dtype)
    ours.load_state_dict(torch_state_as_numpy(theirs))
    ours.train(train)
    theirs.train(train)
    rng = np.random.default_rng(seed)
    for step in range(steps):
        xs = x + step * 0.1
        mine_in = mt.tensor(xs, requires_grad=True)
        ref_in = torch.tensor(xs, requires_grad=True)
        out_mine, out_ref = ours(mine_in), theirs(ref_in)
        assert_close(out_mine, out_ref, f"step {step} output", dtype)
        upstream = rng.standard_normal(out_ref.shape).astype(dtype)
        out_mine.backward(mt.tensor(upstream))
        out_ref.backward(torch.from_numpy(upstream))
        assert_close(mine_in.grad, ref_in.grad, f"step {step} input gradient", dtype)
        ref_params = dict(theirs.named_parameters())
        mine_params = dict(ours.named_parameters())
        assert mine_params.keys() == ref_params.keys()
        for name, p in mine_params.items():
            want = ref_params[name].grad
            assert_close(p.grad, want, f"step {step} gradient of {name}", dtype)
            p.grad = None
            ref_params[name].grad = None
        ref_buffers = dict(theirs.named_buffers())
        for name, b in ours.named_buffers():
            assert_close(b, ref_buffers[name], f"step {step} buffer {name}", b.dtype)


@pytest.fixture
def torch_compare():
    """The ``compare_module`` helper (tests import nothing from siblings: importlib mode)."""
    return compare_module
