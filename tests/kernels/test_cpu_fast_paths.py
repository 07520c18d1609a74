"""CPU-only fast paths: the parallel ReLU loops give NumPy's values exactly (NaN, infinities,
signed zeros) on both sides of the size below which they hand over to NumPy, and ops use them
(and the 2x2 max-pool backward) where they apply, with torch's gradients."""

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv.kernels import cpu
from minitorch_cv.kernels.cpu import elementwise


@pytest.mark.parametrize("size", [elementwise.PARALLEL_MIN_SIZE - 1, elementwise.PARALLEL_MIN_SIZE,
                                  3 * elementwise.PARALLEL_MIN_SIZE + 5])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_kernels_equal_numpy_bit_for_bit(size, dtype):
    rng = np.random.default_rng(size)
    a = rng.standard_normal(size).astype(dtype)
    a[:6] = [np.nan, -0.0, 0.0, np.inf, -np.inf, -1.0]
    out = cpu.relu_forward(a.reshape(-1, 1))
    expected = np.maximum(a, 0).reshape(-1, 1)
    assert out.dtype == dtype and out.shape == expected.shape
    np.testing.assert_array_equal(out, expected)
    assert np.array_equal(np.signbit(out), np.signbit(expected))
    g = rng.standard_normal(size).astype(dtype)
    g[:8] = [np.inf, -np.inf, -2.0, 3.0, np.nan, -1.0, 1.0, 2.0]  # at NaN, -0, 0, inf, -inf, ...
    with np.errstate(invalid="ignore"):  # inf * 0, as NumPy computes it
        expected = g * (np.maximum(a, 0) > 0)
        got = cpu.relu_backward(g.reshape(-1, 1), out).reshape(-1)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, expected)
    assert np.array_equal(np.signbit(got), np.signbit(expected))


def test_relu_backward_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match="same shape"):
        cpu.relu_backward(np.ones((2, 3)), np.ones((3, 2)))


def test_relu_op_uses_the_kernels_on_large_tensors(monkeypatch):
    # the op's result and gradient on a large tensor come from the parallel loops (a spy
    # counts the calls) and equal the textbook expressions
    calls = []
    for name in ("relu_forward", "relu_backward"):
        real = getattr(cpu, name)
        monkeypatch.setattr(cpu, name, lambda *a, _real=real, _n=name, **kw: calls.append(_n)
                            or _real(*a, **kw))
    x = np.random.default_rng(0).standard_normal((4, 8, 64, 64)).astype(np.float32)
    t = mt.Tensor(x, requires_grad=True)
    y = mt.relu(t)
    g = np.random.default_rng(1).standard_normal(x.shape).astype(np.float32)
    y.backward(mt.Tensor(g))
    assert calls == ["relu_forward", "relu_backward"]
    np.testing.assert_array_equal(y.array, np.maximum(x, 0))
    np.testing.assert_array_equal(t.grad.array, g * (x > 0))


def test_max_pool_op_uses_the_2x2_backward_where_windows_tile(monkeypatch):
    import minitorch_cv.functional as F

    calls = []
    real = cpu.max_pool2d_backward_2x2
    monkeypatch.setattr(cpu, "max_pool2d_backward_2x2",
                        lambda *a: calls.append(a[0].shape) or real(*a))
    x = np.random.default_rng(0).standard_normal((2, 3, 9, 8)).astype(np.float32)
    for kwargs, used in ((dict(kernel_size=2), True), (dict(kernel_size=2, ceil_mode=True), False),
                         (dict(kernel_size=2, stride=1), False), (dict(kernel_size=3), False)):
        calls.clear()
        t = mt.Tensor(x, requires_grad=True)
        F.max_pool2d(t, **kwargs).sum().backward()
        assert bool(calls) == used, kwargs
        import torch

        tt = torch.tensor(x, requires_grad=True)
        torch.nn.functional.max_pool2d(tt, **kwargs).sum().backward()
        np.testing.assert_array_equal(t.grad.array, tt.grad.numpy())


@pytest.mark.parametrize("shape", [(2, 3, 4, 4), (4, 8, 64, 64)])  # NumPy's and the loops' sizes
def test_relu_in_place_while_recording_writes_the_tensors_own_array(shape):
    # relu_ on a non-leaf: the result goes straight into the tensor's array (no temporary:
    # same array object, as detach() aliases see), gradients equal torch's, and changing the
    # tensor in place again makes backward raise, as torch does
    import torch

    rng = np.random.default_rng(1)
    x_np = rng.standard_normal(shape).astype(np.float32)
    g_np = rng.standard_normal(shape).astype(np.float32)
    x = mt.Tensor(x_np, requires_grad=True)
    y = x * 2
    alias, array = y.detach(), y.array
    assert y.relu_() is y and y.array is array
    np.testing.assert_array_equal(alias.array, np.maximum(2 * x_np, 0))
    (y * 3).backward(mt.Tensor(g_np))
    tx = torch.tensor(x_np, requires_grad=True)
    (torch.relu_(tx * 2) * 3).backward(torch.tensor(g_np))
    np.testing.assert_allclose(x.grad.array, tx.grad.numpy(), rtol=1e-6)

    y = mt.Tensor(x_np, requires_grad=True) * 2
    z = y.relu_().sum()
    y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward()
    ty = torch.tensor(x_np, requires_grad=True) * 2
    tz = torch.relu_(ty).sum()
    ty.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        tz.backward()


def test_relu_in_place_on_a_view_and_on_an_expanded_tensor():
    # a view is written back into its base (general path); an expand() result is refused
    import torch

    x_np = np.random.default_rng(2).standard_normal((3, 4)).astype(np.float32)
    x = mt.Tensor(x_np, requires_grad=True)
    y = x * 1
    y[:, 1].relu_()
    y.sum().backward()
    tx = torch.tensor(x_np, requires_grad=True)
    ty = tx * 1
    ty[:, 1].relu_()
    ty.sum().backward()
    np.testing.assert_array_equal(x.grad.array, tx.grad.numpy())
    with pytest.raises(RuntimeError, match="(?i)expand"):
        (mt.Tensor(x_np[:1], requires_grad=True) * 1).expand(3, 4).relu_()


def test_relu_forward_into_refuses_an_output_it_cannot_fill():
    a = np.ones((4, 5), np.float32)
    for out in (np.ones((5, 4), np.float32), np.ones((4, 5), np.float64),
                np.ones((4, 10), np.float32)[:, ::2]):
        with pytest.raises(ValueError, match="C-contiguous"):
            cpu.relu_forward(a, out=out)
    assert cpu.relu_forward(a, out=a) is a


SIZES = [elementwise.PARALLEL_MIN_SIZE - 1, 3 * elementwise.PARALLEL_MIN_SIZE]


@pytest.mark.parametrize("size", SIZES)
def test_add_kernel_and_op_equal_numpy(monkeypatch, size):
    # the parallel addition gives NumPy's sums (inf, NaN included); shapes or dtypes that
    # differ go to NumPy's broadcasting; the Add op calls it for same-shape operands only
    rng = np.random.default_rng(size)
    a = rng.standard_normal(size).astype(np.float32)
    b = rng.standard_normal(size).astype(np.float32)
    a[:3], b[:3] = [np.inf, np.nan, 1.0], [-np.inf, 0.0, -1.0]
    with np.errstate(invalid="ignore"):  # inf + -inf, as NumPy computes it
        np.testing.assert_array_equal(cpu.add(a, b), a + b)
        np.testing.assert_array_equal(cpu.add(a[:4].reshape(2, 2), b[:2]),
                                      a[:4].reshape(2, 2) + b[:2])
    assert cpu.add(a[3:], b[3:].astype(np.float64)).dtype == np.float64
    calls = []
    real = cpu.add
    monkeypatch.setattr(cpu, "add", lambda x, y: calls.append(x.shape) or real(x, y))
    x, y = mt.Tensor(a[3:].reshape(-1, 1)), mt.Tensor(b[3:].reshape(-1, 1))
    np.testing.assert_array_equal((x + y).array, a[3:].reshape(-1, 1) + b[3:].reshape(-1, 1))
    broadcast = x + mt.Tensor(b[3:4])  # NumPy
    np.testing.assert_array_equal(broadcast.array, a[3:].reshape(-1, 1) + b[3:4])
    assert calls == [x.shape]


def test_backward_adds_a_nodes_gradients_with_the_parallel_add(monkeypatch):
    # a node feeding two later nodes (a residual block's input) gets the sum of both
    # gradients, added by the device's add (the CPU's parallel loop for large arrays)
    calls = []
    real = cpu.add
    monkeypatch.setattr(cpu, "add", lambda x, y: calls.append(x.shape) or real(x, y))
    rng = np.random.default_rng(4)
    x_np = rng.standard_normal((4, 8, 64, 64)).astype(np.float32)
    x = mt.Tensor(x_np, requires_grad=True)
    h = x * 2
    (mt.relu(h) * 3 + h).sum().backward()
    assert (4, 8, 64, 64) in calls[1:]  # calls[0]: the forward's residual addition
    np.testing.assert_allclose(x.grad.array, 2 * (3 * (x_np > 0) + 1), rtol=1e-6)
