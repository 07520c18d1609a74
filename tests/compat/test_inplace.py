"""In-place ops in a graph, as a student writes them for torch: each program runs on minitorch_cv
and on torch with the same inputs and weights (float64), and forward values and every gradient
must agree (atol 1e-10: the same arithmetic, only summation order differs)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import minitorch_cv as mt
import minitorch_cv.functional as mF
import minitorch_cv.nn as mnn

TOL = dict(rtol=1e-9, atol=1e-10)


def _numpy(t):
    return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else t.detach().numpy()


def run_both(program, *arrays, grad=None):
    """``program(lib, F, *tensors)`` on both libraries; every array becomes a float64 leaf
    that requires grad. Returns, per library, the output and the leaves' gradients."""
    results = []
    for lib, F in ((mt, mF), (torch, torch.nn.functional)):
        leaves = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
        out = program(lib, F, *leaves)
        upstream = grad if grad is not None else np.linspace(-1, 2, out.numel()).reshape(out.shape)
        out.backward(lib.tensor(upstream, dtype=lib.float64))
        results.append((_numpy(out), [None if p.grad is None else _numpy(p.grad) for p in leaves]))
    return results


def assert_same(results):
    (ours, our_grads), (theirs, their_grads) = results
    np.testing.assert_allclose(ours, theirs, **TOL)
    for i, (g, h) in enumerate(zip(our_grads, their_grads)):
        assert (g is None) == (h is None), f"input {i}: gradient presence differs"
        if g is not None:
            np.testing.assert_allclose(g, h, **TOL, err_msg=f"gradient of input {i}")


rng = np.random.default_rng(0)
A, B, C = (rng.standard_normal((3, 4)) for _ in range(3))


# ----------------------------------------------------------------------------- patterns
def residual(lib, F, x, w, identity):
    out = x * w
    out += identity  # torchvision's BasicBlock
    return F.relu(out, inplace=True)


def chain_of_methods(lib, F, x, c, d):
    y = x * 2
    y.add_(c, alpha=0.5).mul_(d).sub_(c).div_(d + 3)  # d + 3 > 0 for these inputs
    y.clamp_(min=-0.5, max=1.0)
    y.relu_()
    return y * c


def mul_by_grad_requiring(lib, F, x, c, _):
    b = x * 1.5
    b.mul_(c)  # the gradient for c needs b's old values: torch keeps a copy
    return b


def unary_chain(lib, F, x, c, _):
    # abs_, log_ and pow_ save the old values (a private copy), neg_ and add_ nothing: chainable
    y = x * c
    y.abs_().add_(0.1).log_().neg_().pow_(2)
    return y


@pytest.mark.parametrize("last", ["sqrt_", "exp_", "tanh_", "sigmoid_", "relu_"])
def test_op_that_saves_its_output_matches_torch(last):
    # these save their result: they may only be the last in-place op on the tensor
    def program(lib, F, x, c, _):
        y = (x * c).abs_()
        getattr(y, last)()
        return y * c

    assert_same(run_both(program, A, B, C))


def augmented_operators(lib, F, x, c, d):
    y = x + 0
    y += c
    y -= d
    y *= c
    y /= 2.0
    y **= 2
    return y


def setitem_with_grad(lib, F, x, c, _):
    t = lib.zeros(3, 4, dtype=lib.float64)
    t[1:] = c[:2] * 2  # t did not require grad: it joins the graph
    t[0, 1] = x[0, 0]
    y = x * 3
    y[:, 1:3] = t[:, :2]
    y[y > 1] = 0.0  # boolean mask with a scalar
    y[[0, 2]] = c[0]  # integer index, value broadcast over the rows
    return y


def setitem_repeated_index(lib, F, x, c, _):
    y = x * 1
    y[[0, 0, 2]] = c[:3]  # repeated index: last write stays; each copy gets the gradient (torch)
    return y


def leaky_and_copy(lib, F, x, c, d):
    y = x * c
    F.leaky_relu(y, 0.2, inplace=True)
    z = lib.empty(3, 4, dtype=lib.float64)
    z.copy_(y[0])  # broadcast source; z joins the graph through copy_
    z.mul_(d)
    w = x * d
    w.zero_()  # w's old values get a zero gradient
    w.fill_(2.0)
    v = x * 1
    v.fill_(c[0, 0])  # a 0-d tensor: it gets the sum of the gradient
    return z + y + w + v


def views(lib, F, x, c, d):
    # each in-place change of a view is written back into its base, as torch's CopySlices
    y = x * d
    y[:, 0] += c[:, 1]  # Python: tmp = y[:, 0]; tmp += ...; y[:, 0] = tmp
    y[0:2].mul_(c[0:2])
    y.T[1].add_(1.0)
    y[1, 2] *= c[0, 0]
    y.transpose(0, 1)[2:].sub_(d[0, :3])
    y.reshape(-1)[3:7].clamp_(-0.5, 0.5)
    y.reshape(-1)[::5].relu_()  # saves its result: last in-place op on y
    return y


@pytest.mark.parametrize("program", [views, residual, chain_of_methods, mul_by_grad_requiring,
                                     unary_chain, augmented_operators, setitem_with_grad,
                                     setitem_repeated_index, leaky_and_copy])
def test_in_place_program_matches_torch(program):
    assert_same(run_both(program, A, np.abs(B) + 0.5, C))


def test_in_place_op_returns_the_same_tensor_with_a_new_node():
    x = mt.tensor(A, requires_grad=True)
    y = x * 2
    first = y.grad_fn
    assert y.relu_() is y and mF.relu(y, inplace=True) is y
    assert y.grad_fn is not first and y.requires_grad and not y.is_leaf
    # its node's parent is the previous node of the same tensor (a chain, not a copy)
    assert y.grad_fn.parents[0].parents[0] is first


# ----------------------------------------------------------------------------- CNN blocks
def _make_blocks(lib, F):
    nn = lib.nn

    class ConvBNReLU(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.bn = nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4)
            self.relu = nn.ReLU(inplace=True)

        def forward(self, x):
            return self.relu(self.bn(self.conv(x)))

    class BasicBlock(nn.Module):  # torchvision's, verbatim but for the constructor
        def __init__(self, channels=3, planes=4, stride=2):
            super().__init__()
            self.conv1 = nn.Conv2d(channels, planes, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.downsample = nn.Sequential(nn.Conv2d(channels, planes, 1, stride, bias=False),
                                            nn.BatchNorm2d(planes))

        def forward(self, x):
            identity = x
            out = self.conv1(x)
            out = self.bn1(out)
            out = self.relu(out)
            out = self.conv2(out)
            out = self.bn2(out)
            identity = self.downsample(x)
            out += identity
            out = self.relu(out)
            return out

    class Bottleneck(nn.Module):  # torchvision's, identity shortcut
        def __init__(self, channels=8, width=2):
            super().__init__()
            self.conv1, self.bn1 = nn.Conv2d(channels, width, 1, bias=False), nn.BatchNorm2d(width)
            self.conv2 = nn.Conv2d(width, width, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(width)
            self.conv3 = nn.Conv2d(width, channels, 1, bias=False)
            self.bn3 = nn.BatchNorm2d(channels)
            self.relu = nn.ReLU(inplace=True)

        def forward(self, x):
            identity = x
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.relu(self.bn2(self.conv2(out)))
            out = self.bn3(self.conv3(out))
            out += identity
            out = self.relu(out)
            return out

    class Residual(nn.Module):  # d2l's (current edition), with explicit channels
        def __init__(self, channels=3, num_channels=4, use_1x1conv=True, strides=1):
            super().__init__()
            self.conv1 = nn.Conv2d(channels, num_channels, 3, padding=1, stride=strides)
            self.conv2 = nn.Conv2d(num_channels, num_channels, 3, padding=1)
            self.conv3 = nn.Conv2d(channels, num_channels, 1, stride=strides) \
                if use_1x1conv else None
            self.bn1, self.bn2 = nn.BatchNorm2d(num_channels), nn.BatchNorm2d(num_channels)

        def forward(self, X):
            Y = F.relu(self.bn1(self.conv1(X)))
            Y = self.bn2(self.conv2(Y))
            if self.conv3:
                X = self.conv3(X)
            Y += X
            return F.relu(Y)

    class TwoBlocks(nn.Module):  # a block's in-place output feeds the next block's identity
        def __init__(self):
            super().__init__()
            self.a, self.b = Bottleneck(), Bottleneck()

        def forward(self, x):
            return self.b(self.a(x))

    return {"conv_bn_relu": (ConvBNReLU, 3), "basic_block": (BasicBlock, 3),
            "bottleneck": (Bottleneck, 8), "d2l_residual": (Residual, 3),
            "two_bottlenecks": (TwoBlocks, 8)}


def _copy_weights(ours, theirs):
    state = {k: torch.tensor(np.asarray(v.detach().numpy())) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(state)


@pytest.mark.parametrize("name", ["conv_bn_relu", "basic_block", "bottleneck", "d2l_residual",
                                  "two_bottlenecks"])
@pytest.mark.parametrize("train", [True, False])
def test_cnn_block_written_with_in_place_ops_matches_torch(name, train):
    mt.manual_seed(0)
    ours_cls, channels = _make_blocks(mt, mF)[name]
    theirs_cls, _ = _make_blocks(torch, torch.nn.functional)[name]
    ours, theirs = ours_cls().double(), theirs_cls().double()
    _copy_weights(ours, theirs)
    ours.train(train), theirs.train(train)
    x_np = np.random.default_rng(1).standard_normal((2, channels, 6, 6))
    grads = []
    for model, lib in ((ours, mt), (theirs, torch)):
        x = lib.tensor(x_np, requires_grad=True)
        y = model(x)
        upstream = np.random.default_rng(2).standard_normal(tuple(y.shape))
        y.backward(lib.tensor(upstream))
        grads.append([_numpy(y), _numpy(x.grad)]
                     + [_numpy(p.grad) for _, p in sorted(model.named_parameters())]
                     + [_numpy(b) for _, b in sorted(model.named_buffers())
                        if b.is_floating_point()])  # running statistics
    for i, (g, h) in enumerate(zip(*grads)):
        np.testing.assert_allclose(g, h, rtol=1e-8, atol=1e-9, err_msg=f"{name}: array {i}")


def test_relu_inplace_module_changes_its_input_like_torch():
    x = mt.tensor([[-1.0, 2.0]], requires_grad=True)
    h = x * 1
    out = mnn.ReLU(inplace=True)(h)
    assert out is h and h.tolist() == [[0.0, 2.0]]
    assert mnn.ReLU(inplace=True).extra_repr() == "inplace=True"
    hd = h.detach()
    mnn.LeakyReLU(0.5, inplace=True)(hd)  # an alias: not recorded, but the values change
    assert hd.array is h.array


def test_in_place_ops_on_the_simulated_gpu_match_the_cpu():
    results = []
    for device in ("cpu", "cuda-sim"):
        x = mt.tensor(A, requires_grad=True).to(device)
        c = mt.tensor(C, requires_grad=True)
        out = x * 2
        out += c.to(device)
        out[0] = c[0].to(device) * 3
        out.relu_()
        z = mt.zeros(3, 4).to(device)
        z.copy_(c)  # a CPU source: the gradient goes back through .to()
        (out * z).sum().backward()
        assert out.device == device
        results.append([out.detach().cpu().numpy(), c.grad.numpy()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-6)


@pytest.mark.parametrize("make", [lambda: mnn.Dropout(0.4, inplace=True),
                                  lambda: mnn.Dropout2d(0.4, inplace=True)])
def test_dropout_inplace_changes_its_input_and_keeps_the_gradient(make):
    # masks come from our own generator (not torch's): compare with our out-of-place dropout
    layer, x_np = make(), np.random.default_rng(4).standard_normal((2, 3, 4, 4))
    results = []
    for inplace in (True, False):
        layer.inplace = inplace
        mt.manual_seed(3)
        x = mt.tensor(x_np, requires_grad=True)
        h = x * 1
        y = layer(h)
        assert (y is h) == inplace
        (y * y).sum().backward()
        results.append((y.detach().numpy(), x.grad.numpy()))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])
    assert (results[0][0] == 0).any()


def test_relu_inplace_in_inference_changes_the_array_itself():
    x = mt.tensor([[-1.0, 2.0], [3.0, -4.0]])
    array = x.array
    with mt.no_grad():
        y = mnn.ReLU(inplace=True)(x)
    assert y is x and x.array is array and x._version == 1
    assert x.tolist() == [[0.0, 2.0], [3.0, 0.0]] and x.grad_fn is None
