"""The ops added for torch compatibility (issue 13): gradcheck in float64 with a random upstream
gradient, and forward + every gradient equal to torch 2.13 in float32 and float64.

Same table layout as ``test_basic_ops.py``: (name, ours, theirs, input shapes, kinds, tolerance
row). Kinds: "n" standard normal, "p" in [0.5, 2) (away from 0 and from poles).
"""

import numpy as np
import pytest
import torch

import minitorch_cv as mt
import minitorch_cv.functional as F
from minitorch_cv.testing import assert_matches_torch, gradcheck

TF = torch.nn.functional
INDEX = np.array([[2, 0, 2], [1, 1, 0]])
MASK = np.array([[True, False, True, False], [False, False, True, True], [True] * 4])


def both(method, *args, **kwargs):
    """The same method call on either library's tensor."""
    return lambda a: getattr(a, method)(*args, **kwargs)


CASES = [
    ("sin", both("sin"), both("sin"), [(3, 4)], "n", "transcendental"),
    ("cos", both("cos"), both("cos"), [(3, 4)], "n", "transcendental"),
    ("tan", lambda a: mt.tan(a), torch.tan, [(3, 4)], "n", "transcendental"),
    ("log1p", both("log1p"), both("log1p"), [(3, 4)], "p", "transcendental"),
    ("expm1", lambda a: mt.expm1(a), torch.expm1, [(3, 4)], "n", "transcendental"),
    ("log2", both("log2"), both("log2"), [(3, 4)], "p", "transcendental"),
    ("log10", both("log10"), both("log10"), [(3, 4)], "p", "transcendental"),
    ("rsqrt", both("rsqrt"), both("rsqrt"), [(3, 4)], "p", "transcendental"),
    ("reciprocal", both("reciprocal"), both("reciprocal"), [(3, 4)], "p", "default"),
    ("square", both("square"), both("square"), [(3, 4)], "n", "default"),
    ("floor", both("floor"), both("floor"), [(3, 4)], "n", "default"),
    ("ceil", both("ceil"), both("ceil"), [(3, 4)], "n", "default"),
    ("round", both("round"), both("round"), [(3, 4)], "n", "default"),
    ("round_decimals", both("round", decimals=1), both("round", decimals=1), [(3, 4)], "n",
     "default"),
    ("trunc", both("trunc"), both("trunc"), [(3, 4)], "n", "default"),
    ("frac", both("frac"), both("frac"), [(3, 4)], "n", "default"),
    ("sign", both("sign"), both("sign"), [(3, 4)], "n", "default"),
    ("remainder", lambda a, b: a % b, lambda a, b: a % b, [(3, 4), (4,)], "np", "default"),
    ("remainder_neg", lambda a: a % -0.7, lambda a: a % -0.7, [(3, 4)], "n", "default"),
    ("fmod", lambda a, b: mt.fmod(a, b), torch.fmod, [(3, 4), (3, 4)], "np", "default"),
    ("prod_all", both("prod"), both("prod"), [(3, 4)], "n", "reduction"),
    ("prod_dim", both("prod", 1), both("prod", 1), [(3, 4)], "n", "reduction"),
    ("prod_dim_keep", both("prod", 0, keepdim=True), both("prod", 0, keepdim=True), [(3, 4)],
     "n", "reduction"),
    ("cumsum", both("cumsum", 1), both("cumsum", 1), [(3, 4)], "n", "reduction"),
    ("cumsum_neg", both("cumsum", dim=-2), both("cumsum", dim=-2), [(3, 4)], "n", "reduction"),
    ("amax", both("amax", (0, 2)), both("amax", (0, 2)), [(3, 4, 2)], "n", "default"),
    ("amin_keep", both("amin", 1, keepdim=True), both("amin", 1, keepdim=True), [(3, 4)], "n",
     "default"),
    ("norm", both("norm"), both("norm"), [(3, 4)], "n", "reduction"),
    ("norm_dim", both("norm", dim=1), both("norm", dim=1), [(3, 4)], "n", "reduction"),
    ("norm_p1", both("norm", p=1, dim=0, keepdim=True), both("norm", p=1, dim=0, keepdim=True),
     [(3, 4)], "n", "reduction"),
    ("norm_p3", both("norm", p=3), both("norm", p=3), [(3, 4)], "n", "transcendental"),
    ("norm_inf", both("norm", p=float("inf"), dim=1), both("norm", p=float("inf"), dim=1),
     [(3, 4)], "n", "default"),
    ("sum_axis_keepdims", both("sum", axis=1, keepdims=True), both("sum", axis=1, keepdims=True),
     [(3, 4)], "n", "reduction"),
    ("mean_axis", lambda a: mt.mean(a, axis=0), lambda a: torch.mean(a, axis=0), [(3, 4)], "n",
     "reduction"),
    ("max_dim_named", lambda a: a.max(dim=1).values, lambda a: a.max(dim=1).values, [(3, 4)],
     "n", "default"),
    ("max_pair", lambda a, b: mt.max(a, b), torch.max, [(3, 4), (4,)], "nn", "default"),
    ("sort", both("sort", 1), both("sort", 1), [(3, 5)], "n", "default"),
    ("sort_desc", both("sort", 0, descending=True), both("sort", 0, descending=True), [(4, 3)],
     "n", "default"),
    ("topk", both("topk", 2), both("topk", 2), [(3, 5)], "n", "default"),
    ("topk_small_dim0", both("topk", 2, 0, largest=False), both("topk", 2, 0, largest=False),
     [(4, 3)], "n", "default"),
    ("median_all", both("median"), both("median"), [(3, 5)], "n", "default"),
    ("median_dim", both("median", 1), both("median", 1), [(3, 4)], "n", "default"),
    ("median_dim_keep", lambda a: mt.median(a, 0, keepdim=True),
     lambda a: torch.median(a, 0, keepdim=True), [(5, 3)], "n", "default"),
    ("var_mean", lambda a: mt.var_mean(a, 1), lambda a: torch.var_mean(a, 1), [(3, 4)], "n",
     "reduction"),
    ("std_mean", lambda a: mt.std_mean(a, 0, keepdim=True),
     lambda a: torch.std_mean(a, 0, keepdim=True), [(3, 4)], "n", "reduction"),
    ("lerp_scalar", lambda a, b: mt.lerp(a, b, 0.3), lambda a, b: torch.lerp(a, b, 0.3),
     [(3, 4), (3, 4)], "nn", "default"),
    ("lerp_high", lambda a, b: a.lerp(b, 0.8), lambda a, b: a.lerp(b, 0.8), [(3, 4), (4,)],
     "nn", "default"),
    ("lerp_tensor", lambda a, b, w: mt.lerp(a, b, w), torch.lerp, [(3, 4), (3, 4), (3, 4)],
     "nnn", "default"),
    ("diag_vec", lambda a: mt.diag(a), torch.diag, [(4,)], "n", "default"),
    ("diag_vec_offset", lambda a: mt.diag(a, -2), lambda a: torch.diag(a, -2), [(3,)], "n",
     "default"),
    ("diag_mat", lambda a: a.diag(1), lambda a: a.diag(1), [(3, 5)], "n", "default"),
    ("diag_mat_neg", lambda a: a.diag(-1), lambda a: a.diag(-1), [(4, 3)], "n", "default"),
    ("mm", lambda a, b: mt.mm(a, b), torch.mm, [(3, 4), (4, 2)], "nn", "matmul"),
    ("bmm", lambda a, b: mt.bmm(a, b), torch.bmm, [(2, 3, 4), (2, 4, 5)], "nn", "matmul"),
    ("dot", lambda a, b: mt.dot(a, b), torch.dot, [(5,), (5,)], "nn", "matmul"),
    ("outer", lambda a, b: mt.outer(a, b), torch.outer, [(3,), (4,)], "nn", "default"),
    ("t", both("t"), both("t"), [(3, 4)], "n", "default"),
    ("mT", lambda a: a.mT, lambda a: a.mT, [(2, 3, 4)], "n", "default"),
    ("chunk", both("chunk", 3, 1), both("chunk", 3, 1), [(2, 7)], "n", "default"),
    ("chunk_last", lambda a: a.chunk(3, 1)[-1], lambda a: a.chunk(3, 1)[-1], [(2, 7)], "n",
     "default"),
    ("split_size", lambda a: a.split(2)[1], lambda a: a.split(2)[1], [(5, 3)], "n", "default"),
    ("split_sections", lambda a: mt.split(a, [1, 3], dim=1)[1],
     lambda a: torch.split(a, [1, 3], dim=1)[1], [(2, 4)], "n", "default"),
    ("unbind", lambda a: mt.stack(a.unbind(1)[::-1]), lambda a: torch.stack(a.unbind(1)[::-1]),
     [(2, 3)], "n", "default"),
    ("narrow", both("narrow", 1, 1, 2), both("narrow", 1, 1, 2), [(3, 4)], "n", "default"),
    ("flip", both("flip", (0, 1)), both("flip", (0, 1)), [(3, 4)], "n", "default"),
    ("roll", both("roll", 1, 1), both("roll", 1, 1), [(3, 4)], "n", "default"),
    ("roll_flat", both("roll", -2), both("roll", -2), [(3, 4)], "n", "default"),
    ("roll_two", both("roll", (1, -1), (0, 1)), both("roll", (1, -1), (0, 1)), [(3, 4)], "n",
     "default"),
    ("repeat", both("repeat", 2, 1, 3), both("repeat", 2, 1, 3), [(3, 4)], "n", "default"),
    ("tile", both("tile", (2,)), both("tile", (2,)), [(3, 4)], "n", "default"),
    ("masked_fill", lambda a: a.masked_fill(mt.tensor(MASK), -1.5),
     lambda a: a.masked_fill(torch.from_numpy(MASK), -1.5), [(3, 4)], "n", "default"),
    ("masked_fill_rows", lambda a: a.masked_fill(mt.tensor(MASK[:, :1]), 0.0),
     lambda a: a.masked_fill(torch.from_numpy(MASK[:, :1]), 0.0), [(3, 4)], "n", "default"),
    ("masked_select", lambda a: a.masked_select(mt.tensor(MASK)),
     lambda a: a.masked_select(torch.from_numpy(MASK)), [(3, 4)], "n", "default"),
    ("index_select", lambda a: a.index_select(1, mt.tensor([2, 0, 2])),
     lambda a: a.index_select(1, torch.tensor([2, 0, 2])), [(3, 4)], "n", "default"),
    ("gather", lambda a: a.gather(1, mt.tensor(INDEX)),
     lambda a: a.gather(1, torch.from_numpy(INDEX)), [(2, 4)], "n", "default"),
    ("gather_dim0", lambda a: mt.gather(a, 0, mt.tensor(INDEX)),
     lambda a: torch.gather(a, 0, torch.from_numpy(INDEX)), [(3, 3)], "n", "default"),
    ("triu", both("triu", 1), both("triu", 1), [(4, 5)], "n", "default"),
    ("tril_batched", both("tril"), both("tril"), [(2, 4, 3)], "n", "default"),
    ("meshgrid_ij", lambda a, b: mt.stack(mt.meshgrid(a, b, indexing="ij")) * 1.5,
     lambda a, b: torch.stack(torch.meshgrid(a, b, indexing="ij")) * 1.5, [(3,), (4,)], "nn",
     "default"),
    ("meshgrid_xy", lambda a, b: mt.meshgrid(a, b, indexing="xy")[0] * mt.meshgrid(
        a, b, indexing="xy")[1], lambda a, b: torch.meshgrid(a, b, indexing="xy")[0]
     * torch.meshgrid(a, b, indexing="xy")[1], [(3,), (4,)], "nn", "default"),
    ("unflatten", both("unflatten", 1, (2, 3)), both("unflatten", 1, (2, 3)), [(4, 6)], "n",
     "default"),
    ("where_method", lambda a, b: a.where(a > 0, b), lambda a, b: a.where(a > 0, b),
     [(3, 4), (4,)], "nn", "default"),
    ("linear", lambda x, w, b: F.linear(x, w, b), TF.linear, [(5, 3), (4, 3), (4,)], "nnn",
     "matmul"),
    ("relu6", lambda a: F.relu6(a * 4), lambda a: TF.relu6(a * 4), [(3, 4)], "n", "default"),
    ("hardtanh", lambda a: F.hardtanh(a, -0.5, 0.5), lambda a: TF.hardtanh(a, -0.5, 0.5),
     [(3, 4)], "n", "default"),
    ("elu", lambda a: F.elu(a, 0.7), lambda a: TF.elu(a, 0.7), [(3, 4)], "n", "transcendental"),
    ("selu", F.selu, TF.selu, [(3, 4)], "n", "transcendental"),
    ("silu", F.silu, TF.silu, [(3, 4)], "n", "transcendental"),
    ("softplus", lambda a: F.softplus(a * 10, beta=0.5, threshold=3),
     lambda a: TF.softplus(a * 10, beta=0.5, threshold=3), [(3, 4)], "n", "transcendental"),
    ("logsigmoid", F.logsigmoid, TF.logsigmoid, [(3, 4)], "n", "transcendental"),
    ("hardswish", lambda a: F.hardswish(a * 3), lambda a: TF.hardswish(a * 3), [(3, 4)], "n",
     "default"),
    # torch's hardsigmoid backward multiplies by 1/6 rounded to float32, even in float64
    ("hardsigmoid", lambda a: F.hardsigmoid(a * 3), lambda a: TF.hardsigmoid(a * 3), [(3, 4)],
     "n", (1e-6, 1e-7)),
    ("gelu_tanh", lambda a: F.gelu(a, approximate="tanh"),
     lambda a: TF.gelu(a, approximate="tanh"), [(3, 4)], "n", "transcendental"),
    ("softmin", lambda a: F.softmin(a, 1), lambda a: TF.softmin(a, 1), [(3, 4)], "n",
     "transcendental"),
    ("normalize", F.normalize, TF.normalize, [(3, 4)], "n", "transcendental"),
    ("normalize_p1_dim0", lambda a: F.normalize(a, p=1, dim=0),
     lambda a: TF.normalize(a, p=1, dim=0), [(3, 4)], "n", "default"),
    ("cosine_similarity", F.cosine_similarity, TF.cosine_similarity, [(3, 4), (3, 4)], "nn",
     "transcendental"),
    ("layer_norm", lambda x, w, b: F.layer_norm(x, (3, 4), w, b),
     lambda x, w, b: TF.layer_norm(x, (3, 4), w, b), [(2, 3, 4), (3, 4), (3, 4)], "nnn", "norm"),
    ("layer_norm_plain", lambda x: F.layer_norm(x, 5), lambda x: TF.layer_norm(x, (5,)),
     [(3, 5)], "n", "norm"),
    ("group_norm", lambda x, w, b: F.group_norm(x, 2, w, b, eps=1e-3),
     lambda x, w, b: TF.group_norm(x, 2, w, b, eps=1e-3), [(2, 4, 3, 3), (4,), (4,)], "nnn",
     "norm"),
    ("interpolate_nearest", lambda x: F.interpolate(x, size=(5, 7)),
     lambda x: TF.interpolate(x, size=(5, 7)), [(2, 2, 3, 4)], "n", "default"),
    ("interpolate_nearest_x2", lambda x: F.interpolate(x, scale_factor=2),
     lambda x: TF.interpolate(x, scale_factor=2), [(1, 2, 3, 4)], "n", "default"),
    # torch blends the four corners in another order than our rows-then-columns: last bits
    ("interpolate_bilinear", lambda x: F.interpolate(x, size=(6, 3), mode="bilinear"),
     lambda x: TF.interpolate(x, size=(6, 3), mode="bilinear"), [(2, 2, 4, 5)], "n",
     (1e-6, 1e-6)),
    ("interpolate_bilinear_factor", lambda x: F.interpolate(x, scale_factor=1.7, mode="bilinear"),
     lambda x: TF.interpolate(x, scale_factor=1.7, mode="bilinear"), [(1, 2, 4, 5)], "n",
     (1e-6, 1e-6)),
    ("interpolate_align_corners", lambda x: F.interpolate(x, size=(7, 9), mode="bilinear",
                                                          align_corners=True),
     lambda x: TF.interpolate(x, size=(7, 9), mode="bilinear", align_corners=True),
     [(1, 2, 4, 5)], "n", (1e-6, 1e-6)),
    ("unfold", lambda x: F.unfold(x, 3), lambda x: TF.unfold(x, 3), [(2, 2, 5, 6)], "n",
     "default"),
    ("unfold_all_args", lambda x: F.unfold(x, (2, 3), dilation=(2, 1), padding=1, stride=(1, 2)),
     lambda x: TF.unfold(x, (2, 3), dilation=(2, 1), padding=1, stride=(1, 2)),
     [(1, 3, 6, 7)], "n", "default"),
    ("fold", lambda c: F.fold(c, (5, 6), 3), lambda c: TF.fold(c, (5, 6), 3),
     [(2, 18, 12)], "n", "reduction"),
    ("fold_all_args", lambda c: F.fold(c, (6, 7), (2, 3), dilation=(2, 1), padding=1,
                                       stride=(1, 2)),
     lambda c: TF.fold(c, (6, 7), (2, 3), dilation=(2, 1), padding=1, stride=(1, 2)),
     [(1, 18, 24)], "n", "reduction"),
    ("mish", F.mish, TF.mish, [(3, 4)], "n", "transcendental"),
    ("prelu_one", lambda x, w: F.prelu(x, w), TF.prelu, [(3, 4), (1,)], "nn", "default"),
    ("prelu_channels", lambda x, w: F.prelu(x, w), TF.prelu, [(2, 3, 4, 2), (3,)], "nn",
     "default"),
    ("smooth_l1", lambda a, b: F.smooth_l1_loss(a, b, beta=0.5),
     lambda a, b: TF.smooth_l1_loss(a, b, beta=0.5), [(3, 4), (3, 4)], "nn", "reduction"),
    ("huber", lambda a, b: F.huber_loss(a, b, reduction="sum", delta=0.8),
     lambda a, b: TF.huber_loss(a, b, reduction="sum", delta=0.8), [(3, 4), (3, 4)], "nn",
     "reduction"),
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


def _first(fn):
    """Sort/topk/chunk return several tensors: differentiate the first (values)."""
    def wrapped(*xs):
        out = fn(*xs)
        return out[0] if isinstance(out, tuple) else out
    return wrapped


@pytest.mark.parametrize("name,ours,theirs,shapes,kinds,tol", CASES, ids=[c[0] for c in CASES])
def test_gradcheck_float64(name, ours, theirs, shapes, kinds, tol):
    inputs = [mt.tensor(a, requires_grad=True) for a in _inputs(shapes, kinds, np.float64)]
    assert gradcheck(_first(ours), *inputs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,ours,theirs,shapes,kinds,tol", CASES, ids=[c[0] for c in CASES])
def test_matches_torch(name, ours, theirs, shapes, kinds, tol, dtype):
    rtol, atol = tol if isinstance(tol, tuple) else (None, None)
    kind = "default" if isinstance(tol, tuple) else tol
    assert_matches_torch(ours, theirs, *_inputs(shapes, kinds, dtype, seed=1), kind=kind,
                         rtol=rtol, atol=atol)


def test_gradients_at_ties_and_zeros_match_torch():
    ties = np.array([[3.0, 1.0, 3.0], [0.0, 0.0, 0.0]])
    assert_matches_torch(lambda a: a.amax(1), lambda a: a.amax(1), ties)
    assert_matches_torch(lambda a: a.norm(dim=1), lambda a: a.norm(dim=1), ties)
    assert_matches_torch(lambda a: a.norm(p=float("inf"), dim=1),
                         lambda a: a.norm(p=float("inf"), dim=1), ties)
    assert_matches_torch(lambda a: a.prod(1), lambda a: a.prod(1),
                         np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 1.5]]))
    assert_matches_torch(lambda a: F.normalize(a), lambda a: TF.normalize(a), ties)
    assert_matches_torch(lambda a: a.index_select(0, mt.tensor([1, 1, 0])),
                         lambda a: a.index_select(0, torch.tensor([1, 1, 0])), ties)


def test_a_wrong_gradient_fails_gradcheck():
    from minitorch_cv.ops import math_ops

    original = math_ops.Sin.backward
    try:
        math_ops.Sin.backward = staticmethod(lambda ctx, g: g * ctx.saved_tensors[0])
        with pytest.raises(AssertionError):
            gradcheck(lambda a: a.sin(), mt.tensor(np.linspace(0.1, 1, 5), requires_grad=True))
    finally:
        math_ops.Sin.backward = original
