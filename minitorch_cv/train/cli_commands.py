"""``minitorch-cv train MODEL`` and ``minitorch-cv summary MODEL``: the command-line main job.

``minitorch-cv train`` with no options trains LeNet-5 on Fashion-MNIST (the class-balanced
subset shipped in the package when no data folder is found: offline, on a fresh install) with
the course's Trainer, prints one line per epoch and the final test accuracy, and leaves
``model.toml``, ``settings.toml`` and the trained weights (``model.safetensors``) in a
timestamped folder under ``--logdir``.

``cli.py`` registers these with ``add_train_parser(subparsers)`` / ``add_summary_parser``;
each sets ``handler`` to its ``run_*`` function, which returns the exit code.
"""

from __future__ import annotations

import argparse
import time

# per-channel mean and standard deviation of each training set (the usual published values)
DATASETS = {
    "fashion": ("FashionMNIST", (0.2860,), (0.3530,)),
    "mnist": ("MNIST", (0.1307,), (0.3081,)),
    "cifar10": ("CIFAR10", (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
}
REPORTS = ("toml", "tensorboard", "mlflow")


def add_train_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``train`` on ``subparsers`` (the result of ``parser.add_subparsers()``)."""
    from ..backend import DEVICES  # noqa: PLC0415

    parser = subparsers.add_parser(
        "train", help="train a registered model on an image dataset with the Trainer",
        description="Train MODEL (a name from minitorch_cv.models, e.g. lenet5) on "
                    "Fashion-MNIST, MNIST or CIFAR-10. With no data folder, Fashion-MNIST "
                    "uses the subset shipped in the package, so this runs offline.")
    parser.add_argument("model", nargs="?", default="lenet5",
                        help="registered model name (default: lenet5)")
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="fashion")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3, help="Adam's learning rate")
    parser.add_argument("--device", choices=DEVICES, default="cpu")
    parser.add_argument("--data-dir", default=None,
                        help="folder with the dataset files (else $MINITORCH_CV_DATA, the "
                             "user cache, then the embedded Fashion-MNIST subset)")
    parser.add_argument("--logdir", default="modellogs",
                        help="runs are written to timestamped folders under it")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None, metavar="N",
                        help="train on a seeded random N training images (quick checks)")
    parser.add_argument("--report", nargs="*", choices=REPORTS, default=["toml"],
                        help="what to write besides the console lines (default: toml)")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bar (the epoch lines are still printed)")
    parser.set_defaults(handler=run_train)
    return parser


def add_summary_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``summary`` on ``subparsers``."""
    parser = subparsers.add_parser(
        "summary", help="layer-by-layer output shapes and parameter counts of a model")
    parser.add_argument("model", help="registered model name, e.g. lenet5")
    parser.add_argument("--input-size", type=int, nargs="+", default=None, metavar="D",
                        help="C H W of one input, e.g. 1 28 28 (a batch of one is shown); "
                             "default: the model's natural input size")
    parser.add_argument("--num-classes", type=int, default=10)
    parser.set_defaults(handler=run_summary)
    return parser


def _build_model(name: str, num_classes: int, in_channels: int):
    """``models.get`` with ``in_channels`` only when it differs from the model's own."""
    from .. import models  # noqa: PLC0415

    kwargs = {"num_classes": num_classes}
    if in_channels != models.input_size(name)[0]:
        kwargs["in_channels"] = in_channels
    try:
        return models.get(name, **kwargs)
    except TypeError as exc:
        raise ValueError(f"cannot build {name} with {kwargs}: {exc}") from exc


def _load_data(args):
    """Train and test datasets, with ToTensor and the dataset's normalisation."""
    from .. import data  # noqa: PLC0415

    class_name, mean, std = DATASETS[args.dataset]
    steps = [data.ToTensor(), data.Normalize(mean, std)]
    dataset_class = getattr(data, class_name)
    splits = [dataset_class(root=args.data_dir, train=train, transform=data.Compose(steps))
              for train in (True, False)]
    return splits, steps


def _describe(train_set, test_set, name: str) -> str:
    where = ("the embedded subset shipped in the package"
             if getattr(train_set, "is_embedded", False) else str(train_set.folder))
    return f"{name}: {len(train_set):,} train / {len(test_set):,} test images from {where}"


def run_train(args: argparse.Namespace) -> int:
    """Train ``args.model`` on ``args.dataset``; print epochs and the final test accuracy."""
    import warnings  # noqa: PLC0415

    import numpy as np  # noqa: PLC0415

    import minitorch_cv as mt  # noqa: PLC0415
    from minitorch_cv import data, models, nn, optim  # noqa: PLC0415

    from . import ReportTypes, Trainer, TrainerSettings, evaluate, metrics  # noqa: PLC0415

    mt.manual_seed(args.seed)
    try:
        mt.backend.check_device(args.device)
    except RuntimeError as exc:  # cuda without a GPU or without CuPy: say so, no traceback
        print(f"minitorch-cv train: {exc}")
        return 2
    try:
        with warnings.catch_warnings():  # the summary line below says which data is used
            warnings.simplefilter("ignore", data.EmbeddedDataWarning)
            (train_set, test_set), steps = _load_data(args)
        model = _build_model(args.model, 10, 3 if args.dataset == "cifar10" else 1)
    except (FileNotFoundError, KeyError, ValueError) as exc:
        print(f"minitorch-cv train: {exc.args[0] if exc.args else exc}")
        return 2
    print(_describe(train_set, test_set, args.dataset))
    natural = models.input_size(args.model)
    if tuple(natural[1:]) != tuple(train_set.data.shape[1:3]):
        print(f"resizing {train_set.data.shape[1]}x{train_set.data.shape[2]} images to "
              f"{args.model}'s input size {natural[1]}x{natural[2]}")
        resize = data.Resize(natural[1:])
        for dataset in (train_set, test_set):
            dataset.transform = data.Compose([*steps, resize])
    if args.limit is not None:
        order = np.random.default_rng(args.seed).permutation(len(train_set))[:args.limit]
        train_set = data.Subset(train_set, order)
    trainloader = data.DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                                  drop_last=len(train_set) > args.batch_size, seed=args.seed)
    testloader = data.DataLoader(test_set, batch_size=500)
    settings = TrainerSettings(
        epochs=args.epochs, metrics=[metrics.Accuracy()], logdir=args.logdir,
        train_steps=len(trainloader), valid_steps=len(testloader),
        reporttypes=[ReportTypes[name.upper()] for name in args.report],
        optimizer_kwargs={"lr": args.lr, "weight_decay": 1e-5},
        scheduler_kwargs={"factor": 0.1, "patience": 10}, earlystop_kwargs=None)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model {args.model}: {n_params:,} parameters; {args.epochs} epochs of "
          f"{len(trainloader)} batches of {args.batch_size} on {args.device}")
    started = time.perf_counter()
    with Trainer(model, settings, nn.CrossEntropyLoss(), optim.Adam, trainloader, testloader,
                 optim.lr_scheduler.ReduceLROnPlateau, device=args.device,
                 progress_bar=False if args.quiet else None) as trainer:
        trainer.loop()
    seconds = time.perf_counter() - started
    if trainer.stopped:
        print(f"stopped early: {trainer.stopped}")
    model.eval()
    result = evaluate(model, testloader, nn.CrossEntropyLoss(), [metrics.Accuracy()],
                      device=args.device)
    weights = trainer.log_dir / "model.safetensors"
    mt.save(model.state_dict(), weights)
    print(f"trained in {seconds:.1f} s; weights and settings in {trainer.log_dir}")
    print(f"test accuracy: {result['Accuracy']:.4f} ({len(test_set):,} images, "
          f"test loss {result['loss']:.4f})")
    return 0


def run_summary(args: argparse.Namespace) -> int:
    """Print ``summary(model, (1, *input_size))`` for a registered model."""
    from .. import models  # noqa: PLC0415
    from ..summary import InputTooSmallError, summary  # noqa: PLC0415

    try:
        size = tuple(args.input_size) if args.input_size else models.input_size(args.model)
        in_channels = size[-3] if len(size) >= 3 else 1
        model = _build_model(args.model, args.num_classes, in_channels)
    except (KeyError, ValueError) as exc:
        print(f"minitorch-cv summary: {exc.args[0]}")
        return 2
    if len(size) not in (3, 4):
        print(f"minitorch-cv summary: --input-size takes C H W (or N C H W), got {size}")
        return 2
    try:
        print(summary(model, size if len(size) == 4 else (1, *size)))
    except InputTooSmallError as exc:
        print(f"minitorch-cv summary: {exc}")
        return 2
    return 0
