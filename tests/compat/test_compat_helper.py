"""The comparison helper itself: it must fail on every kind of difference, or the suite
proves nothing."""

import numpy as np
import pytest

from minitorch_cv.testing.compat import inputs, run_on_both, same_weights


def _is_ours(torch) -> bool:
    return torch.__name__ == "minitorch_cv"


@pytest.mark.parametrize("difference", ["value", "dtype", "shape", "string", "number", "bool",
                                        "keys", "length", "tensor_vs_number", "int_vs_float"])
def test_every_kind_of_difference_fails(difference):
    def program(torch):
        ours = _is_ours(torch)
        x = torch.zeros(2, 3)
        if difference == "value":
            return x + (1e-3 if ours else 0.0)
        if difference == "dtype":
            return x.double() if ours else x
        if difference == "shape":
            return x.reshape(3, 2) if ours else x
        if difference == "string":
            return "cpu" if ours else "cuda"
        if difference == "number":
            return 1.0 if ours else 1.1
        if difference == "bool":
            return ours
        if difference == "keys":
            return {"a": 1} if ours else {"b": 1}
        if difference == "length":
            return [1, 2] if ours else [1]
        if difference == "tensor_vs_number":
            return x.sum() if ours else 0.0
        return 1 if ours else 1.0

    with pytest.raises(AssertionError):
        run_on_both(program)


def test_equal_results_pass_and_are_returned():
    def program(torch):
        return {"x": torch.ones(2), "n": 3, "s": "a", "nested": [(1, torch.arange(3))]}

    ours, theirs = run_on_both(program)
    assert type(ours["x"]).__module__.startswith("minitorch_cv")
    assert type(theirs["x"]).__module__.startswith("torch")


def test_same_weights_gives_both_libraries_the_same_parameters():
    torch = pytest.importorskip("torch")
    import minitorch_cv as mt

    models = []
    for lib in (mt, torch):
        model = lib.nn.Sequential(lib.nn.Linear(3, 2), lib.nn.BatchNorm1d(2))
        same_weights(lib, model, seed=4)
        models.append(model)
    for (name, a), (_, b) in zip(models[0].state_dict().items(), models[1].state_dict().items()):
        np.testing.assert_array_equal(np.asarray(a.numpy()), b.numpy(), err_msg=name)
    assert (models[0][1].running_var.numpy() > 0).all()
    assert inputs(1, (2,)).dtype == np.float32
