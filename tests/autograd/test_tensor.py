"""Tensor creation, conversion, devices and the seedable generator, against torch's rules."""

import numpy as np
import pytest
import torch

import minitorch_cv as mt
from minitorch_cv import backend


def test_default_dtypes_follow_torch():
    assert mt.tensor([1.0, 2.0]).dtype == mt.float32
    assert mt.tensor([1, 2]).dtype == mt.int64
    assert mt.tensor([True]).dtype == mt.bool_
    assert mt.tensor(np.zeros(2)).dtype == mt.float64  # arrays keep their dtype, as torch
    assert mt.zeros(2, 3).dtype == mt.float32 and mt.zeros(2, 3).shape == (2, 3)
    assert mt.ones((2, 3)).shape == (2, 3)
    assert mt.arange(5).dtype == mt.int64 and mt.arange(0.0, 1.0, 0.25).shape == (4,)
    assert mt.full((2,), 7).dtype == mt.int64 and mt.full((2,), 7.0).dtype == mt.float32


def test_creation_functions_match_torch_values():
    np.testing.assert_array_equal(mt.arange(2, 11, 3).numpy(), torch.arange(2, 11, 3).numpy())
    np.testing.assert_allclose(mt.linspace(0, 1, 5).numpy(), torch.linspace(0, 1, 5).numpy())
    np.testing.assert_array_equal(mt.eye(3, 2).numpy(), torch.eye(3, 2).numpy())
    x = mt.randn(3, 2, dtype=mt.float64)
    assert mt.zeros_like(x).dtype == mt.float64 and mt.ones_like(x).shape == (3, 2)
    assert mt.full_like(x, 2.0).numpy().sum() == 12.0


def test_manual_seed_makes_draws_repeatable():
    mt.manual_seed(3)
    a = mt.randn(5).numpy()
    b = mt.rand(5).numpy()
    mt.manual_seed(3)
    np.testing.assert_array_equal(a, mt.randn(5).numpy())
    np.testing.assert_array_equal(b, mt.rand(5).numpy())
    assert ((b >= 0) & (b < 1)).all()


def test_from_numpy_shares_memory_and_tensor_copies():
    array = np.zeros(3)
    shared, copied = mt.from_numpy(array), mt.tensor(array)
    array[0] = 5
    assert shared[0].item() == 5 and copied[0].item() == 0


def test_conversions_and_item():
    x = mt.tensor([[1.5, 2.0]])
    assert x.double().dtype == mt.float64 and x.long().dtype == mt.int64
    assert mt.tensor([3.5]).item() == 3.5 and float(mt.tensor(2.0)) == 2.0
    with pytest.raises(ValueError, match="one element"):
        x.item()
    with pytest.raises(RuntimeError, match=r"detach\(\)\.numpy\(\)"):
        mt.ones(2, requires_grad=True).numpy()
    assert x.size() == (1, 2) and x.size(1) == 2 and x.numel() == 2 and x.dim() == 2


def test_to_device_is_differentiable_and_keeps_values():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = x.to("cuda-sim")
    assert y.device == "cuda-sim" and y.requires_grad
    (y * y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])
    assert x.to(mt.float64).dtype == mt.float64


def test_unknown_and_unavailable_devices_name_the_choices():
    with pytest.raises(RuntimeError, match="cpu, cuda, cuda-sim"):  # as torch
        mt.ones(2).to("tpu")
    if not backend.cuda_available():
        with pytest.raises(RuntimeError, match="cuda-sim"):
            mt.ones(2).to("cuda")


def test_get_array_module_is_numpy_for_numpy():
    assert mt.get_array_module(np.zeros(2)) is np


def test_doctor_reports_in_plain_words(capsys):
    mt.doctor()
    text = capsys.readouterr().out
    assert "numpy" in text and "numba" in text and "cupy" in text and "BLAS" in text
    assert "simulated GPU" in text


def test_repr_reads_like_torch():
    assert repr(mt.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    x = mt.tensor([1.0], requires_grad=True)
    assert "requires_grad=True" in repr(x)
    assert "grad_fn=<MulBackward>" in repr(x * 2)
