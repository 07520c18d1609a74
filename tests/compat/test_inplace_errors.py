"""In-place ops: the errors torch raises (and the ones it does not), version counters, aliases,
no graph growth when nothing needs a gradient, and gradcheck of every recorded in-place op.

Every error case runs on both libraries in the same test: the outcome (which error class, or
none) must be torch's."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import minitorch_cv as mt
import minitorch_cv.functional as mF
from minitorch_cv.testing import gradcheck

SAVED_MODIFIED = "modified by an inplace operation"


def outcome(program, lib, F):
    """'ok', or the error class and whether the message is torch's (saved-tensor / leaf)."""
    x = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
    c = lib.tensor([1.5, 2.0, -0.5], requires_grad=True)
    try:
        out = program(lib, F, x, c)
        out.sum().backward()
    except RuntimeError as err:
        text = str(err)
        if SAVED_MODIFIED in text:
            return "saved tensor modified"
        if "leaf Variable that requires grad is being used in an in-place" in text:
            return "view of leaf" if text.startswith("a view") else "leaf"
        return f"other RuntimeError: {text[:80]}"
    return "ok"


def sigmoid_then_mul_(lib, F, x, c):
    y = x.sigmoid()
    y.mul_(2)  # Sigmoid saved its output
    return y


def relu_then_mul_(lib, F, x, c):
    y = F.relu(x * 1)
    y.mul_(2)
    return y


def relu_inplace_then_add_(lib, F, x, c):
    y = x * 1
    y.relu_()
    y += c  # relu_ saved its result: torch's BasicBlock adds first, then ReLU
    return y


def exp_then_setitem(lib, F, x, c):
    y = (x * 1).exp()
    y[0] = 0.0
    return y


def pow_then_add_(lib, F, x, c):
    y = x * 1
    z = y.pow(2)  # saves its input
    y.add_(1)
    return z


def mul_by_constant_then_add_(lib, F, x, c):
    y = x * 1
    z = y * lib.ones(3)  # the constant's gradient is not needed: y is not saved
    y.add_(1)
    return z + y


def div_of_constant_then_add_(lib, F, x, c):
    y = x * 1
    z = lib.ones(3) / y  # y is saved (the quotient's gradient needs it)
    y.add_(1)
    return z


def frozen_weight_matmul_then_add_(lib, F, x, c):
    y = x * 1
    z = y @ lib.ones(3, 2)  # the constant weight needs no gradient: y is not saved
    y.add_(1)
    return z


def linear_input_then_add_(lib, F, x, c):
    y = x * 1
    z = y @ c
    y.add_(1)
    return z


def conv_input_then_add_(lib, F, x, c):
    y = (x * 1).reshape(1, 1, 1, 3)
    y = y * lib.ones(1, 1, 3, 1)  # (1, 1, 3, 3), a non-leaf
    z = F.conv2d(y, c.reshape(1, 1, 1, 3))
    y.add_(1)
    return z


def detach_alias_then_zero_(lib, F, x, c):
    y = x * c
    z = y.sigmoid()
    z.detach().zero_()  # shares the version counter
    return z


def data_alias_then_zero_(lib, F, x, c):
    y = x * c
    z = y.sigmoid()
    z.data.zero_()  # .data does not: not detected, as torch (the gradient is silently wrong)
    return z


def leaf_add_(lib, F, x, c):
    x.add_(1)
    return x


def leaf_setitem(lib, F, x, c):
    x[0] = 1.0
    return x


def view_of_leaf_add_(lib, F, x, c):
    x[0:2].add_(1)
    return x


def leaf_add_under_no_grad(lib, F, x, c):
    with lib.no_grad():
        x.add_(1)
        x[0] = 3.0
    return x * c


def non_leaf_under_no_grad(lib, F, x, c):
    y = x * c
    with lib.no_grad():
        y.add_(1)  # not recorded; Mul saved nothing of y, so backward is fine
    return y


CASES = [
    (sigmoid_then_mul_, "saved tensor modified"),
    (relu_then_mul_, "saved tensor modified"),
    (relu_inplace_then_add_, "saved tensor modified"),
    (exp_then_setitem, "saved tensor modified"),
    (pow_then_add_, "saved tensor modified"),
    (mul_by_constant_then_add_, "ok"),
    (div_of_constant_then_add_, "saved tensor modified"),
    (linear_input_then_add_, "saved tensor modified"),
    (frozen_weight_matmul_then_add_, "ok"),
    (conv_input_then_add_, "saved tensor modified"),
    (detach_alias_then_zero_, "saved tensor modified"),
    (data_alias_then_zero_, "ok"),
    (leaf_add_, "leaf"),
    (leaf_setitem, "view of leaf"),
    (view_of_leaf_add_, "view of leaf"),
    (leaf_add_under_no_grad, "ok"),
    (non_leaf_under_no_grad, "ok"),
]


@pytest.mark.parametrize(("program", "expected"), CASES, ids=[c[0].__name__ for c in CASES])
def test_error_outcome_is_torchs(program, expected):
    assert outcome(program, torch, torch.nn.functional) == expected  # the spec
    assert outcome(program, mt, mF) == expected


def max_pool_input_then_add_(lib, F, x, c):
    y = (x * c).reshape(1, 1, 1, 3)
    z = F.max_pool2d(y, (1, 2))  # ours keeps the argmax only, torch keeps y too
    y.add_(1)
    return z


def var_input_then_add_(lib, F, x, c):
    y = x * c
    z = y.var()  # ours keeps the centred values (a private array), torch keeps y
    y.add_(1)
    return z


@pytest.mark.parametrize("program", [max_pool_input_then_add_, var_input_then_add_])
def test_known_difference_ops_that_save_less_than_torch(program):
    # torch raises; ours never needed y's values, so its gradient is right and it does not
    assert outcome(program, torch, torch.nn.functional) == "saved tensor modified"
    assert outcome(program, mt, mF) == "ok"


def test_saved_tensor_error_names_versions_like_torch():
    for lib, F in ((mt, mF), (torch, torch.nn.functional)):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = F.leaky_relu(x * 1, 0.2, inplace=True)  # saves its result, at version 1
        y.mul_(3)
        y.add_(1)
        with pytest.raises(RuntimeError, match="is at version 3; expected version 1 instead"):
            y.sum().backward()


# ----------------------------------------------------------------------------- versions
def version_trace(lib):
    x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = x * 2
    trace = [y._version]
    for step in (lambda: y.add_(1), lambda: y.mul_(x), lambda: y.relu_(),
                 lambda: y.__setitem__(0, 5.0), lambda: y.__iadd__(x), lambda: y.zero_(),
                 lambda: y.clamp_(-1, 1), lambda: y.copy_(x)):
        step()
        trace.append(y._version)
    d = y.detach()
    d.fill_(0.0)
    trace.append(y._version)  # detach() shares the counter
    y.data.fill_(1.0)
    trace.append(y._version)  # .data does not
    t = lib.zeros(3)
    t.add_(1)
    t[1] = 2.0
    trace.append(t._version)
    return trace


def test_version_counter_moves_like_torchs():
    assert version_trace(mt) == version_trace(torch)


# ----------------------------------------------------------------------------- recording
def test_in_place_on_tensors_without_grad_records_nothing():
    t = mt.ones(2, 3)
    t.add_(1).mul_(2).relu_()
    t[0] = mt.tensor([1.0, 2.0, 3.0])
    t += 1
    assert t.grad_fn is None and not t.requires_grad and t.is_leaf
    assert t.tolist() == [[2.0, 3.0, 4.0], [5.0, 5.0, 5.0]]


def test_in_place_under_no_grad_keeps_the_graph_node():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    node = y.grad_fn
    with mt.no_grad():
        y.add_(1)
    assert y.grad_fn is node and y._version == 1  # torch: same, MulBackward0 stays


def test_a_grad_requiring_operand_makes_the_tensor_join_the_graph():
    v = mt.tensor([2.0, 3.0], requires_grad=True)
    t = mt.zeros(2)
    t.mul_(0).add_(v)
    assert t.requires_grad and not t.is_leaf
    (t * t).sum().backward()
    np.testing.assert_allclose(v.grad.numpy(), [4.0, 6.0])


def test_true_in_place_aliases_see_the_change():
    x = mt.tensor([1.0, -2.0], requires_grad=True)
    y = x * 1
    alias, data = y.detach(), y.data
    y.relu_()
    assert alias.tolist() == [1.0, 0.0] and data.tolist() == [1.0, 0.0]


def test_retain_grad_follows_the_tensor_through_in_place_ops():
    grads = []
    for lib in (mt, torch):
        x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        y = x * 2
        y.retain_grad()
        y.mul_(3)
        (y * y).sum().backward()
        grads.append(y.grad.numpy())
    np.testing.assert_allclose(*grads)


def test_other_errors_are_torchs():
    for lib in (mt, torch):
        y = lib.tensor([1.0, 2.0, 3.0], requires_grad=True) * 1
        with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
            y.add_(lib.ones(2, 3))
        with pytest.raises(RuntimeError, match="can't be cast to the desired output type Long"):
            lib.ones(3, dtype=lib.int64).add_(1.5)
        with pytest.raises(RuntimeError, match="more than one element of the written-to"):
            lib.zeros(1).expand(3).add_(1)


def test_views_share_the_base_version_counter_like_torch():
    traces = []
    for lib in (mt, torch):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        y = x * 1
        row, flat, col = y[0], y.reshape(-1), y.T
        row.add_(1)
        flat.mul_(2)
        col[1].sub_(1)
        copy = y[[0, 1]]  # advanced indexing copies: its own counter
        copy.zero_()
        traces.append([t._version for t in (y, row, flat, col, copy)] + [y.tolist()])
    assert traces[0] == traces[1]


def test_in_place_on_a_view_made_by_a_function_directly_refuses():
    from minitorch_cv.ops.movement import GetItem

    x = mt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    view = GetItem.apply(x * 2, index=slice(0, 2))  # no Tensor method: base unknown
    with pytest.raises(RuntimeError, match=r"base\[idx\] = value"):
        view.mul_(3)


def test_setitem_value_gets_its_gradient():
    # the bug: t[i] = v used to drop v's graph silently
    v = mt.tensor([1.0, 2.0], requires_grad=True)
    t = mt.zeros(4)
    t[1:3] = v * v
    (t * mt.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_allclose(v.grad.numpy(), [2 * 1.0 * 2.0, 2 * 2.0 * 3.0])


# ----------------------------------------------------------------------------- gradcheck
rng = np.random.default_rng(3)
X, Y = rng.standard_normal((2, 3)), rng.uniform(0.5, 2.0, (2, 3))

GRADCHECKS = {
    "add_": lambda x, c: (x * 1).add_(c, alpha=2.5),
    "sub_": lambda x, c: (x * 1).sub_(c),
    "mul_": lambda x, c: (x * 1).mul_(c),
    "div_": lambda x, c: (x * 1).div_(c),
    "pow_": lambda x, c: (c * 1).pow_(3),
    "clamp_": lambda x, c: (x * c).clamp_(-0.4, 0.6),
    "relu_": lambda x, c: (x * c).relu_(),
    "leaky_relu_": lambda x, c: mF.leaky_relu(x * c, 0.1, inplace=True),
    "sigmoid_": lambda x, c: (x * c).sigmoid_(),
    "tanh_": lambda x, c: (x * c).tanh_(),
    "exp_": lambda x, c: (x * c).exp_(),
    "log_": lambda x, c: (c * 1).log_() * x,
    "sqrt_": lambda x, c: (c * 1).sqrt_() * x,
    "abs_": lambda x, c: (x * c).abs_(),
    "neg_": lambda x, c: (x * c).neg_(),
    "copy_": lambda x, c: (x * 1).copy_(c[0]) * x,
    "fill_": lambda x, c: (x * 1).fill_(c[0, 1]) * x,
    "zero_": lambda x, c: (x * 1).zero_() + x * c,
    "setitem": lambda x, c: _setitem(x * 1, c),
    "iadd": lambda x, c: _iadd(x * 1, c),
}


def _setitem(y, c):
    y[0, 1:] = c[1, :2]
    y[y > 0.5] = 0.0
    y[[1, 0], 2] = c[0, :2] * 2  # distinct integer indices (repeated ones: see test_inplace)
    return y


def _iadd(y, c):
    y += c
    y *= c
    return y


@pytest.mark.parametrize("name", list(GRADCHECKS))
def test_gradcheck_of_in_place_op(name):
    x = mt.tensor(X, requires_grad=True)
    c = mt.tensor(Y, requires_grad=True)
    assert gradcheck(GRADCHECKS[name], x, c)
