"""``print(tensor)`` prints what torch prints (issue 13: "prints what torch prints").

Two differences are normalised away, both documented in docs/torch_compat.md: dtype names
(``dtype=float64`` here, ``dtype=torch.float64`` in torch) and graph-node names
(``MulBackward`` here, ``MulBackward0`` in torch).
"""

import math

import numpy as np

from minitorch_cv.testing.compat import inputs, run_on_both


def _printed(t) -> str:
    return repr(t).replace("torch.", "").replace("Backward0", "Backward")


def _cases(torch):
    def g(seed, shape):
        return torch.from_numpy(inputs(seed, shape))

    w = g(5, (3,)).requires_grad_()
    return [
        torch.tensor([[1.0, 2], [3, 4]]), torch.tensor([[1.5, -2.25], [3.0, 4.0]]),
        torch.tensor([1e-5, 1.0]), torch.tensor([1e5, 1.0]), torch.tensor([1e9, 1.0]),
        torch.tensor([123456.0, 1.0]), torch.arange(24.0).reshape(2, 3, 4), torch.arange(2000.0),
        torch.tensor([True, False]), torch.tensor([1, -20, 300]),
        torch.tensor([1.0, math.nan, math.inf]), torch.tensor([0.0, -0.0]), torch.tensor(2.5),
        torch.tensor(3), torch.zeros(0), torch.zeros(0, 3), torch.zeros(0, dtype=torch.int64),
        torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True),
        torch.tensor([1, 2], dtype=torch.int32), g(0, (3, 30)), torch.tensor([0.0001, 0.5]),
        torch.tensor([0.00009, 0.5]), g(1, (40, 40, 3)), g(2, (5,)) * 1000,
        torch.arange(3000).reshape(30, 100), g(3, (2, 3)).requires_grad_(),
        torch.tensor(float("nan")), g(4, (4, 25)) * 1e-3, torch.tensor([1e-8, 1e8]),
        torch.tensor([[True]]), w * 2, torch.from_numpy(np.arange(6.0).reshape(2, 3)),
    ]


def test_tensors_print_as_torch_prints_them():
    def program(torch):
        return [_printed(t) for t in _cases(torch)]

    run_on_both(program)


def test_set_printoptions_changes_printing_as_in_torch():
    def program(torch):
        x = torch.from_numpy(inputs(7, (2, 8))) * 100
        printed = []
        try:
            for options in ({"precision": 2}, {"sci_mode": True}, {"profile": "short"},
                            {"threshold": 5, "edgeitems": 1}, {"linewidth": 40},
                            {"profile": "full"}):
                torch.set_printoptions(**options)
                printed.append(_printed(x))
        finally:
            torch.set_printoptions(profile="default")
        printed.append(_printed(x))
        return printed

    run_on_both(program)
