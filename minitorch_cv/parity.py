"""Backend parity report: one model, one set of weights, one batch, on every available device.

``minitorch-cv parity MODEL`` (or ``python -m minitorch_cv.parity MODEL``) builds a registered
model (``minitorch_cv.models``), copies the same weights to ``"cpu"``, ``"cuda-sim"`` (the GPU
kernels run by the CPU emulator, when g++ is there) and ``"cuda"`` (when CuPy sees a GPU), runs
one training-mode forward and backward of a cross-entropy loss on the same batch with the same
seed (so dropout draws the same masks), and prints, per device, the largest differences from
``"cpu"`` in the output, the loss and every parameter's gradient, with the timings::

    device     forward  backward  max |out - cpu|  loss - cpu   worst grad rel. diff
    cpu         0.012s    0.020s                -           -                      -
    cuda-sim    0.310s    0.602s          2.4e-07     1.2e-08   3.1e-06 (conv1.weight)
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from . import backend


@dataclass
class DeviceRun:
    """What one device produced: output, loss, gradients by parameter name, timings."""

    device: str
    output: np.ndarray
    loss: float
    grads: dict[str, np.ndarray]
    forward_seconds: float
    backward_seconds: float


@dataclass
class ParityRow:
    """One device compared with ``"cpu"``."""

    device: str
    forward_seconds: float
    backward_seconds: float
    max_output_diff: float
    loss_diff: float
    worst_grad_rel_diff: float
    worst_grad_name: str


@dataclass
class ParityReport:
    model: str
    input_shape: tuple
    dtype: str
    rows: list[ParityRow] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # device -> why it did not run

    def format(self) -> str:
        lines = [f"parity of {self.model}: input {self.input_shape} {self.dtype}, training-mode "
                 f"forward + backward of cross-entropy, differences against 'cpu'",
                 f"{'device':10s} {'forward':>9s} {'backward':>9s} {'max |out - cpu|':>16s} "
                 f"{'loss - cpu':>11s}  worst grad rel. diff"]
        for row in self.rows:
            if row.device == "cpu":
                diffs = f"{'-':>16s} {'-':>11s}  -"
            else:
                diffs = (f"{row.max_output_diff:16.2e} {row.loss_diff:11.2e}  "
                         f"{row.worst_grad_rel_diff:.2e} ({row.worst_grad_name})")
            lines.append(f"{row.device:10s} {row.forward_seconds:8.3f}s "
                         f"{row.backward_seconds:8.3f}s {diffs}")
        for device, why in self.skipped.items():
            lines.append(f"{device:10s} skipped: {why}")
        return "\n".join(lines)


def available_devices() -> tuple[list[str], dict[str, str]]:
    """Devices that can run here, and for the others the reason why not."""
    devices, skipped = ["cpu"], {}
    from .emulator import compiler  # noqa: PLC0415

    if compiler() is not None:
        devices.append("cuda-sim")
    else:
        skipped["cuda-sim"] = "no g++ found: the GPU emulator cannot build kernels"
    if backend.cuda_available():
        devices.append("cuda")
    else:
        skipped["cuda"] = "no usable GPU (cupy missing, or cupy.is_available() is False)"
    return devices, skipped


def _synchronize(device: str) -> None:
    if device == "cuda":  # kernels run asynchronously: wait before reading the clock
        backend.cupy_module().cuda.Device().synchronize()


def run_on_device(model_name: str, device: str, state: dict, x: np.ndarray, target: np.ndarray,
                  seed: int, model_kwargs: dict) -> DeviceRun:
    """One training-mode forward and backward of ``model_name`` with ``state`` on ``device``."""
    import minitorch_cv as mt  # noqa: PLC0415  (parity sits above the whole package)
    import minitorch_cv.functional as F  # noqa: PLC0415
    from minitorch_cv import models  # noqa: PLC0415

    mt.manual_seed(seed)
    model = models.get(model_name, **model_kwargs)
    model.load_state_dict(state)
    model = model.to(device).to(x.dtype)
    model.train()
    inputs = mt.tensor(x).to(device)
    labels = mt.tensor(target).to(device)
    mt.manual_seed(seed)  # the same dropout masks on every device
    start = time.perf_counter()
    output = model(inputs)
    output = output[0] if isinstance(output, tuple) else output  # auxiliary heads
    loss = F.cross_entropy(output, labels)
    _synchronize(device)
    forward_seconds = time.perf_counter() - start
    start = time.perf_counter()
    loss.backward()
    _synchronize(device)
    backward_seconds = time.perf_counter() - start
    grads = {name: p.grad.to("cpu").numpy() for name, p in model.named_parameters()
             if p.grad is not None}
    return DeviceRun(device, output.detach().to("cpu").numpy(), loss.item(), grads,
                     forward_seconds, backward_seconds)


def _relative_diff(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| relative to the size of b's entries (1 where b is tiny)."""
    scale = max(float(np.max(np.abs(b))), 1e-12) if b.size else 1.0
    return float(np.max(np.abs(a - b))) / scale if a.size else 0.0


def compare(reference: DeviceRun, run: DeviceRun) -> ParityRow:
    worst_name, worst = "-", -1.0
    for name, grad in reference.grads.items():
        diff = _relative_diff(run.grads[name], grad)
        if diff > worst:
            worst_name, worst = name, diff
    return ParityRow(run.device, run.forward_seconds, run.backward_seconds,
                     float(np.max(np.abs(run.output - reference.output))),
                     run.loss - reference.loss, max(worst, 0.0), worst_name)


def parity(model_name: str, batch_size: int = 2, seed: int = 0, dtype=np.float32,
           devices: list[str] | None = None, **model_kwargs) -> ParityReport:
    """Run ``model_name`` on every available device (or ``devices``) and compare with cpu."""
    import minitorch_cv as mt  # noqa: PLC0415
    from minitorch_cv import models  # noqa: PLC0415

    available, skipped = available_devices()
    if devices is not None:
        unknown = [d for d in devices if d not in backend.DEVICES]
        if unknown:
            raise ValueError(f"unknown devices {unknown}; use {', '.join(backend.DEVICES)}")
        skipped = {d: why for d, why in skipped.items() if d in devices}
        available = [d for d in available if d in devices or d == "cpu"]
    mt.manual_seed(seed)
    model = models.get(model_name, **model_kwargs)
    state = {name: value.to("cpu") for name, value in model.state_dict().items()}
    rng = np.random.default_rng(seed)
    shape = (batch_size, *models.input_size(model_name, model_kwargs.get("in_channels")))
    x = rng.standard_normal(shape).astype(dtype)
    model.eval()  # a probe for the number of classes that leaves the batch-norm buffers alone
    with mt.no_grad():
        probe = model(mt.tensor(x[:1].astype(np.float32)))
    probe = probe[0] if isinstance(probe, tuple) else probe
    target = rng.integers(0, probe.shape[1], batch_size)
    runs = {d: run_on_device(model_name, d, state, x, target, seed, model_kwargs)
            for d in available}
    report = ParityReport(model_name, shape, np.dtype(dtype).name, skipped=skipped)
    for run in runs.values():
        report.rows.append(compare(runs["cpu"], run))
    return report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``parity`` subcommand's arguments (for ``cli.py``)."""
    parser.add_argument("model", help="a registered model name (see minitorch_cv.models)")
    from .train.cli_commands import non_negative_int, positive_int  # noqa: PLC0415

    parser.add_argument("--batch-size", type=positive_int, default=2)
    parser.add_argument("--seed", type=non_negative_int, default=0)
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--devices", nargs="+", choices=list(backend.DEVICES), default=None,
                        help="devices to run (default: every available one)")


def main(args: argparse.Namespace) -> int:
    """Run the report for parsed ``add_arguments`` arguments; print it; 0 on success, 2 (one
    line on stderr) for an unknown model."""
    from . import models  # noqa: PLC0415

    try:
        models.input_size(args.model)
    except KeyError as exc:
        print(f"minitorch-cv parity: {exc.args[0]}", file=sys.stderr)
        return 2
    report = parity(args.model, batch_size=args.batch_size, seed=args.seed,
                    dtype=np.dtype(args.dtype), devices=args.devices)
    print(report.format())
    return 0


if __name__ == "__main__":
    cli = argparse.ArgumentParser(prog="python -m minitorch_cv.parity", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(cli)
    sys.exit(main(cli.parse_args()))
