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
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

# per-channel mean and standard deviation of each training set (the usual published values)
DATASETS = {
    "fashion": ("FashionMNIST", (0.2860,), (0.3530,)),
    "mnist": ("MNIST", (0.1307,), (0.3081,)),
    "cifar10": ("CIFAR10", (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
}
REPORTS = ("toml", "tensorboard", "mlflow")
DEFAULTS = {"model": "lenet5", "dataset": "fashion", "epochs": 3, "batch_size": 64, "lr": 2e-3,
            "device": "cpu", "logdir": "modellogs", "seed": 0, "report": ["toml"]}
RESUMABLE = ("epochs", "device", "quiet")  # what --resume may change
COMMAND_FILE = "command.json"  # the run's options, for --resume
SUMMARY_MAX_ELEMENTS = 2**26  # a summary runs a forward pass: 64 M input values at most


def _int_at_least(text: str, low: int, wording: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"must be {wording}, got {value}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (argparse then says which option is wrong, exit 2)."""
    return _int_at_least(text, 1, "at least 1")


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    return _int_at_least(text, 0, "0 or more")


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text}")
    return value


def add_train_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``train`` on ``subparsers`` (the result of ``parser.add_subparsers()``)."""
    from ..backend import DEVICES  # noqa: PLC0415

    parser = subparsers.add_parser(
        "train", help="train a registered model on an image dataset with the Trainer",
        description="Train MODEL (a name from minitorch_cv.models, e.g. lenet5) on "
                    "Fashion-MNIST, MNIST or CIFAR-10. With no data folder, Fashion-MNIST "
                    "uses the subset shipped in the package, so this runs offline. After "
                    "every epoch the run folder gets last_epoch.safetensors; Ctrl-C saves and "
                    "stops; --resume RUN_DIR continues exactly where the run was.")
    parser.add_argument("model", nargs="?", default=None,
                        help="registered model name (default: lenet5)")
    parser.add_argument("--dataset", choices=sorted(DATASETS), default=None,
                        help="default: fashion")
    parser.add_argument("--epochs", type=positive_int, default=None,
                        help=f"epochs in total (default: {DEFAULTS['epochs']}; with --resume: "
                             "the run's own)")
    parser.add_argument("--batch-size", type=positive_int, default=None,
                        help=f"default: {DEFAULTS['batch_size']}")
    parser.add_argument("--lr", type=positive_float, default=None,
                        help=f"Adam's learning rate (default: {DEFAULTS['lr']})")
    parser.add_argument("--device", choices=DEVICES, default=None, help="default: cpu")
    parser.add_argument("--data-dir", default=None,
                        help="folder with the dataset files (else $MINITORCH_CV_DATA, the "
                             "user cache, then the embedded Fashion-MNIST subset)")
    parser.add_argument("--logdir", default=None,
                        help="runs are written to timestamped folders under it "
                             f"(default: {DEFAULTS['logdir']})")
    parser.add_argument("--seed", type=non_negative_int, default=None,
                        help=f"default: {DEFAULTS['seed']}")
    parser.add_argument("--limit", type=positive_int, default=None, metavar="N",
                        help="train on a seeded random N training images (quick checks)")
    parser.add_argument("--report", nargs="*", choices=REPORTS, default=None,
                        help="what to write besides the console lines (default: toml)")
    parser.add_argument("--resume", default=None, metavar="RUN_DIR",
                        help="continue the run in RUN_DIR from its last finished epoch, with "
                             "its own options (only --epochs, --device and --quiet may change)")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bar (the epoch lines are still printed)")
    parser.set_defaults(handler=run_train)
    return parser


def add_summary_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``summary`` on ``subparsers``."""
    parser = subparsers.add_parser(
        "summary", help="layer-by-layer output shapes and parameter counts of a model")
    parser.add_argument("model", help="registered model name, e.g. lenet5")
    parser.add_argument("--input-size", type=positive_int, nargs="+", default=None,
                        metavar="D",
                        help="C H W of one input, e.g. 1 28 28 (a batch of one is shown); "
                             "default: the model's natural input size")
    parser.add_argument("--num-classes", type=positive_int, default=10)
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


def _fail(command: str, message: str, code: int = 2) -> int:
    """One line on stderr, as argparse does for a bad option; the exit code."""
    print(f"minitorch-cv {command}: {message}", file=sys.stderr)
    return code


def _options(args: argparse.Namespace) -> dict:
    """The run's options: defaults, or with --resume the run's own (command.json)."""
    given = {k: v for k, v in vars(args).items() if k != "handler"}
    if args.resume is None:
        return {k: (DEFAULTS.get(k) if v is None else v) for k, v in given.items()}
    saved_path = Path(args.resume) / COMMAND_FILE
    try:
        saved = json.loads(saved_path.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"--resume {args.resume}: not a run folder of minitorch-cv train "
                         f"(cannot read {saved_path}: {exc.strerror or exc})") from None
    changed = sorted(k for k, v in given.items()
                     if v not in (None, False) and k not in (*RESUMABLE, "resume")
                     and v != saved.get(k))
    if changed:
        raise ValueError(f"--resume continues a run with its own options; "
                         f"{', '.join('--' + k.replace('_', '-') for k in changed)} cannot "
                         f"change (only {', '.join('--' + k for k in RESUMABLE)} can)")
    options = {**saved, "resume": args.resume, "quiet": args.quiet}
    for key in ("epochs", "device"):
        if given[key] is not None:
            options[key] = given[key]
    return options


def _check_logdir(logdir: str) -> None:
    """Fail early, in one line, if runs cannot be written under ``logdir``."""
    path = Path(logdir)
    if path.exists() and not path.is_dir():
        raise ValueError(f"--logdir {logdir} is a file, not a folder: pick another path")
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test-{time.time_ns()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ValueError(f"--logdir {logdir} is not writable ({exc.strerror or exc}): pick "
                         "a folder you can write to") from None


def _check_labels(dataset, num_classes: int, name: str) -> None:
    labels = getattr(dataset, "targets", None)
    if labels is None or len(labels) == 0:
        return
    labels = np.asarray(labels)  # a Tensor (torchvision's MNIST) or an array (CIFAR-10)
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= num_classes:
        hint = " (1-based? subtract 1)" if low == 1 and high == num_classes else ""
        raise ValueError(f"the {name} labels range from {low} to {high}, but the model has "
                         f"{num_classes} outputs, so labels must be 0..{num_classes - 1}{hint}")


def run_train(args: argparse.Namespace) -> int:
    """``minitorch-cv train``: exit 0, 2 for a bad invocation or data (one line on stderr),
    1 when the training diverged (inf or nan loss), 2 on Ctrl-C (after saving, with one line)."""
    try:
        return _run_train(args)
    except KeyboardInterrupt:  # outside the training loop (loading data, evaluating)
        return _fail("train", "interrupted (Ctrl-C)", 2)


def _run_train(args: argparse.Namespace) -> int:
    import warnings  # noqa: PLC0415

    import minitorch_cv as mt  # noqa: PLC0415
    from minitorch_cv import data, models, nn, optim  # noqa: PLC0415

    from . import ReportTypes, Trainer, TrainerSettings, evaluate, metrics  # noqa: PLC0415

    try:
        opts = argparse.Namespace(**_options(args))
        mt.backend.check_device(opts.device)
        _check_logdir(opts.logdir)
    except (ValueError, RuntimeError) as exc:  # cuda without a GPU, bad folder, bad resume
        return _fail("train", str(exc.args[0] if exc.args else exc))
    mt.manual_seed(opts.seed)
    try:
        with warnings.catch_warnings():  # the summary line below says which data is used
            warnings.simplefilter("ignore", data.EmbeddedDataWarning)
            (train_set, test_set), steps = _load_data(opts)
        model = _build_model(opts.model, 10, 3 if opts.dataset == "cifar10" else 1)
        for dataset, split in ((train_set, "training"), (test_set, "test")):
            _check_labels(dataset, 10, split)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 (missing, corrupt or foreign data: one line)
        message = exc.args[0] if exc.args and isinstance(exc.args[0], str) else repr(exc)
        if not isinstance(exc, (FileNotFoundError, KeyError, ValueError)):
            message = (f"cannot read the {opts.dataset} data under "
                       f"{opts.data_dir or 'the default folders'} "
                       f"({type(exc).__name__}: {message}); the files may be damaged: "
                       "download them again")
        return _fail("train", message)
    print(_describe(train_set, test_set, opts.dataset))
    natural = models.input_size(opts.model)
    if tuple(natural[1:]) != tuple(train_set.data.shape[1:3]):
        print(f"resizing {train_set.data.shape[1]}x{train_set.data.shape[2]} images to "
              f"{opts.model}'s input size {natural[1]}x{natural[2]}")
        resize = data.Resize(natural[1:])
        for dataset in (train_set, test_set):
            dataset.transform = data.Compose([*steps, resize])
    if opts.limit is not None:
        if opts.limit > len(train_set):
            return _fail("train", f"--limit {opts.limit} is more than the {len(train_set):,} "
                                  f"training images of {opts.dataset}: lower it or leave it out")
        order = np.random.default_rng(opts.seed).permutation(len(train_set))[:opts.limit]
        train_set = data.Subset(train_set, order)
    trainloader = data.DataLoader(train_set, batch_size=opts.batch_size, shuffle=True,
                                  drop_last=len(train_set) > opts.batch_size, seed=opts.seed)
    testloader = data.DataLoader(test_set, batch_size=500)
    settings = TrainerSettings(
        epochs=opts.epochs, metrics=[metrics.Accuracy()], logdir=opts.logdir,
        train_steps=len(trainloader), valid_steps=len(testloader),
        reporttypes=[ReportTypes[name.upper()] for name in opts.report],
        optimizer_kwargs={"lr": opts.lr, "weight_decay": 1e-5},
        scheduler_kwargs={"factor": 0.1, "patience": 10}, earlystop_kwargs=None)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model {opts.model}: {n_params:,} parameters; {opts.epochs} epochs of "
          f"{len(trainloader)} batches of {opts.batch_size} on {opts.device}")
    if opts.lr > 1:
        print(f"minitorch-cv train: warning: --lr {opts.lr:g} is far above Adam's usual range "
              f"(1e-4 to 1e-2); the training will likely diverge", file=sys.stderr)
    started = time.perf_counter()
    try:
        trainer = Trainer(model, settings, nn.CrossEntropyLoss(), optim.Adam, trainloader,
                          testloader, optim.lr_scheduler.ReduceLROnPlateau, device=opts.device,
                          progress_bar=False if opts.quiet else None, resume=opts.resume)
    except (FileNotFoundError, ValueError) as exc:  # --resume of a run with no epoch done
        return _fail("train", str(exc))
    trainer.resume_hint = f"minitorch-cv train --resume {trainer.log_dir}"
    command = {k: v for k, v in vars(opts).items() if k not in ("resume", "quiet")}
    mt.serialization.write_atomic(trainer.log_dir / COMMAND_FILE,
                                  json.dumps(command, indent=1).encode())
    with trainer, warnings.catch_warnings():
        # the stop message is printed below; overflow is what a diverging run does
        warnings.filterwarnings("ignore", message="the loss became")
        warnings.filterwarnings("ignore", message="overflow encountered", category=RuntimeWarning)
        trainer.loop()
    if trainer.interrupted:
        return 2  # the Trainer printed the one line: where the weights are, how to resume
    seconds = time.perf_counter() - started
    if trainer.stopped:
        print(f"stopped early: {trainer.stopped}")
    model.eval()
    result = evaluate(model, testloader, nn.CrossEntropyLoss(), [metrics.Accuracy()],
                      device=opts.device)
    weights = trainer.log_dir / "model.safetensors"
    mt.save(model.state_dict(), weights)
    print(f"trained in {seconds:.1f} s; weights and settings in {trainer.log_dir}")
    print(f"test accuracy: {result['Accuracy']:.4f} ({len(test_set):,} images, "
          f"test loss {result['loss']:.4f})")
    if trainer.diverged or not math.isfinite(result["loss"]):
        return _fail("train", f"warning: the training diverged (the loss became inf or nan) "
                              f"with --lr {opts.lr:g}: try a smaller one (default "
                              f"{DEFAULTS['lr']})", 1)
    return 0


def run_summary(args: argparse.Namespace) -> int:
    """Print ``summary(model, (1, *input_size))`` for a registered model."""
    from .. import models  # noqa: PLC0415
    from ..summary import InputTooSmallError, summary  # noqa: PLC0415

    try:
        size = tuple(args.input_size) if args.input_size else models.input_size(args.model)
        if len(size) not in (3, 4):
            raise ValueError(f"--input-size takes C H W (or N C H W), got {len(size)} numbers")
        if math.prod(size) > SUMMARY_MAX_ELEMENTS:
            raise ValueError(f"--input-size {' '.join(map(str, size))} is "
                             f"{math.prod(size):,} values; a summary runs a forward pass, so "
                             f"at most {SUMMARY_MAX_ELEMENTS:,} are allowed")
        model = _build_model(args.model, args.num_classes, size[-3])
        print(summary(model, size if len(size) == 4 else (1, *size)))
    except (KeyError, ValueError, InputTooSmallError) as exc:
        return _fail("summary", str(exc.args[0] if exc.args else exc))
    except MemoryError:
        return _fail("summary", f"not enough memory for a forward pass of {args.model} on "
                                f"{size}: use a smaller --input-size")
    except KeyboardInterrupt:
        return _fail("summary", "interrupted (Ctrl-C)", 2)
    return 0
