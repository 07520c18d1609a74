"""Every basic op: gradcheck in float64, and forward + gradients equal to torch 2.13.

One table row per op: (name, our function, torch's function, input shapes, input kind, tolerance
row). Inputs are drawn per row; "pos" inputs are kept away from 0 (log, sqrt, div, pow).
"""

import numpy as np
import pytest
import torch

import minitorch_cv as mt
import minitorch_cv.functional as F
from minitorch_cv.testing import assert_matches_torch, gradcheck

TF = torch.nn.functional


def _idx(n):
    return np.array([2, 0, 2, 1])[:n]


# name, ours, theirs, shapes, kind of values per input, tolerance kind
CASES = [
    ("add", lambda a, b: a + b, lambda a, b: a + b, [(3, 4), (4,)], "nn", "default"),
    ("add_scalar", lambda a: 2.5 + a, lambda a: 2.5 + a, [(3, 4)], "n", "default"),
    ("sub", lambda a, b: a - b, lambda a, b: a - b, [(3, 1), (1, 4)], "nn", "default"),
    ("rsub", lambda a: 1.0 - a, lambda a: 1.0 - a, [(5,)], "n", "default"),
    ("mul", lambda a, b: a * b, lambda a, b: a * b, [(2, 3, 4), (3, 1)], "nn", "default"),
    ("div", lambda a, b: a / b, lambda a, b: a / b, [(3, 4), (3, 4)], "np", "default"),
    ("rdiv", lambda a: 2.0 / a, lambda a: 2.0 / a, [(3, 4)], "p", "default"),
    ("neg", lambda a: -a, lambda a: -a, [(3, 4)], "n", "default"),
    ("pow_scalar", lambda a: a**3, lambda a: a**3, [(3, 4)], "n", "default"),
    ("pow_frac", lambda a: a**0.5, lambda a: a**0.5, [(3, 4)], "p", "transcendental"),
    ("pow_tensor", lambda a, b: a**b, lambda a, b: a**b, [(3, 4), (4,)], "pn",
     "transcendental"),
    ("rpow", lambda a: 2.0**a, lambda a: 2.0**a, [(3, 4)], "n", "transcendental"),
    ("exp", lambda a: a.exp(), lambda a: a.exp(), [(3, 4)], "n", "transcendental"),
    ("log", lambda a: a.log(), lambda a: a.log(), [(3, 4)], "p", "transcendental"),
    ("sqrt", lambda a: a.sqrt(), lambda a: a.sqrt(), [(3, 4)], "p", "transcendental"),
    ("abs", lambda a: a.abs(), lambda a: a.abs(), [(3, 4)], "n", "default"),
    ("clamp", lambda a: a.clamp(-0.5, 0.7), lambda a: a.clamp(-0.5, 0.7), [(4, 5)], "n",
     "default"),
    ("clamp_min", lambda a: mt.clamp(a, min=0.1), lambda a: torch.clamp(a, min=0.1), [(4, 5)],
     "n", "default"),
    ("maximum", lambda a, b: mt.maximum(a, b), torch.maximum, [(3, 4), (4,)], "nn", "default"),
    ("minimum", lambda a, b: mt.minimum(a, b), torch.minimum, [(3, 4), (3, 1)], "nn",
     "default"),
    ("where", lambda a, b: mt.where(a > 0, a, b), lambda a, b: torch.where(a > 0, a, b),
     [(3, 4), (4,)], "nn", "default"),
    ("relu", lambda a: a.relu(), lambda a: a.relu(), [(3, 4)], "n", "default"),
    ("leaky_relu", lambda a: F.leaky_relu(a, 0.1), lambda a: TF.leaky_relu(a, 0.1), [(3, 4)],
     "n", "default"),
    ("sigmoid", lambda a: a.sigmoid(), lambda a: a.sigmoid(), [(3, 4)], "n", "transcendental"),
    ("tanh", lambda a: a.tanh(), lambda a: a.tanh(), [(3, 4)], "n", "transcendental"),
    ("sum_all", lambda a: a.sum(), lambda a: a.sum(), [(3, 4)], "n", "reduction"),
    ("sum_dim", lambda a: a.sum(1), lambda a: a.sum(1), [(3, 4, 2)], "n", "reduction"),
    ("sum_dims_keep", lambda a: a.sum((0, 2), keepdim=True),
     lambda a: a.sum((0, 2), keepdim=True), [(3, 4, 2)], "n", "reduction"),
    ("mean", lambda a: a.mean(-1), lambda a: a.mean(-1), [(3, 4)], "n", "reduction"),
    ("mean_all", lambda a: a.mean(), lambda a: a.mean(), [(3, 4)], "n", "reduction"),
    ("var", lambda a: a.var(1), lambda a: a.var(1), [(3, 5)], "n", "reduction"),
    ("var_biased_keep", lambda a: a.var(0, unbiased=False, keepdim=True),
     lambda a: a.var(0, unbiased=False, keepdim=True), [(4, 3)], "n", "reduction"),
    ("std", lambda a: a.std(), lambda a: a.std(), [(3, 5)], "n", "reduction"),
    ("max_dim", lambda a: a.max(1), lambda a: a.max(1), [(3, 5)], "n", "default"),
    ("min_dim_keep", lambda a: a.min(0, keepdim=True), lambda a: a.min(0, keepdim=True),
     [(3, 5)], "n", "default"),
    ("max_all", lambda a: a.max(), lambda a: a.max(), [(3, 5)], "n", "default"),
    ("logsumexp", lambda a: a.logsumexp(1), lambda a: a.logsumexp(1), [(3, 5)], "n",
     "transcendental"),
    ("softmax", lambda a: a.softmax(1), lambda a: a.softmax(1), [(3, 5)], "n",
     "transcendental"),
    ("log_softmax", lambda a: a.log_softmax(0), lambda a: a.log_softmax(0), [(3, 5)], "n",
     "transcendental"),
    ("reshape", lambda a: a.reshape(4, 3), lambda a: a.reshape(4, 3), [(3, 4)], "n",
     "default"),
    ("view_infer", lambda a: a.view(-1, 2), lambda a: a.view(-1, 2), [(3, 4)], "n", "default"),
    ("permute", lambda a: a.permute(2, 0, 1), lambda a: a.permute(2, 0, 1), [(2, 3, 4)], "n",
     "default"),
    ("transpose", lambda a: a.transpose(0, 2), lambda a: a.transpose(0, 2), [(2, 3, 4)], "n",
     "default"),
    ("T", lambda a: a.T, lambda a: a.T, [(2, 3)], "n", "default"),
    ("flatten", lambda a: a.flatten(1), lambda a: a.flatten(1), [(2, 3, 4)], "n", "default"),
    ("squeeze", lambda a: a.squeeze(1), lambda a: a.squeeze(1), [(2, 1, 4)], "n", "default"),
    ("unsqueeze", lambda a: a.unsqueeze(-1), lambda a: a.unsqueeze(-1), [(2, 4)], "n",
     "default"),
    ("expand", lambda a: a.expand(2, 3, 4), lambda a: a.expand(2, 3, 4), [(3, 1)], "n",
     "default"),
    ("getitem_slice", lambda a: a[1:, ::2], lambda a: a[1:, ::2], [(3, 5)], "n", "default"),
    ("getitem_int", lambda a: a[1], lambda a: a[1], [(3, 5)], "n", "default"),
    ("getitem_ints_repeat", lambda a: a[_idx(4)], lambda a: a[torch.tensor(_idx(4))],
     [(3, 5)], "n", "default"),
    ("getitem_pairs", lambda a: a[mt.arange(4), mt.tensor(_idx(4))],
     lambda a: a[torch.arange(4), torch.tensor(_idx(4))], [(4, 3)], "n", "default"),
    ("getitem_bool", lambda a: a[a > 0], lambda a: a[a > 0], [(3, 5)], "n", "default"),
    ("cat", lambda a, b: mt.cat([a, b], 1), lambda a, b: torch.cat([a, b], 1),
     [(2, 3), (2, 4)], "nn", "default"),
    ("stack", lambda a, b: mt.stack([a, b], 1), lambda a, b: torch.stack([a, b], 1),
     [(2, 3), (2, 3)], "nn", "default"),
    ("pad", lambda a: F.pad(a, (1, 2, 0, 1)), lambda a: TF.pad(a, (1, 2, 0, 1)), [(2, 3, 4)],
     "n", "default"),
    ("matmul", lambda a, b: a @ b, lambda a, b: a @ b, [(3, 4), (4, 5)], "nn", "matmul"),
    ("matmul_batched", lambda a, b: a @ b, lambda a, b: a @ b, [(2, 3, 4), (4, 5)], "nn",
     "matmul"),
    ("matmul_broadcast", lambda a, b: a @ b, lambda a, b: a @ b, [(2, 1, 3, 4), (3, 4, 2)],
     "nn", "matmul"),
    ("matmul_vec", lambda a, b: a @ b, lambda a, b: a @ b, [(3, 4), (4,)], "nn", "matmul"),
    ("vec_matmul", lambda a, b: a @ b, lambda a, b: a @ b, [(4,), (4, 3)], "nn", "matmul"),
    ("chain", lambda a, b: ((a * b).tanh() + a).sum(0).exp(),
     lambda a, b: ((a * b).tanh() + a).sum(0).exp(), [(3, 4), (4,)], "nn", "transcendental"),
]


def _inputs(shapes, kinds, dtype, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for shape, kind in zip(shapes, kinds):
        values = rng.standard_normal(shape)
        if kind == "p":
            values = rng.uniform(0.5, 2.0, shape)
        out.append(values.astype(dtype))
    return out


@pytest.mark.parametrize("name,ours,theirs,shapes,kinds,tol", CASES, ids=[c[0] for c in CASES])
def test_gradcheck_float64(name, ours, theirs, shapes, kinds, tol):
    inputs = [mt.tensor(a, requires_grad=True) for a in _inputs(shapes, kinds, np.float64)]
    assert gradcheck(lambda *xs: ours(*xs), *inputs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,ours,theirs,shapes,kinds,tol", CASES, ids=[c[0] for c in CASES])
def test_matches_torch(name, ours, theirs, shapes, kinds, tol, dtype):
    assert_matches_torch(ours, theirs, *_inputs(shapes, kinds, dtype, seed=1), kind=tol)


def test_ties_split_like_torch():
    a = np.array([1.0, 2.0, 3.0])
    b = np.array([1.0, 0.0, 3.0])
    assert_matches_torch(lambda x, y: mt.maximum(x, y), torch.maximum, a, b)
    assert_matches_torch(lambda x: x.max(), lambda x: x.max(), np.array([3.0, 1.0, 3.0]))
    assert_matches_torch(lambda x: x.clamp(0.0, 1.0), lambda x: x.clamp(0.0, 1.0),
                         np.array([0.0, 0.5, 1.0, 2.0]))
    assert_matches_torch(lambda x: x.relu(), lambda x: x.relu(), np.array([0.0, -1.0, 2.0]))
    assert_matches_torch(lambda x: x.abs(), lambda x: x.abs(), np.array([0.0, -1.0, 2.0]))
    assert_matches_torch(lambda x: x.max(0), lambda x: x.max(0), np.array([3.0, 1.0, 3.0]))


def test_comparisons_match_torch_and_have_no_grad():
    a = np.array([[1.0, -2.0], [0.5, 3.0]], dtype=np.float32)
    x = mt.tensor(a, requires_grad=True)
    for op in ("__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__"):
        ours = getattr(x, op)(0.5)
        theirs = getattr(torch.from_numpy(a), op)(0.5)
        assert ours.dtype == np.bool_ and not ours.requires_grad
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_argmax_matches_torch():
    a = np.array([[1.0, 5.0, 5.0], [7.0, 0.0, 7.0]], dtype=np.float32)
    np.testing.assert_array_equal(mt.tensor(a).argmax(1).numpy(),
                                  torch.from_numpy(a).argmax(1).numpy())
    assert mt.tensor(a).argmax().item() == torch.from_numpy(a).argmax().item()


def test_promotion_follows_torch():
    i = mt.tensor([1, 2, 3])
    assert i.dtype == mt.int64
    assert (i * 0.5).dtype == mt.float32  # torch: int tensor * python float -> float32
    assert (i / 2).dtype == mt.float32  # true division
    assert (mt.ones(2) + mt.ones(2, dtype=mt.float64)).dtype == mt.float64
    assert (mt.ones(2) * 2).dtype == mt.float32
    assert (mt.ones(2, dtype=mt.float64) * np.float32(2)).dtype == mt.float64


def test_matmul_refuses_mixed_dtypes_like_torch():
    with pytest.raises(TypeError, match="same dtype"):
        mt.ones(2, 3) @ mt.ones(3, 2, dtype=mt.float64)
    with pytest.raises(RuntimeError, match="inner sizes 3 and 4 differ"):
        mt.ones(2, 3) @ mt.ones(4, 2)


def test_pad_names_the_supported_mode():
    with pytest.raises(ValueError, match="mode='constant'"):
        F.pad(mt.ones(1, 2, 2), (1, 1), mode="reflect")
