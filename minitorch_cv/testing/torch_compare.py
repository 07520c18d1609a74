"""Compare an op with PyTorch on the same input: forward values, every gradient, shapes, dtypes.

One line per op in a test::

    assert_matches_torch(lambda x, w: F.conv2d(x, w, padding=1),
                         lambda x, w: torch.nn.functional.conv2d(x, w, padding=1),
                         x_array, w_array)

Floating inputs require grad on both sides; a random upstream gradient (same on both sides)
is back-propagated and every input gradient compared. torch is imported only when called.

Tolerances live in one table, ``TOLERANCES``; the reason for each entry is written beside it.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor

# (rtol, atol) by dtype and by kind of op; the "default" row is for elementwise ops, where
# both libraries do the same arithmetic and only the last bits may differ.
TOLERANCES: dict[str, dict[str, tuple[float, float]]] = {
    "default": {"float32": (1e-5, 1e-6), "float64": (1e-12, 1e-14)},
    # sums over many terms: order of accumulation differs (pairwise in NumPy, vectorised in
    # torch), so error grows with the number of terms
    "reduction": {"float32": (1e-5, 1e-5), "float64": (1e-10, 1e-12)},
    # GEMMs: BLAS blocking differs between OpenBLAS (NumPy) and MKL/oneDNN (torch)
    "matmul": {"float32": (1e-4, 1e-5), "float64": (1e-10, 1e-12)},
    # conv = im2col + GEMM here vs. direct/oneDNN convolution in torch: sums in other orders
    "conv": {"float32": (1e-4, 1e-4), "float64": (1e-10, 1e-11)},
    # batch norm backward subtracts nearly equal sums (mean of g and of g*xhat)
    "norm": {"float32": (1e-4, 1e-4), "float64": (1e-9, 1e-11)},
    # transcendental functions: libm vs SLEEF vectorised implementations differ by a few ulp
    "transcendental": {"float32": (1e-5, 1e-6), "float64": (1e-11, 1e-13)},
}


def _to_torch(array, requires_grad: bool):
    import torch  # noqa: PLC0415  (test/compare extra only)

    t = torch.from_numpy(np.ascontiguousarray(array).copy())
    if requires_grad:
        t.requires_grad_(True)
    return t


def _first(out):
    return out[0] if isinstance(out, (tuple, list)) else out


def assert_matches_torch(ours, theirs, *arrays, kind: str = "default", rtol: float | None = None,
                         atol: float | None = None, grad: bool = True, seed: int = 0,
                         device: str = "cpu") -> None:
    """Run ``ours`` on minitorch_cv Tensors and ``theirs`` on torch tensors and compare.

    Args:
        ours, theirs: functions of the inputs returning a tensor (or a tuple; the first item is
            differentiated, every item's value compared).
        arrays: NumPy arrays (floating ones get ``requires_grad``) or plain Python values
            passed through unchanged to both functions.
        kind: row of ``TOLERANCES``; ``rtol``/``atol`` override it.
        grad: also compare every input gradient under a random upstream gradient.
        device: where our side runs ("cpu" or "cuda-sim").
    """
    import torch  # noqa: PLC0415

    is_array = [isinstance(a, np.ndarray) for a in arrays]
    differentiable = [ok and a.dtype.kind == "f" and grad for ok, a in zip(is_array, arrays)]
    mine = [Tensor(a.copy(), requires_grad=d, device=device) if ok else a
            for a, ok, d in zip(arrays, is_array, differentiable)]
    ref = [_to_torch(a, d) if ok else a for a, ok, d in zip(arrays, is_array, differentiable)]
    out_mine, out_ref = ours(*mine), theirs(*ref)
    seq_mine = out_mine if isinstance(out_mine, (tuple, list)) else (out_mine,)
    seq_ref = out_ref if isinstance(out_ref, (tuple, list)) else (out_ref,)
    for k, (a, b) in enumerate(zip(seq_mine, seq_ref)):
        _compare(f"output {k}", a, b, kind, rtol, atol)
    if not grad or not any(differentiable):
        return
    out_mine, out_ref = _first(out_mine), _first(out_ref)
    rng = np.random.default_rng(seed)
    upstream = rng.standard_normal(out_ref.shape).astype(str(out_ref.dtype).replace("torch.", ""))
    out_mine.backward(Tensor(upstream, device=device))
    out_ref.backward(torch.from_numpy(upstream))
    for i, d in enumerate(differentiable):
        if not d:
            continue
        got, want = mine[i].grad, ref[i].grad
        if want is None:
            want_array = np.zeros(arrays[i].shape, dtype=arrays[i].dtype)
        else:
            want_array = want.numpy()
        got_array = np.zeros_like(want_array) if got is None else got.numpy()
        _compare(f"gradient of input {i}", got_array, want_array, kind, rtol, atol)


def _compare(what: str, got, want, kind: str, rtol, atol) -> None:
    got_array = backend.to_numpy(got.array) if isinstance(got, Tensor) else np.asarray(got)
    want_array = want.detach().numpy() if hasattr(want, "detach") else np.asarray(want)
    if tuple(got_array.shape) != tuple(want_array.shape):
        raise AssertionError(f"{what}: shape {tuple(got_array.shape)} != torch's "
                             f"{tuple(want_array.shape)}")
    if got_array.dtype != want_array.dtype:
        raise AssertionError(f"{what}: dtype {got_array.dtype} != torch's {want_array.dtype}")
    if got_array.dtype.kind in "iub":
        np.testing.assert_array_equal(got_array, want_array, err_msg=what)
        return
    table = TOLERANCES[kind].get(str(got_array.dtype), TOLERANCES[kind]["float32"])
    np.testing.assert_allclose(got_array, want_array,
                               rtol=table[0] if rtol is None else rtol,
                               atol=table[1] if atol is None else atol, err_msg=what)
