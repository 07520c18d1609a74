"""Saving a whole model without pickle (``save(model, path)``, as the course teaches it with
``torch.save``): the constructor call recorded at construction, rebuilt only for allowed
classes; compared with torch's pickle round trip."""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv import models, nn, serialization
from minitorch_cv.serialization import CheckpointError


class CourseCNN(nn.Module):
    """A student's model as the course writes it: layers from constructor arguments."""

    def __init__(self, num_classes: int = 10, hidden: int = 16, activation=nn.ReLU,
                 sizes: tuple = (4, 8), note=None) -> None:
        super().__init__()
        self.note = note
        self.features = nn.Sequential(nn.Conv2d(1, sizes[0], 3), activation(),
                                      nn.MaxPool2d(2), nn.Conv2d(sizes[0], sizes[1], 3),
                                      nn.BatchNorm2d(sizes[1]), activation())
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(sizes[1] * 3 * 3, hidden),
                                  nn.Dropout(0.5), nn.Linear(hidden, num_classes))

    def forward(self, x):
        return self.head(self.features(x))


def _torch_course_cnn(torch):
    class TorchCNN(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.features = torch.nn.Sequential(
                torch.nn.Conv2d(1, 4, 3), torch.nn.Tanh(), torch.nn.MaxPool2d(2),
                torch.nn.Conv2d(4, 8, 3), torch.nn.BatchNorm2d(8), torch.nn.Tanh())
            self.head = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(72, 12),
                                            torch.nn.Dropout(0.5), torch.nn.Linear(12, 3))

        def forward(self, x):
            return self.head(self.features(x))
    return TorchCNN


def _trained(model, x):
    model.train()
    model(x)  # moves batch-norm running statistics away from their initial values
    model.eval()
    return model


def test_whole_model_round_trip_gives_equal_outputs_as_torch_save_does(tmp_path):
    import torch

    x = np.random.default_rng(0).standard_normal((4, 1, 12, 12)).astype(np.float32)
    TorchCNN = _torch_course_cnn(torch)  # noqa: N806
    theirs = _trained(TorchCNN(), torch.from_numpy(x))
    sys.modules[__name__].TorchCNN = TorchCNN  # torch's pickle finds the class by name
    TorchCNN.__qualname__ = "TorchCNN"
    torch.save(theirs, tmp_path / "torch.pt")
    theirs_back = torch.load(tmp_path / "torch.pt", weights_only=False)
    assert not theirs_back.training
    torch.testing.assert_close(theirs_back(torch.from_numpy(x)), theirs(torch.from_numpy(x)))

    mt.manual_seed(0)
    ours = _trained(CourseCNN(num_classes=3, hidden=12, activation=nn.Tanh), mt.tensor(x))
    mt.save(ours, tmp_path / "ours.safetensors")
    back = mt.load(tmp_path / "ours.safetensors", weights_only=False)
    assert type(back) is CourseCNN and not back.training and not back.head[2].training
    with mt.no_grad():
        np.testing.assert_array_equal(back(mt.tensor(x)).numpy(), ours(mt.tensor(x)).numpy())
    # the file is plain safetensors whose tensors are the state dict: torch reads the weights
    from safetensors.torch import load_file

    assert set(load_file(str(tmp_path / "ours.safetensors"))) == set(ours.state_dict())


def test_minitorch_cv_classes_load_by_default_user_classes_only_when_allowed(tmp_path):
    path = tmp_path / "m.safetensors"
    mt.save(models.get("lenet5"), path)
    assert type(mt.load(path)).__name__ == "LeNet5"  # weights_only=True, torch's default
    mt.save(nn.Sequential(nn.Linear(3, 2), nn.ReLU()), path)
    assert isinstance(mt.load(path), nn.Sequential)

    mt.save(CourseCNN(), path)
    with pytest.raises(CheckpointError, match=r"CourseCNN.*add_safe_globals\(\[CourseCNN\]\)"
                       r".*weights_only=False") as caught:
        mt.load(path)
    assert isinstance(caught.value, RuntimeError)  # torch raises UnpicklingError; ours is both
    assert type(mt.load(path, safe_globals=[CourseCNN])) is CourseCNN
    with serialization.safe_globals([CourseCNN]):
        assert type(mt.load(path)) is CourseCNN
    with pytest.raises(CheckpointError):
        mt.load(path)  # the block's allowance ended
    serialization.add_safe_globals([CourseCNN])
    try:
        assert CourseCNN in serialization.get_safe_globals()
        assert type(mt.load(path)) is CourseCNN
    finally:
        serialization.clear_safe_globals()


def test_a_submodule_replaced_after_construction_is_rebuilt_from_its_own_record(tmp_path):
    model = models.get("lenet5")
    name = next(n for n, m in reversed(list(model.named_modules())) if isinstance(m, nn.Linear))
    parent = model.get_submodule(name.rpartition(".")[0]) if "." in name else model
    setattr(parent, name.rpartition(".")[2], nn.Linear(
        model.get_submodule(name).in_features, 3))  # transfer learning: a new head
    path = tmp_path / "m.safetensors"
    mt.save(model, path)
    back = mt.load(path)
    x = mt.randn(2, 1, 28, 28)
    model.eval()
    back.eval()
    assert back(x).shape == (2, 3)
    np.testing.assert_array_equal(back(x).detach().numpy(), model(x).detach().numpy())


def test_loading_a_model_does_not_move_the_random_stream(tmp_path):
    path = tmp_path / "m.safetensors"
    mt.save(models.get("lenet5"), path)
    mt.manual_seed(5)
    expected = mt.randn(3).numpy()
    mt.manual_seed(5)
    mt.load(path)  # the constructor initialises weights: drawn and then given back
    np.testing.assert_array_equal(mt.randn(3).numpy(), expected)


def test_what_cannot_be_saved_is_refused_with_its_place_and_the_fix():
    with pytest.raises(TypeError, match=r"lambda at __init__\.activation"):
        serialization.to_bytes(CourseCNN(activation=lambda: nn.ReLU()))

    class Local(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)

    with pytest.raises(TypeError, match="top level of a module.*state_dict"):
        serialization.to_bytes({"model": Local()})
    with pytest.raises(TypeError, match=r"cannot save an object of type BytesIO at .*__init__"):
        serialization.to_bytes(CourseCNN(note=io.BytesIO()))


def _crafted(structure_class: str, args=()) -> bytes:
    """A checkpoint naming ``structure_class``, with a valid checksum (crafted, not damaged)."""
    blob = bytearray(serialization.to_bytes(nn.ReLU()))
    text = blob.decode("latin-1").replace("minitorch_cv.nn.activation:ReLU", structure_class)
    raw = text.encode("latin-1")
    header_len = int.from_bytes(blob[:8], "little") + len(raw) - len(blob)
    blob = bytearray(header_len.to_bytes(8, "little") + raw[8:])
    span = serialization._digest_span(blob, 8 + header_len)
    blob[span[0]:span[1]] = serialization._digest(blob, *span).encode()
    return bytes(blob)


@pytest.mark.parametrize("weights_only", [True, False])
def test_a_file_cannot_name_functions_or_unimported_modules(weights_only):
    for target, message in [("os:system", "not an nn.Module class|does not rebuild"),
                            ("minitorch_cv.__main__:main", "does not rebuild|not an nn.Module"),
                            ("minitorch_cv.nn.nothing_here:Net", "does not rebuild"),
                            ("minitorch_cv.serialization:os.system", "does not rebuild"),
                            ("minitorch_cv.nn.activation:ReLU.__init__.__globals__",
                             "does not rebuild"),
                            ("not_imported_pkg_xyz:Net", "does not rebuild")]:
        with pytest.raises(CheckpointError, match=message):
            serialization.from_bytes(_crafted(target), "crafted", weights_only=weights_only)
    assert "not_imported_pkg_xyz" not in sys.modules
    assert isinstance(serialization.from_bytes(_crafted("minitorch_cv.nn.activation:ReLU")),
                      nn.ReLU)
