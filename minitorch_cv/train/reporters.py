"""Where a ``Trainer`` reports: TOML files, TensorBoard, MLflow and Ray Tune.

Every reporter sees the same numbers under the same names (the course library's tags):
``Loss/train``, ``Loss/test``, ``metric/<repr(metric)>`` and ``learning_rate``, one value per
epoch. TensorBoard (``tensorboardX``), MLflow and Ray are optional extras: each is imported only
when its ``ReportTypes`` member is asked for, and a missing one raises an ``ImportError`` that
names the pip extra to install.

``read_toml`` and ``read_scalars`` read the files back (for tests and for plotting curves
without starting TensorBoard).
"""

from __future__ import annotations

import dataclasses
import importlib
import struct
import sys
from enum import Enum
from pathlib import Path
from typing import Any

from .settings import ReportTypes, _plain

_EXTRAS = {
    "tensorboardX": ("tensorboard", "ReportTypes.TENSORBOARD"),
    "mlflow": ("mlflow", "ReportTypes.MLFLOW"),
    "ray": ("ray", "ReportTypes.RAY"),
}


def require(module_name: str, purpose: str | None = None):
    """Import an optional dependency, or say which pip extra provides it."""
    extra, default_purpose = _EXTRAS.get(module_name, (module_name, module_name))
    try:
        return importlib.import_module(module_name)
    except ImportError as exc:
        raise ImportError(
            f"{purpose or default_purpose} needs the optional package '{module_name}', which is "
            f"not installed: pip install 'minitorch_cv[{extra}]'") from exc


# ----------------------------------------------------------------------------- TOML
def _toml_value(value) -> Any:
    """A simple hyperparameter as a TOML value, or None when it is not a simple value."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    if isinstance(value, (bool, int, float, str, Path, Enum)):
        return _plain(value)
    if isinstance(value, (list, tuple)) and all(
            isinstance(v, (bool, int, float, str)) or
            (isinstance(v, (list, tuple)) and all(isinstance(w, (bool, int, float, str))
                                                  for w in v))
            for v in value):
        return _plain(value)
    if type(value).__module__ == "numpy" and hasattr(value, "item") and getattr(
            value, "ndim", 1) == 0:
        return _plain(value.item())
    return None


def model_hyperparameters(model) -> dict[str, Any]:
    """What ``model.toml`` holds: the model's class, size, public hyperparameters and layers.

    Hyperparameters are the model's public attributes with simple values (numbers, strings,
    booleans, tuples of those) and config dataclasses; parameters, buffers and submodules are
    not attributes of that kind, and ``training`` is state, not a hyperparameter.
    """
    params = list(model.parameters())
    out: dict[str, Any] = {
        "model": {
            "class": type(model).__name__,
            "module": type(model).__module__,
            "parameters": int(sum(p.numel() for p in params)),
            "trainable_parameters": int(sum(p.numel() for p in params if p.requires_grad)),
        }
    }
    hyper = {}
    for name, value in sorted(vars(model).items()):
        if name.startswith("_") or name == "training":
            continue
        converted = _toml_value(value)
        if converted is not None:
            hyper[name] = converted
    if hyper:
        out["hyperparameters"] = hyper
    layers = {name: repr(module) for name, module in model.named_modules()
              if name and not any(True for _ in module.children())}
    if layers:
        out["layers"] = layers
    return out


def write_toml(data: dict, path: Path) -> None:
    import tomli_w  # noqa: PLC0415 (a core dependency, but only needed here)

    Path(path).write_bytes(tomli_w.dumps(data).encode("utf-8"))


def read_toml(path: Path | str) -> dict:
    """Parse a TOML file (``tomllib`` on Python 3.11+, ``tomli`` before)."""
    if sys.version_info >= (3, 11):
        import tomllib  # noqa: PLC0415
    else:  # pragma: no cover (3.10 only)
        import tomli as tomllib  # noqa: PLC0415
    with open(path, "rb") as f:
        return tomllib.load(f)


# ----------------------------------------------------------------------------- reporters
class Reporter:
    """Receives one call per epoch with the numbers every backend logs."""

    def epoch(self, epoch: int, train_loss: float, test_loss: float,
              metrics: dict[str, float], lr: float) -> None:
        raise NotImplementedError(f"abstract: {type(self).__name__} must define epoch()")

    def close(self) -> None:
        """Flush and release files; called by ``Trainer.close()``."""


class TomlReporter(Reporter):
    """Writes ``model.toml`` and ``settings.toml`` once; epochs are not written."""

    def __init__(self, run_dir: Path, model, settings) -> None:
        self.model_path = Path(run_dir) / "model.toml"
        self.settings_path = Path(run_dir) / "settings.toml"
        write_toml(model_hyperparameters(model), self.model_path)
        write_toml(settings.to_dict(), self.settings_path)

    def epoch(self, epoch, train_loss, test_loss, metrics, lr) -> None:
        return None


class TensorBoardReporter(Reporter):
    """Scalars into event files in the run directory (``tensorboard --logdir <logdir>``)."""

    def __init__(self, run_dir: Path) -> None:
        tensorboardx = require("tensorboardX")
        self.writer = tensorboardx.SummaryWriter(logdir=str(run_dir))

    def epoch(self, epoch, train_loss, test_loss, metrics, lr) -> None:
        self.writer.add_scalar("Loss/train", train_loss, epoch)
        self.writer.add_scalar("Loss/test", test_loss, epoch)
        for name, value in metrics.items():
            self.writer.add_scalar(f"metric/{name}", value, epoch)
        self.writer.add_scalar("learning_rate", lr, epoch)
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


class MlflowReporter(Reporter):
    """``mlflow.log_metric`` into the active run; the user starts and ends the run."""

    def __init__(self) -> None:
        self.mlflow = require("mlflow")

    def epoch(self, epoch, train_loss, test_loss, metrics, lr) -> None:
        log = self.mlflow.log_metric
        log("Loss/train", train_loss, step=epoch)
        log("Loss/test", test_loss, step=epoch)
        for name, value in metrics.items():
            log(f"metric/{name}", value, step=epoch)
        log("learning_rate", lr, step=epoch)


class RayReporter(Reporter):
    """One ``report`` per epoch to the Ray Tune trial this code runs in.

    Keys are the course library's: ``iterations``, ``train_loss``, ``test_loss``, the metric
    names, plus ``learning_rate``.
    """

    def __init__(self) -> None:
        require("ray")
        self._report = _ray_report_function()

    def epoch(self, epoch, train_loss, test_loss, metrics, lr) -> None:
        self._report({"iterations": epoch, "train_loss": train_loss, "test_loss": test_loss,
                      **metrics, "learning_rate": lr})


def _ray_report_function():
    """``ray.tune.report`` on recent Ray, ``ray.train.report`` (2.7 to 2.40) before it."""
    tune = importlib.import_module("ray.tune")
    if hasattr(tune, "report"):
        return tune.report
    return importlib.import_module("ray.train").report


def make_reporters(reporttypes, run_dir: Path, model, settings) -> list[Reporter]:
    """One reporter per ``ReportTypes`` member, optional packages imported only here."""
    reporters: list[Reporter] = []
    for kind in reporttypes:
        if kind is ReportTypes.TOML:
            reporters.append(TomlReporter(run_dir, model, settings))
        elif kind is ReportTypes.TENSORBOARD:
            reporters.append(TensorBoardReporter(run_dir))
        elif kind is ReportTypes.MLFLOW:
            reporters.append(MlflowReporter())
        elif kind is ReportTypes.RAY:
            reporters.append(RayReporter())
    return reporters


# ----------------------------------------------------------------------------- reading back
def _masked_crc(data: bytes) -> int:
    from tensorboardX.crc32c import crc32c  # noqa: PLC0415

    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def read_scalars(logdir: Path | str) -> dict[str, list[tuple[int, float]]]:
    """Every scalar in the TensorBoard event files under ``logdir``: ``{tag: [(step, value)]}``.

    An event file is a sequence of records ``length (uint64) | crc(length) (uint32) | data |
    crc(data) (uint32)``, each ``data`` one serialised ``Event`` protobuf. A last record that
    stops short (a run killed while writing, or a file still being written) ends the file, as in
    TensorBoard: the complete records before it are read. Checksums are verified, so a damaged
    complete record raises ``ValueError`` naming the file instead of returning wrong numbers.
    """
    event_pb2 = importlib.import_module("tensorboardX.proto.event_pb2")
    scalars: dict[str, list[tuple[int, float]]] = {}
    for path in sorted(Path(logdir).rglob("events.out.tfevents.*")):
        for event in _events(path.read_bytes(), path, event_pb2):
            for value in event.summary.value:
                if value.HasField("simple_value"):
                    scalars.setdefault(value.tag, []).append((event.step, value.simple_value))
    return scalars


def _events(raw: bytes, path: Path, event_pb2):
    """The ``Event``s of one file's bytes, up to the first incomplete record."""
    offset = 0
    while offset + 12 <= len(raw):  # a cut length field: the writer stopped here
        header = raw[offset:offset + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", raw[offset + 8:offset + 12])
        if length_crc != _masked_crc(header):
            raise ValueError(f"{path}: corrupted record length at byte {offset}")
        if offset + 16 + length > len(raw):  # the data or its checksum is cut: the end
            return
        data = raw[offset + 12:offset + 12 + length]
        (data_crc,) = struct.unpack("<I", raw[offset + 12 + length:offset + 16 + length])
        if data_crc != _masked_crc(data):
            raise ValueError(f"{path}: checksum mismatch in record at byte {offset}")
        offset += 16 + length
        yield event_pb2.Event.FromString(data)
