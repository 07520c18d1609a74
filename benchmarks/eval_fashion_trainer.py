"""Evaluation: the course's training script, imports changed, on the full Fashion-MNIST.

Written the way the course writes it (a CNN class, ``TrainerSettings``, ``Trainer(...,
optim.Adam, ..., optim.lr_scheduler.ReduceLROnPlateau)``, ``trainer.loop()``), with
``minitorch_cv`` in place of ``torch`` and ``mltrainer``. It trains on the 60,000 official
training images from ``../shared/data`` (or ``--data-dir``) for 3 epochs and must reach at least
88% accuracy on the 10,000 test images. Not a CI test: it takes minutes. Run::

    python benchmarks/eval_fashion_trainer.py [--data-dir DIR] [--epochs 3]

It prints the Trainer's epoch lines and writes the time per epoch, the losses and the accuracy
to ``benchmarks/results/eval_fashion_trainer.txt``. On a machine shared with other jobs, run it
with ``NUMBA_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1``: threads that spin-wait for a core burn
several times the CPU of a single-threaded run when the cores are oversubscribed.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import minitorch_cv as torch  # noqa: E402  (the course's `import torch`, switched)
from minitorch_cv import nn, optim  # noqa: E402
from minitorch_cv.data import DataLoader, FashionMNIST, transforms  # noqa: E402
from minitorch_cv.train import ReportTypes, Trainer, TrainerSettings, metrics  # noqa: E402

TARGET = 0.88


class CNN(nn.Module):
    """The course's small CNN: three conv blocks (conv, batch norm, ReLU, max-pool) and a
    two-layer head; 28x28 -> 14x14 -> 7x7 -> 3x3."""

    def __init__(self, num_classes: int, kernel_size: int, filter1: int, filter2: int,
                 units: int) -> None:
        super().__init__()
        self.num_classes, self.kernel_size = num_classes, kernel_size
        self.filter1, self.filter2, self.units = filter1, filter2, units
        self.convolutions = nn.Sequential(
            nn.Conv2d(1, filter1, kernel_size=kernel_size, stride=1, padding=1),
            nn.BatchNorm2d(filter1), nn.ReLU(), nn.MaxPool2d(kernel_size=2),
            nn.Conv2d(filter1, filter2, kernel_size=kernel_size, stride=1, padding=1),
            nn.BatchNorm2d(filter2), nn.ReLU(), nn.MaxPool2d(kernel_size=2),
            nn.Conv2d(filter2, filter2, kernel_size=kernel_size, stride=1, padding=1),
            nn.BatchNorm2d(filter2), nn.ReLU(), nn.MaxPool2d(kernel_size=2),
        )
        self.dense = nn.Sequential(
            nn.Flatten(),
            nn.Linear(filter2 * 3 * 3, units), nn.ReLU(),
            nn.Linear(units, num_classes),
        )

    def forward(self, x):
        return self.dense(self.convolutions(x))


def machine() -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, text=True,
                            capture_output=True).stdout.strip()
    import numba  # noqa: PLC0415

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    blas = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"load average at start {load}; Numba threads {numba.get_num_threads()}, "
            f"OPENBLAS_NUM_THREADS={blas}; Python {platform.python_version()}; commit {commit}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(HERE.parent.parent / "shared" / "data"))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--logdir", default="/tmp/minitorch_cv_eval_fashion")
    parser.add_argument("--out", default=str(HERE / "results" / "eval_fashion_trainer.txt"))
    args = parser.parse_args()
    started_at, about = datetime.now(timezone.utc), machine()
    torch.manual_seed(0)

    # ---- the course's script, from here on ----
    transform = transforms.Compose([transforms.ToTensor(),
                                    transforms.Normalize((0.2860,), (0.3530,))])
    training_data = FashionMNIST(root=args.data_dir, train=True, transform=transform)
    test_data = FashionMNIST(root=args.data_dir, train=False, transform=transform)
    trainloader = DataLoader(training_data, batch_size=args.batch_size, shuffle=True, seed=0)
    testloader = DataLoader(test_data, batch_size=500)

    model = CNN(num_classes=10, kernel_size=3, filter1=16, filter2=32, units=128)
    settings = TrainerSettings(
        epochs=args.epochs,
        metrics=[metrics.Accuracy()],
        logdir=Path(args.logdir),
        train_steps=len(trainloader),
        valid_steps=len(testloader),
        reporttypes=[ReportTypes.TOML, ReportTypes.TENSORBOARD],
        optimizer_kwargs={"lr": 1e-3, "weight_decay": 1e-5},
        scheduler_kwargs={"factor": 0.1, "patience": 10},
        earlystop_kwargs={"save": True, "verbose": False, "patience": 10},
    )
    trainer = Trainer(
        model=model,
        settings=settings,
        loss_fn=nn.CrossEntropyLoss(),
        optimizer=optim.Adam,
        traindataloader=trainloader,
        validdataloader=testloader,
        scheduler=optim.lr_scheduler.ReduceLROnPlateau,
    )
    wall, cpu = time.perf_counter(), time.process_time()
    trainer.loop()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    trainer.close()
    sys.stdout.flush()
    # ---- end of the course's script ----

    accuracy = trainer.history[-1]["Accuracy"]
    n_params = sum(p.numel() for p in model.parameters())
    lines = [
        "eval_fashion_trainer: the course's Trainer script on the full Fashion-MNIST",
        f"date: {started_at:%Y-%m-%d %H:%M} UTC",
        f"machine: {about}",
        f"data: {len(training_data):,} train / {len(test_data):,} test images from "
        f"{training_data.folder}",
        f"model: CNN(filter1=16, filter2=32, units=128) with batch norm, {n_params:,} "
        f"parameters; Adam lr 1e-3, batch {args.batch_size}, {len(trainloader)} steps/epoch",
        "",
        "epoch  seconds  train_loss  test_loss  test_accuracy",
    ]
    lines += [f"{h['epoch']:5d}  {h['seconds']:7.1f}  {h['train_loss']:10.4f}  "
              f"{h['test_loss']:9.4f}  {h['Accuracy']:13.4f}" for h in trainer.history]
    per_epoch = sum(h["seconds"] for h in trainer.history) / len(trainer.history)
    lines += [
        "",
        f"time per epoch (train + test): {per_epoch:.1f} s; total {wall:.1f} s wall, "
        f"{cpu:.1f} s CPU",
        f"final test accuracy: {accuracy:.4f} (target >= {TARGET}: "
        f"{'met' if accuracy >= TARGET else 'NOT met'})",
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(report)
    return 0 if accuracy >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
