"""Whole ops through the seam: conv2d, pooling, batch norm and dropout on the simulated GPU
("cuda-sim": the CUDA kernels executed by the emulator) match the "cpu" device, forward and
backward; a small CNN trains a few steps with the same losses on both devices. The same cases
run on a real GPU ("cuda", marked ``gpu``) where there is one."""

from __future__ import annotations

import numpy as np
import pytest
from gpu_devices import GPU_MARKS

import minitorch_cv as mt
import minitorch_cv.functional as F
from minitorch_cv import emulator

DTYPES = [np.float32, np.float64]
GPU_DEVICES = [
    pytest.param("cuda-sim", marks=pytest.mark.skipif(emulator.compiler() is None,
                                                      reason="no g++: no 'cuda-sim'")),
    pytest.param("cuda", marks=GPU_MARKS),
]


def _tolerance(dtype):
    return {"rtol": 1e-5, "atol": 1e-5 if np.dtype(dtype) == np.float32 else 1e-10}


def _run_on_both(fn, arrays, dtype, device, seed=0):
    """Run ``fn(*tensors)`` on "cpu" and ``device``; compare outputs and input gradients."""
    results = {}
    for where in ("cpu", device):
        mt.manual_seed(seed)
        tensors = [mt.tensor(a.astype(dtype), requires_grad=True).to(where) for a in arrays]
        for t in tensors:
            t.retain_grad()
        out = fn(*tensors)
        assert out.device == where
        upstream = np.random.default_rng(1).standard_normal(out.shape).astype(dtype)
        out.backward(mt.tensor(upstream).to(where))
        results[where] = [out.detach().to("cpu").numpy()] + [
            t.grad.to("cpu").numpy() for t in tensors]
    for name, cpu_value, sim_value in zip(["output"] + [f"grad {i}" for i in range(len(arrays))],
                                          results["cpu"], results[device]):
        assert cpu_value.dtype == sim_value.dtype == dtype, name
        np.testing.assert_allclose(sim_value, cpu_value, **_tolerance(dtype), err_msg=name)


def _randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("device", GPU_DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("stride, padding, dilation, groups", [
    (1, 1, 1, 1), (2, 0, 1, 1), (1, 2, 2, 2), ((2, 1), (1, 0), (1, 2), 1)])
def test_conv2d(device, dtype, stride, padding, dilation, groups):
    x, w, b = _randn(2, 4, 9, 8), _randn(6, 4 // groups, 3, 2, seed=1), _randn(6, seed=2)
    _run_on_both(lambda x, w, b: F.conv2d(x, w, b, stride=stride, padding=padding,
                                          dilation=dilation, groups=groups), [x, w, b], dtype,
                 device)


@pytest.mark.parametrize("device", GPU_DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kernel, stride, padding, dilation, ceil_mode", [
    (2, 2, 0, 1, False), (3, 1, 1, 1, False), (3, 2, 1, 2, True)])
def test_max_pool2d(device, dtype, kernel, stride, padding, dilation, ceil_mode):
    x = np.round(_randn(2, 3, 9, 7) * 2) / 2  # ties: the first maximum must win on both
    _run_on_both(lambda x: F.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode),
                 [x], dtype, device)


@pytest.mark.parametrize("device", GPU_DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kernel, stride, padding, ceil_mode, count_include_pad", [
    (2, 2, 0, False, True), (3, 1, 1, False, False), (3, 2, 1, True, True)])
def test_avg_pool2d(device, dtype, kernel, stride, padding, ceil_mode, count_include_pad):
    _run_on_both(lambda x: F.avg_pool2d(x, kernel, stride, padding, ceil_mode,
                                        count_include_pad), [_randn(2, 3, 9, 7)], dtype, device)


@pytest.mark.parametrize("device", GPU_DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 3), (3, 2, 5), (2, 3, 4, 5)])
def test_batch_norm_training_and_eval(device, dtype, shape):
    C = shape[1]
    running = {}
    for where in ("cpu", device):
        running[where] = (mt.zeros(C, dtype=dtype).to(where), mt.ones(C, dtype=dtype).to(where))
    x = _randn(*shape) * 2 + 1
    weight, bias = _randn(C, seed=3), _randn(C, seed=4)
    # training mode: batch statistics, input/weight/bias gradients, running stats updated
    _run_on_both(lambda x, w, b: F.batch_norm(
        x, *running[x.device], w, b, training=True, momentum=0.1), [x, weight, bias], dtype,
        device)
    for cpu_stat, sim_stat in zip(running["cpu"], running[device]):
        np.testing.assert_allclose(sim_stat.to("cpu").numpy(), cpu_stat.numpy(),
                                   **_tolerance(dtype))
    # evaluation mode: the running statistics
    _run_on_both(lambda x, w, b: F.batch_norm(x, *running[x.device], w, b, training=False),
                 [x, weight, bias], dtype, device)


@pytest.mark.parametrize("device", GPU_DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p, channelwise", [(0.3, False), (0.5, True), (0.0, False)])
def test_dropout_same_mask_on_both_devices(device, dtype, p, channelwise):
    fn = F.dropout2d if channelwise else F.dropout
    _run_on_both(lambda x: fn(x, p=p, training=True), [_randn(3, 4, 5, 5)], dtype, device,
                 seed=42)


def _small_cnn():
    nn = mt.nn
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, stride=1, padding=1, bias=False), nn.BatchNorm2d(6), nn.ReLU(),
        nn.AvgPool2d(2), nn.Dropout(0.2), nn.Flatten(), nn.Linear(6 * 2 * 2, 3))


def _train(device, steps=4):
    mt.manual_seed(0)
    model = _small_cnn().to(device)
    optimizer = mt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    rng = np.random.default_rng(5)
    x = mt.tensor(rng.standard_normal((8, 1, 8, 8)).astype(np.float32)).to(device)
    y = mt.tensor(rng.integers(0, 3, 8)).to(device)
    losses = []
    model.train()
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    with mt.no_grad():
        eval_out = model(x).to("cpu").numpy()
    return losses, eval_out


@pytest.mark.parametrize("device", GPU_DEVICES)
def test_small_cnn_trains_with_the_same_losses_on_cpu_and_gpu_devices(device):
    cpu_losses, cpu_eval = _train("cpu")
    sim_losses, sim_eval = _train(device)
    np.testing.assert_allclose(sim_losses, cpu_losses, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(sim_eval, cpu_eval, rtol=1e-4, atol=1e-4)
    assert cpu_losses[-1] < cpu_losses[0]  # it did train
