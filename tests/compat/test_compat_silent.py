"""Silent differences (issue 13, item 8): programs that ran on both libraries but did not do
the same thing. dtype=None, error classes, and the course's CNNblocks.
"""

from dataclasses import dataclass

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import models
from minitorch_cv.testing.compat import inputs, run_on_both, same_weights


def _dtype(t) -> str:
    return str(t.dtype).replace("torch.", "")


# ---------------------------------------------------------------- dtype=None means the default
def test_factory_kwargs_with_dtype_none_give_float32():
    def program(torch):
        nn = torch.nn

        class Scale(nn.Module):  # torch's own factory_kwargs pattern, as in its layers
            def __init__(self, n, device=None, dtype=None):
                super().__init__()
                factory_kwargs = {"device": device, "dtype": dtype}
                self.weight = nn.Parameter(torch.empty(n, **factory_kwargs))
                self.register_buffer("shift", torch.zeros(n, **factory_kwargs))
                self.linear = nn.Linear(n, n, **factory_kwargs)
                self.conv = nn.Conv2d(1, 1, 1, **factory_kwargs)
                self.bn = nn.BatchNorm2d(1, **factory_kwargs)

        model = Scale(3)
        made = [torch.zeros(2, dtype=None), torch.ones(2, dtype=None),
                torch.full((2,), 1.5, dtype=None), torch.randn(2, dtype=None),
                torch.rand(2, dtype=None), torch.linspace(0, 1, 3, dtype=None),
                torch.eye(2, dtype=None), torch.tensor([1.0], dtype=None),
                torch.arange(3.0, dtype=None), torch.empty(1, dtype=None),
                torch.normal(0.0, 1.0, size=(2,), dtype=None)]
        return {"made": [_dtype(t) for t in made],
                "module": [_dtype(t) for t in model.state_dict().values()]}

    run_on_both(program)


def test_integer_factories_and_like_functions_keep_their_dtypes():
    def program(torch):
        x = torch.from_numpy(inputs(0, (2, 2)).astype(np.float64))
        made = [torch.arange(3), torch.arange(3, dtype=None), torch.randint(5, (2,)),
                torch.randperm(3), torch.full((2,), 7), torch.full((1,), True),
                torch.zeros_like(x), torch.ones_like(x, dtype=None), torch.empty_like(x),
                torch.full_like(x, 2), torch.tensor([1, 2]), torch.tensor(True)]
        return [_dtype(t) for t in made]

    run_on_both(program)


def test_set_default_dtype_changes_new_float_tensors_and_layers():
    def program(torch):
        previous = torch.get_default_dtype()
        torch.set_default_dtype(torch.float64)
        try:
            made = [torch.zeros(1), torch.tensor([1.5]), torch.nn.Linear(2, 2).weight,
                    torch.randn(1), torch.arange(1.0)]
            return [str(previous).replace("torch.", "")] + [_dtype(t) for t in made]
        finally:
            torch.set_default_dtype(previous)

    run_on_both(program)
    assert mt.get_default_dtype() == mt.float32


# ---------------------------------------------------------------- errors caught as torch's
def _caught(torch, fn) -> str:
    try:
        fn()
    except RuntimeError:
        return "RuntimeError"
    except ValueError:
        return "ValueError"
    except TypeError:
        return "TypeError"
    except IndexError:
        return "IndexError"
    except NotImplementedError:
        return "NotImplementedError"
    return "no error"


def test_a_too_small_input_is_a_runtime_error():
    def program(torch):
        nn, F = torch.nn, torch.nn.functional
        model = nn.Sequential(nn.Conv2d(1, 4, 5), nn.MaxPool2d(2), nn.Conv2d(4, 4, 5))
        x = torch.zeros(1, 1, 8, 8)
        return [_caught(torch, lambda: model(x)),
                _caught(torch, lambda: F.conv2d(torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 3, 3))),
                _caught(torch, lambda: F.max_pool2d(torch.zeros(1, 1, 1, 1), 2)),
                _caught(torch, lambda: F.avg_pool2d(torch.zeros(1, 1, 1, 1), 2))]

    ours, _ = run_on_both(program)
    assert ours == ["RuntimeError"] * 4


def test_shape_and_size_errors_are_caught_as_torch_catches_them():
    def program(torch):
        nn, F = torch.nn, torch.nn.functional
        z = torch.zeros
        cases = [
            lambda: F.conv2d(z(1, 2, 5, 5), z(1, 1, 3, 3)),              # channels
            lambda: F.conv2d(z(1, 1, 5, 5), z(1, 3, 3)),                 # weight dims
            lambda: F.conv2d(z(1, 1, 5, 5), z(1, 1, 3, 3), stride=0),
            lambda: nn.Linear(3, 2)(z(4, 5)),
            lambda: z(2, 3) @ z(4, 5),
            lambda: z(6).view(4, -1),
            lambda: z(2, 3) + z(4),                                      # broadcasting
            lambda: z(2, 3) * z(2),
            lambda: torch.cat([z(2, 3), z(2, 4)]),
            lambda: torch.stack([z(2, 3), z(2, 4)]),
            lambda: F.mse_loss(z(4, 3), z(4, 2)),
            lambda: nn.BatchNorm2d(3)(z(2, 4, 5, 5)),
            lambda: nn.BatchNorm1d(3)(z(1, 3)),                          # one value per channel
            lambda: z(2, 3).expand(4, 4),
            lambda: z(2, 3).item(),
            lambda: z(2, 3).permute(0, 0),
            lambda: z(2, 3).sum(dim=3),
            lambda: z(2, 3)[5],
            lambda: z(2).clamp(),
            lambda: z(2, dtype=torch.long).mean(),
            lambda: z(2, dtype=torch.long).requires_grad_(),
            lambda: F.cross_entropy(z(4, 3), z(5, dtype=torch.long)),
            lambda: F.cross_entropy(z(4, 3), torch.full((4,), 7, dtype=torch.long)),
            lambda: F.pad(z(1, 1, 3, 3), (1, 1, 1, 1), mode="bogus"),
            lambda: torch.device("tpu"),
        ]
        with pytest.warns(UserWarning):  # both warn about mse_loss's mismatched sizes
            return [_caught(torch, case) for case in cases]

    run_on_both(program)


def test_except_runtime_error_in_course_code_catches_a_bad_architecture():
    def program(torch):
        nn = torch.nn
        sizes = []
        for image in (32, 16, 8, 4):
            model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.MaxPool2d(2), nn.Conv2d(2, 2, 3),
                                  nn.MaxPool2d(2))
            try:
                sizes.append(tuple(model(torch.zeros(1, 1, image, image)).shape))
            except RuntimeError:
                sizes.append("too small")
        return sizes

    run_on_both(program)


# ---------------------------------------------------------------- the course's CNNblocks
@dataclass
class CourseConfig:  # the course's CNNConfig, field for field
    matrixshape: tuple
    batchsize: int
    input_channels: int
    hidden: int
    kernel_size: int
    maxpool: int
    num_layers: int
    num_classes: int


def course_cnnblocks(nn, config):
    """The course library's CNNblocks, written out in torch's idiom (the oracle)."""

    def conv_block(cin, cout, k):
        block = nn.Module()
        block.conv = nn.Sequential(nn.Conv2d(cin, cout, kernel_size=k, stride=1, padding=1),
                                   nn.ReLU(),
                                   nn.Conv2d(cout, cout, kernel_size=k, stride=1, padding=1),
                                   nn.ReLU())
        return block

    model = nn.Module()
    model.convolutions = nn.ModuleList([conv_block(config.input_channels, config.hidden,
                                                   config.kernel_size)])
    pools = 0
    for i in range(config.num_layers):
        model.convolutions.extend([conv_block(config.hidden, config.hidden, config.kernel_size),
                                   nn.ReLU()])
        if i % 2 == 0:
            pools += 1
            model.convolutions.append(nn.MaxPool2d(config.maxpool, config.maxpool))
    side = config.maxpool ** pools
    matrix_size = (config.matrixshape[0] // side) * (config.matrixshape[1] // side)
    model.dense = nn.Sequential(nn.Flatten(), nn.Linear(matrix_size * config.hidden,
                                                        config.hidden),
                                nn.ReLU(), nn.Linear(config.hidden, config.num_classes))
    return model


CONFIGS = [
    (28, 28, 1, 32, 3, 2, 3, 10),   # the course's default: 115,594 parameters
    (28, 28, 1, 16, 3, 2, 2, 10),
    (32, 32, 3, 8, 3, 2, 4, 5),
    (30, 20, 2, 4, 3, 3, 1, 7),
]


@pytest.mark.parametrize("values", CONFIGS)
def test_cnnblocks_is_the_course_network(values):
    torch = pytest.importorskip("torch")
    h, w, cin, hidden, k, pool, layers, classes = values
    fields = dict(matrixshape=(h, w), batchsize=4, input_channels=cin, hidden=hidden,
                  kernel_size=k, maxpool=pool, num_layers=layers, num_classes=classes)
    ours = models.CNNblocks(models.CNNConfig(**fields))
    theirs = course_cnnblocks(torch.nn, CourseConfig(**fields))
    ours_shapes = {k: tuple(v.shape) for k, v in ours.state_dict().items()}
    assert ours_shapes == {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    count = sum(p.numel() for p in ours.parameters())
    assert count == sum(p.numel() for p in theirs.parameters())
    if values == CONFIGS[0]:
        assert count == 115_594
    assert ours.config == fields
    # same weights, same output and gradients
    ours.double()
    theirs.double()
    same_weights(mt, ours, seed=1, scale=0.2)
    same_weights(torch, theirs, seed=1, scale=0.2)
    x = inputs(2, (3, cin, h, w), dtype=np.float64)
    out_ours = ours(mt.from_numpy(x))
    flat = torch.from_numpy(x)
    for layer in theirs.convolutions:
        flat = layer.conv(flat) if hasattr(layer, "conv") else layer(flat)
    out_theirs = theirs.dense(flat)
    np.testing.assert_allclose(out_ours.detach().numpy(), out_theirs.detach().numpy(),
                               rtol=1e-9, atol=1e-9)
    out_ours.sum().backward()
    out_theirs.sum().backward()
    np.testing.assert_allclose(ours.convolutions[0].conv[0].weight.grad.numpy(),
                               theirs.convolutions[0].conv[0].weight.grad.numpy(),
                               rtol=1e-9, atol=1e-9)


def test_cnnblocks_reports_a_too_small_image_as_runtime_error():
    config = models.CNNConfig(matrixshape=(12, 12), batchsize=4, input_channels=1, hidden=4,
                              kernel_size=3, maxpool=2, num_layers=8, num_classes=10)
    with pytest.raises(RuntimeError, match=r"input too small: layer convolutions\.\d+"):
        models.CNNblocks(config)


# ---------------------------------------------------------------- dtypes and silent maths
def test_integer_and_bool_tensors_follow_torch_dtype_rules():
    def program(torch):
        ints = torch.tensor([4, 9])
        u8 = torch.tensor([200, 100], dtype=torch.uint8)
        i32 = torch.tensor([1, 2], dtype=torch.int32)
        results = [ints.sqrt(), ints.exp(), ints.log(), ints.sigmoid(), ints.tanh(), ints.sin(),
                   torch.sqrt(ints), u8.sum(), i32.sum(), torch.tensor([True, True]).sum(),
                   ints.clamp(0.5, 5.5), ints.clamp(0, 5), ints / 2, ints // 2, ints % 4,
                   ints * 1.5, ints ** 2, i32 + ints, i32.cumsum(0), i32.prod(),
                   torch.tensor([True]) * 1.5, (ints > 5).sum(), torch.tensor([1, 2.5])]
        return [(_dtype(r), r) for r in results]

    run_on_both(program, rtol=1e-6, atol=1e-7)


def test_division_by_zero_and_log_of_zero_are_silent_infinities():
    import warnings

    def program(torch):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # torch warns about none of these
            x = torch.tensor([1.0, -1.0, 0.0])
            return [x / 0, torch.log(torch.tensor([0.0, 1.0])), torch.sqrt(torch.tensor([-1.0])),
                    1.0 / x]

    run_on_both(program)
