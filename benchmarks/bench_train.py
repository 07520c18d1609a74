"""End-to-end training benchmark: minitorch_cv vs PyTorch CPU, side by side in one run.

Run (the OPENBLAS_* overrides some shells set would pin OpenBLAS to a slow kernel)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_train.py [--threads N]

Two measurements, both float32, batch 128, the same thread count for Numba, BLAS and torch:

(a) one epoch of the modern LeNet-5 (``minitorch_cv.models.lenet5``) on the real 60,000-image
    MNIST training set (``../shared/data`` or ``--data-dir``) with Adam (lr 1e-3), then the
    accuracy on the 10,000 test images. Both engines start from the same weights (ours, copied
    into a torch.nn LeNet-5) and see the same batches in the same order; the torch side is built
    from the same NumPy arrays (no torchvision).
(b) one training step (forward, cross-entropy, backward, SGD momentum update) of the CIFAR
    ResNet-20 (option-A shortcuts, ``minitorch_cv.models.resnet20``) on random 3x32x32 data;
    the torch side is an equivalent written with ``torch.nn`` below, loaded with the same
    weights. Median of interleaved steps after a warm-up.

Targets (issue 16, replacing issue 4's 1.5x and 2x): LeNet epoch within 1.0x of torch on an AVX2
machine and 1.25x on an AVX-512 machine, with the same test accuracy; ResNet-20 step within 1.25x
(AVX2) / 1.5x (AVX-512). Ratios are ours / torch (lower is better), on wall time and on process
CPU time (steadier when other jobs share the cores). ``--conv-algorithm`` / ``--conv-benchmark`` set
``minitorch_cv.backends.conv`` for our side (default: the "auto" rule). Peak memory: ``tracemalloc``
peak of NumPy allocations during one of our steps (NumPy reports its buffers to tracemalloc; torch
does not), and the process's ``ru_maxrss`` after each phase. The output is also appended to
``benchmarks/results/bench_train.txt`` (``--out``). On a machine shared with other jobs, compare
``--threads 1`` runs: with more threads every parallel region waits for a free core.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

# minitorch_cv first: its thread settings (OMP_WAIT_POLICY=PASSIVE, OPENBLAS_THREAD_TIMEOUT=16,
# minitorch_cv/_early.py) are read once, when NumPy loads OpenBLAS and torch loads libgomp;
# without them idle workers spin and hold the cores the other library wants (a LeNet step
# measured 57 ms instead of 16 ms at 2 threads with torch imported first). torch runs under the
# same settings.
import minitorch_cv as mt  # noqa: E402, I001  (before numpy and torch, on purpose)
import minitorch_cv.functional as F  # noqa: E402
from minitorch_cv import models, optim  # noqa: E402
from minitorch_cv.data import MNIST  # noqa: E402

import numba  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as tnn  # noqa: E402
from bench_kernels import header  # noqa: E402

BATCH = 128
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def load_weights(torch_model: tnn.Module, ours) -> None:
    """Copy our state_dict into a torch model with the same module names."""
    state = {k: torch.from_numpy(np.array(v.array if hasattr(v, "array") else v))
             for k, v in ours.state_dict().items()}
    torch_model.load_state_dict(state)


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def numpy_peak_mb(step) -> float:
    """Peak of NumPy allocations (tracemalloc) during one call of ``step``, untimed."""
    tracemalloc.start()
    step()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


# ----------------------------------------------------------------------------- (a) LeNet-5
class TorchLeNet5(tnn.Module):
    """The same modern LeNet-5 in torch.nn, with the same module names."""

    def __init__(self):
        super().__init__()
        self.features = tnn.Sequential(
            tnn.Conv2d(1, 6, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2, 2),
            tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2, 2))
        self.classifier = tnn.Sequential(
            tnn.Flatten(), tnn.Linear(400, 120), tnn.ReLU(), tnn.Linear(120, 84), tnn.ReLU(),
            tnn.Linear(84, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


def mnist_arrays(root: str, train: bool):
    ds = MNIST(root=root, train=train)
    images, labels = np.asarray(ds.data), np.asarray(ds.targets)  # Tensors, as torchvision's
    x = ((images.astype(np.float32) / 255 - MNIST_MEAN) / MNIST_STD)[:, None]
    return np.ascontiguousarray(x, dtype=np.float32), labels.astype(np.int64)


def lenet_epoch(root: str, lines: list[str]) -> None:
    x_train, y_train = mnist_arrays(root, True)
    x_test, y_test = mnist_arrays(root, False)
    order = np.random.default_rng(0).permutation(len(x_train))
    batches = [order[i:i + BATCH] for i in range(0, len(order), BATCH)]
    mt.manual_seed(0)
    ours = models.lenet5()
    theirs = TorchLeNet5()
    load_weights(theirs, ours)
    ours_opt = optim.Adam(ours.parameters(), lr=1e-3)
    torch_opt = torch.optim.Adam(theirs.parameters(), lr=1e-3)

    def ours_step(idx):
        loss = F.cross_entropy(ours(mt.Tensor(x_train[idx])), mt.Tensor(y_train[idx]))
        ours_opt.zero_grad()
        loss.backward()
        ours_opt.step()

    def torch_step(idx):
        loss = tnn.functional.cross_entropy(theirs(torch.from_numpy(x_train[idx])),
                                            torch.from_numpy(y_train[idx]))
        torch_opt.zero_grad()
        loss.backward()
        torch_opt.step()

    def ours_accuracy():
        ours.eval()
        with mt.no_grad():
            hits = sum(int((ours(mt.Tensor(x_test[i:i + 1000])).array.argmax(1)
                            == y_test[i:i + 1000]).sum()) for i in range(0, len(x_test), 1000))
        ours.train()
        return hits / len(x_test)

    def torch_accuracy():
        theirs.eval()
        with torch.no_grad():
            hits = sum(int((theirs(torch.from_numpy(x_test[i:i + 1000])).argmax(1).numpy()
                            == y_test[i:i + 1000]).sum()) for i in range(0, len(x_test), 1000))
        theirs.train()
        return hits / len(x_test)

    # warm-up (Numba compilation, allocator): one step each on a copy of the weights is not
    # needed for fairness of the accuracy, so warm up on the evaluation path only
    ours_accuracy(), torch_accuracy()
    peak = numpy_peak_mb(lambda: ours_step(batches[0]))  # counts as the epoch's first step
    _, ours_wall, ours_cpu = timed(lambda: [ours_step(b) for b in batches[1:]])
    rss_ours = maxrss_mb()
    torch_step(batches[0])
    _, torch_wall, torch_cpu = timed(lambda: [torch_step(b) for b in batches[1:]])
    rss_torch = maxrss_mb()
    acc_ours, acc_torch = ours_accuracy(), torch_accuracy()
    steps = len(batches) - 1
    lines += [
        "",
        f"(a) LeNet-5 (modern), one MNIST epoch: {len(x_train):,} images, batch {BATCH}, Adam "
        f"lr 1e-3, same initial weights and batch order; timed over steps 2..{len(batches)} "
        f"({steps} steps; step 1 runs under tracemalloc)",
        f"{'':24s} {'ours':>10s} {'torch':>10s} {'ratio':>7s}",
        f"{'epoch wall s':24s} {ours_wall:10.2f} {torch_wall:10.2f} "
        f"{ours_wall / torch_wall:7.2f}   (target <= 1.0 AVX2, <= 1.25 AVX-512)",
        f"{'epoch CPU s':24s} {ours_cpu:10.2f} {torch_cpu:10.2f} {ours_cpu / torch_cpu:7.2f}",
        f"{'ms per step (wall)':24s} {ours_wall / steps * 1e3:10.2f} "
        f"{torch_wall / steps * 1e3:10.2f}",
        f"{'test accuracy':24s} {acc_ours:10.4f} {acc_torch:10.4f} "
        f"{acc_ours - acc_torch:+7.4f}   (difference)",
        f"peak memory: ours NumPy {peak:.1f} MB (tracemalloc, one step); process ru_maxrss "
        f"{rss_ours:.0f} MB after ours, {rss_torch:.0f} MB after torch",
    ]


# ----------------------------------------------------------------------------- (b) ResNet-20
class TorchShortcutA(tnn.Module):
    def __init__(self, extra: int, stride: int):
        super().__init__()
        self.extra, self.stride = extra, stride

    def forward(self, x):
        x = x[:, :, ::self.stride, ::self.stride]
        return tnn.functional.pad(x, (0, 0, 0, 0, self.extra // 2,
                                      self.extra - self.extra // 2))


class TorchBasicBlock(tnn.Module):
    def __init__(self, c_in: int, planes: int, stride: int):
        super().__init__()
        self.conv1 = tnn.Conv2d(c_in, planes, 3, stride, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.downsample = TorchShortcutA(planes - c_in, stride) if stride != 1 else None

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + identity)


class TorchResNet20(tnn.Module):
    """CIFAR ResNet-20 (He et al. 2015, option A), with minitorch_cv's module names."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.conv1 = tnn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(16)
        c_in = 16
        for stage, planes in enumerate((16, 32, 64), start=1):
            blocks = []
            for i in range(3):
                stride = 2 if stage > 1 and i == 0 else 1
                blocks.append(TorchBasicBlock(c_in, planes, stride))
                c_in = planes
            setattr(self, f"layer{stage}", tnn.Sequential(*blocks))
        self.fc = tnn.Linear(64, num_classes)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(x.mean(dim=(2, 3)))


def resnet_step(lines: list[str], min_steps: int, budget: float) -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((BATCH, 3, 32, 32)).astype(np.float32)
    y = rng.integers(0, 10, BATCH).astype(np.int64)
    mt.manual_seed(0)
    ours = models.resnet20()
    theirs = TorchResNet20()
    load_weights(theirs, ours)
    n_ours = sum(p.numel() for p in ours.parameters())
    n_torch = sum(p.numel() for p in theirs.parameters())
    ours_opt = optim.SGD(ours.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    torch_opt = torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    xm, ym, xt, yt = mt.Tensor(x), mt.Tensor(y), torch.from_numpy(x), torch.from_numpy(y)

    def ours_step():
        loss = F.cross_entropy(ours(xm), ym)
        ours_opt.zero_grad()
        loss.backward()
        ours_opt.step()
        return float(loss.array)

    def torch_step():
        loss = tnn.functional.cross_entropy(theirs(xt), yt)
        torch_opt.zero_grad()
        loss.backward()
        torch_opt.step()
        return loss.item()

    first_ours, first_torch = ours_step(), torch_step()  # same weights: same first loss
    walls, cpus = ([], []), ([], [])
    start = time.perf_counter()
    while len(walls[0]) < min_steps or (time.perf_counter() - start < budget
                                        and len(walls[0]) < 30):
        for k, step in enumerate((ours_step, torch_step)):
            _, wall, cpu = timed(step)
            walls[k].append(wall)
            cpus[k].append(cpu)
    rss = maxrss_mb()
    peak = numpy_peak_mb(ours_step)
    (w_o, w_t), (c_o, c_t) = ([statistics.median(v) for v in m] for m in (walls, cpus))
    lines += [
        "",
        f"(b) ResNet-20 (CIFAR, option A; {n_ours:,} parameters, torch twin {n_torch:,}), one "
        f"training step at batch {BATCH} on random 3x32x32 data, SGD momentum; median of "
        f"{len(walls[0])} interleaved steps; first-step loss ours {first_ours:.5f}, torch "
        f"{first_torch:.5f}",
        f"{'':24s} {'ours':>10s} {'torch':>10s} {'ratio':>7s}",
        f"{'step wall ms':24s} {w_o * 1e3:10.1f} {w_t * 1e3:10.1f} {w_o / w_t:7.2f}"
        "   (target <= 1.25 AVX2, <= 1.5 AVX-512)",
        f"{'step CPU ms':24s} {c_o * 1e3:10.1f} {c_t * 1e3:10.1f} {c_o / c_t:7.2f}",
        f"peak memory: ours NumPy {peak:.1f} MB (tracemalloc, one step); process ru_maxrss "
        f"{rss:.0f} MB",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=numba.config.NUMBA_NUM_THREADS,
                        help="threads for numba, torch and BLAS alike (default: all cores)")
    parser.add_argument("--data-dir", default=str(HERE.parent.parent / "shared" / "data"))
    parser.add_argument("--skip-lenet", action="store_true", help="only the ResNet-20 step")
    parser.add_argument("--steps", type=int, default=5, help="least ResNet-20 steps each")
    parser.add_argument("--out", default=str(HERE / "results" / "bench_train.txt"))
    parser.add_argument("--conv-algorithm", default="auto",
                        choices=mt.backends.conv.CHOICES,
                        help="minitorch_cv.backends.conv.algorithm for our side (default auto)")
    parser.add_argument("--conv-benchmark", action="store_true",
                        help="minitorch_cv.backends.conv.benchmark = True (time per shape)")
    args = parser.parse_args()
    mt.backends.conv.algorithm = args.conv_algorithm
    mt.backends.conv.benchmark = args.conv_benchmark
    numba.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads, user_api="blas")
    except ImportError:
        pass
    lines = [f"# benchmarks/bench_train.py, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"]
    lines += header(args.threads)
    lines.append("float32; ratio = ours / torch (lower is better); convolution algorithm "
                 f"{mt.backends.conv.algorithm}"
                 f"{' with benchmark = True' if mt.backends.conv.benchmark else ''}")
    print("\n".join(lines), flush=True)
    shown = len(lines)
    if not args.skip_lenet:
        lenet_epoch(args.data_dir, lines)
        print("\n".join(lines[shown:]), flush=True)
        shown = len(lines)
    resnet_step(lines, args.steps, budget=20.0)
    lines.append(f"load average at end {', '.join(f'{v:.1f}' for v in os.getloadavg())}")
    print("\n".join(lines[shown:]), flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "a") as f:
        f.write("\n".join(lines) + "\n\n")


if __name__ == "__main__":
    main()
