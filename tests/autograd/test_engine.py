"""The engine's known traps, its error messages, and gradcheck's own negative test."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import minitorch_cv as mt
from minitorch_cv.autograd.function import Function
from minitorch_cv.testing import GradcheckError, gradcheck
from minitorch_cv.testing.strategies import arrays, broadcastable_pair, non_contiguous


def test_reused_node_gets_both_contributions():
    a = mt.tensor([1.0, -2.0, 3.0], requires_grad=True)
    b = a + a
    c = b * b
    c.sum().backward()
    ta = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    tb = ta + ta
    (tb * tb).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy())


def test_long_chain_has_no_recursion_error():
    x = mt.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(50_000):
        y = y * 1.0
    y.sum().backward()
    assert x.grad.item() == 1.0


def test_backward_twice_accumulates():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    for _ in range(2):
        (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])
    y = (x * 3).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [10.0, 14.0])


def test_second_backward_without_retain_graph_says_what_to_do():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_no_grad_records_nothing():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    with mt.no_grad():
        y = (x * 2).exp().sum()
    assert y.grad_fn is None and not y.requires_grad
    assert mt.is_grad_enabled()


def test_softmax_of_extreme_logits_is_finite():
    x = mt.tensor([[1e4, -1e4], [-1e4, 1e4]], requires_grad=True)
    for out in (x.softmax(1), x.log_softmax(1), x.logsumexp(1)):
        assert np.isfinite(out.detach().numpy()).all()
        out.sum().backward()
        assert np.isfinite(x.grad.numpy()).all()
    np.testing.assert_allclose(x.softmax(1).detach().numpy(), [[1, 0], [0, 1]])
    np.testing.assert_allclose(x.log_softmax(1).detach().numpy(), [[0, -2e4], [-2e4, 0]])


class WrongSquare(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a * a

    @staticmethod
    def backward(ctx, grad_output):
        (a,) = ctx.saved_tensors
        return grad_output * a  # should be 2 * a


def test_gradcheck_catches_a_wrong_backward():
    x = mt.tensor(np.random.default_rng(0).standard_normal((3, 2)), requires_grad=True)
    with pytest.raises(GradcheckError, match=r"input 0 .* at index"):
        gradcheck(WrongSquare.apply, x)


def test_gradcheck_demands_float64():
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda x: x * 2, mt.ones(2, requires_grad=True))


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_grad_shape_equals_input_shape_under_broadcasting(data):
    shape_a, shape_b = data.draw(broadcastable_pair())
    a = mt.tensor(data.draw(arrays(shape_a)), requires_grad=True)
    b = mt.tensor(data.draw(arrays(shape_b)), requires_grad=True)
    for op in (mt.add, mt.sub, mt.mul, mt.maximum, lambda x, y: mt.where(x > 0, x, y)):
        a.grad = b.grad = None
        op(a, b).sum().backward()
        assert a.grad.shape == a.shape and b.grad.shape == b.shape


@settings(max_examples=20, deadline=None)
@given(non_contiguous(arrays(st.just((3, 4)))))
def test_non_contiguous_inputs_give_the_same_gradients(array):
    assert not array.flags.c_contiguous
    x = mt.tensor(array, requires_grad=True)
    assert gradcheck(lambda t: (t.exp() * t).sum(1), x)


def test_backward_on_non_scalar_needs_gradient():
    x = mt.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"scalar output.*\(2, 3\).*loss.sum\(\)"):
        (x * 2).backward()
    (x * 2).backward(mt.ones(2, 3))
    assert x.grad.shape == (2, 3)


def test_backward_without_requires_grad_names_the_fix():
    with pytest.raises(RuntimeError, match="requires_grad=True"):
        mt.ones(2).sum().backward()


def test_mixing_devices_is_refused():
    a, b = mt.ones(2), mt.ones(2).to("cuda-sim")
    assert b.device == "cuda-sim"
    with pytest.raises(RuntimeError, match=r"same device.*\.to\("):
        a + b


def test_in_place_change_of_a_saved_tensor_is_detected():
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    x = mt.tensor([3.0, 4.0])
    y = (w * x).sum()
    x.add_(1.0)  # Mul saved x: its gradient for w would be wrong now
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_in_place_change_of_an_unsaved_tensor_is_fine():
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    x = mt.tensor([3.0, 4.0])
    y = (w + x).sum()  # Add saves nothing
    x.mul_(2)
    y.backward()
    np.testing.assert_allclose(w.grad.numpy(), [1.0, 1.0])


def test_in_place_on_a_leaf_that_requires_grad_needs_no_grad():
    w = mt.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable.*no_grad"):
        w += 1
    with mt.no_grad():
        w -= 0.5
    np.testing.assert_allclose(w.detach().numpy(), [0.5, 0.5])


def test_retain_grad_on_non_leaf():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), [6.0, 12.0])
    assert not h.is_leaf and x.is_leaf


def test_detach_cuts_the_graph_and_shares_data():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.grad_fn is None


def test_int_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        mt.tensor([1, 2], requires_grad=True)
