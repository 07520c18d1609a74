"""``Trainer``: the course library's training loop, on minitorch_cv.

A course script moves between the two libraries by changing imports::

    settings = TrainerSettings(epochs=3, metrics=[Accuracy()], logdir="modellogs",
                               train_steps=len(trainloader), valid_steps=len(testloader),
                               reporttypes=[ReportTypes.TOML, ReportTypes.TENSORBOARD])
    trainer = Trainer(model, settings, nn.CrossEntropyLoss(), optim.Adam, trainloader,
                      testloader, optim.lr_scheduler.ReduceLROnPlateau)
    trainer.loop()

The optimizer and the scheduler are passed as *classes* and built here from
``settings.optimizer_kwargs`` / ``settings.scheduler_kwargs``. One epoch is ``train_steps``
batches; a loader may be a ``DataLoader`` (restarted when it runs out) or an infinite generator.
"""

from __future__ import annotations

import inspect
import logging
import math
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path

from tqdm.auto import tqdm

from ..autograd.function import no_grad
from ..autograd.tensor import Tensor
from . import warnings as student
from .early_stopping import EarlyStopping
from .reporters import make_reporters
from .settings import TrainerSettings

logger = logging.getLogger("minitorch_cv.train")


def dir_add_timestamp(log_dir: Path | str | None = None) -> Path:
    """Create and return ``log_dir/YYYYMMDD-HHMMSS`` (``-1``, ``-2``... if it exists)."""
    base = Path(log_dir) if log_dir is not None else Path(".")
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path, n = base / stamp, 0
    while True:
        try:
            path.mkdir(parents=True, exist_ok=False)
            break
        except FileExistsError:  # two runs started in the same second
            n += 1
            path = base / f"{stamp}-{n}"
    logger.info("logging to %s", path)
    return path


def _to_device(value, device: str | None):
    """A batch field as a Tensor on ``device`` (generators may yield NumPy arrays)."""
    if not isinstance(value, Tensor) and hasattr(value, "shape"):
        value = Tensor(value)
    if device is not None and isinstance(value, Tensor) and value.device != device:
        value = value.to(device)
    return value


def _unpack(batch, device: str | None, which: str):
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        raise TypeError(f"the {which} loader must yield (x, y) pairs, got "
                        f"{type(batch).__name__}" + (f" of length {len(batch)}"
                                                     if isinstance(batch, (tuple, list)) else ""))
    return _to_device(batch[0], device), _to_device(batch[1], device)


def _batch_size(x) -> int:
    return int(x.shape[0]) if getattr(x, "shape", None) else 1


class _BatchSource:
    """``next(source)`` draws a batch: one iterator kept across steps and epochs, restarted
    when it runs out (a ``DataLoader``), or an endless generator used as it is."""

    def __init__(self, loader: Iterable, which: str) -> None:
        self.loader, self.which = loader, which
        self.iterator = None
        self.drawn = 0  # batches drawn from the current iterator

    @property
    def restartable(self) -> bool:
        # a generator (any iterator) cannot start over; a DataLoader makes a new iterator
        return not isinstance(self.loader, Iterator)

    def restart(self) -> None:
        self.iterator, self.drawn = iter(self.loader), 0

    def __next__(self):
        if self.iterator is None:
            self.restart()
        try:
            batch = next(self.iterator)
        except StopIteration:
            if self.drawn == 0:
                raise ValueError(f"the {self.which} loader yields no batches") from None
            if not self.restartable:
                raise ValueError(
                    f"the {self.which} loader ran out after {self.drawn} batches and cannot "
                    f"start over (it is a generator): make it endless, pass a DataLoader, or "
                    f"lower the number of steps in TrainerSettings") from None
            self.restart()
            batch = next(self.iterator)
        self.drawn += 1
        return batch


def _run_eval(model, source, steps: int, loss_fn, metrics, device, warn, ignore_index):
    """Loss and metrics over ``steps`` batches, each averaged over samples."""
    totals: dict[str, float] = {}
    loss_sum, seen = 0.0, 0
    with no_grad():
        for _ in range(steps):
            x, y = _unpack(next(source), device, "validation")
            yhat = model(x)
            student.check_labels(yhat, y, warn, ignore_index)
            n = _batch_size(x)
            if loss_fn is not None:
                loss_sum += float(loss_fn(yhat, y).item()) * n
            for metric in metrics:
                name = repr(metric)
                totals[name] = totals.get(name, 0.0) + float(metric(y, yhat)) * n
            seen += n
    return {name: value / seen for name, value in totals.items()}, loss_sum / max(seen, 1)


def evaluate(model, loader: Iterable, loss_fn: Callable | None = None, metrics=(),
             steps: int | None = None, device: str | None = None) -> dict[str, float]:
    """Loss (if ``loss_fn`` is given) and metrics of ``model`` over ``loader``, under no_grad.

    ``evaluate`` does not switch the model to ``eval()`` for you: like a hand-written
    evaluation loop it uses the model as it is, and warns (once) when batch-norm or dropout
    layers are still in training mode. ``steps`` limits the number of batches (default: one
    pass over the loader; required for an endless generator).

    Returns ``{"loss": ..., repr(metric): ...}``, each a mean over samples.
    """
    student.check_eval_mode(model, student._module_warner)
    if steps is None:
        if not hasattr(loader, "__len__"):
            raise ValueError("evaluate needs steps= for a loader without len() (a generator)")
        steps = len(loader)
    source = _BatchSource(loader, "evaluation")
    values, loss = _run_eval(model, source, steps, loss_fn, metrics, device,
                             student._module_warner, getattr(loss_fn, "ignore_index", None))
    return ({"loss": loss} if loss_fn is not None else {}) | values


def _build(kind: str, cls, args: tuple, kwargs: dict, kwargs_name: str):
    if not isinstance(cls, type):
        raise TypeError(f"Trainer expects the {kind} CLASS (for example optim.Adam), not "
                        f"{type(cls).__name__} instance; its arguments go in "
                        f"TrainerSettings.{kwargs_name}")
    try:
        return cls(*args, **kwargs)
    except TypeError as exc:
        raise TypeError(f"building {cls.__name__} from TrainerSettings.{kwargs_name}={kwargs} "
                        f"failed: {exc}") from exc


class Trainer:
    """Train ``model`` for ``settings.epochs`` epochs of ``settings.train_steps`` batches.

    Args:
        model: a ``nn.Module``.
        settings: a ``TrainerSettings``.
        loss_fn: ``loss_fn(yhat, y)`` returning a scalar Tensor.
        optimizer: an optimizer class, built as ``optimizer(model.parameters(),
            **settings.optimizer_kwargs)``.
        traindataloader, validdataloader: ``DataLoader`` s or endless generators of ``(x, y)``.
        scheduler: a scheduler class built as ``scheduler(optimizer,
            **settings.scheduler_kwargs)``, or ``None``. It steps once per epoch;
            ``ReduceLROnPlateau`` steps with the test loss.
        device: moves the model and every batch there (``"cpu"``, ``"cuda"``, ``"cuda-sim"``).
        quiet: no progress bar and no per-epoch line (keyword only; not in the course library).
        progress_bar: ``False`` hides the bar but keeps the epoch lines; ``None`` (default)
            shows it when the output is a terminal.

    After ``loop()``: ``test_loss`` and ``train_loss`` of the last epoch, ``last_epoch`` (epochs
    run so far, carried across calls), ``history`` (one dict per epoch: losses, metrics,
    learning rate and wall-clock seconds), ``log_dir`` (this
    run's timestamped directory) and ``stopped`` (why the loop ended early, or ``None``).
    """

    def __init__(self, model, settings: TrainerSettings, loss_fn: Callable, optimizer: type,
                 traindataloader: Iterable, validdataloader: Iterable,
                 scheduler: type | None, device: str | None = None, *,
                 quiet: bool = False, progress_bar: bool | None = None) -> None:
        if not isinstance(settings, TrainerSettings):
            raise TypeError(f"settings must be a TrainerSettings, got {type(settings).__name__}")
        self.model = model
        self.settings = settings
        self.loss_fn = loss_fn
        self.traindataloader = traindataloader
        self.validdataloader = validdataloader
        self.device = device
        self.quiet = quiet
        self.progress_bar = progress_bar
        if device:
            self.model.to(device)
        self.log_dir = dir_add_timestamp(settings.logdir)
        self.optimizer = _build("optimizer", optimizer, (model.parameters(),),
                                settings.optimizer_kwargs, "optimizer_kwargs")
        self.scheduler = None
        if scheduler is not None:
            if settings.scheduler_kwargs is None:
                raise ValueError("a scheduler was given but TrainerSettings.scheduler_kwargs "
                                 "is None")
            self.scheduler = _build("scheduler", scheduler, (self.optimizer,),
                                    settings.scheduler_kwargs, "scheduler_kwargs")
        self.early_stopping: EarlyStopping | None = None
        if settings.earlystop_kwargs is not None:
            self.early_stopping = EarlyStopping(self.log_dir, **settings.earlystop_kwargs)
            if quiet:
                self.early_stopping.verbose = False
        self.reporters = make_reporters(settings.reporttypes, self.log_dir, model, settings)
        self._train_source = _BatchSource(traindataloader, "train")
        self._valid_source = _BatchSource(validdataloader, "validation")
        self._warn = student.WarnOnce()
        self._ignore_index = getattr(loss_fn, "ignore_index", None)
        self.last_epoch = 0
        self.train_loss: float | None = None
        self.test_loss: float | None = None
        self.history: list[dict[str, float]] = []
        self.stopped: str | None = None
        self._good_state = None
        self._epoch_seconds = math.nan

    # ------------------------------------------------------------------ one epoch
    def trainbatches(self) -> float:
        """Train on ``train_steps`` batches; the mean loss (``nan`` if the loss became nan)."""
        self.model.train()
        steps = self.settings.train_steps
        total = 0.0
        # disable=None: no bar when the output is not a terminal (CI logs, files)
        show = False if self.quiet else self.progress_bar
        bar = tqdm(range(steps), desc=f"epoch {self.last_epoch}", leave=False,
                   disable=None if show is None else not show, dynamic_ncols=True)
        for step in bar:
            x, y = _unpack(next(self._train_source), self.device, "train")
            student.check_batch_of_one(self.model, _batch_size(x), self._warn, step)
            self.optimizer.zero_grad()
            yhat = self.model(x)
            student.check_labels(yhat, y, self._warn, self._ignore_index)
            loss = self.loss_fn(yhat, y)
            value = float(loss.item())
            if math.isnan(value):
                bar.close()
                self._stop_on_nan(step)
                return math.nan
            loss.backward()
            self.optimizer.step()
            total += value
            bar.set_postfix(loss=f"{total / (step + 1):.4f}", refresh=False)
        return total / steps

    def evalbatches(self) -> tuple[dict[str, float], float]:
        """Metrics and test loss over ``valid_steps`` batches, in ``eval()`` and ``no_grad``.

        A ``DataLoader`` starts from its first batch at every evaluation, so every epoch is
        measured on the same batches; an endless generator simply goes on.
        """
        self.model.eval()
        if self._valid_source.restartable:
            self._valid_source.restart()
        return _run_eval(self.model, self._valid_source, self.settings.valid_steps,
                         self.loss_fn, self.settings.metrics, self.device, self._warn,
                         self._ignore_index)

    # ------------------------------------------------------------------ the loop
    def loop(self) -> None:
        """Run ``settings.epochs`` epochs: train, evaluate, step the scheduler, report, and
        stop early when early stopping says so or the loss becomes nan."""
        self.stopped = None
        for _ in range(self.settings.epochs):
            epoch = self.last_epoch
            started = time.perf_counter()
            self._good_state = self._copy_state()
            train_loss = self.trainbatches()
            if math.isnan(train_loss):
                break
            metric_dict, test_loss = self.evalbatches()
            self.last_epoch += 1
            self._step_scheduler(test_loss)
            self._epoch_seconds = time.perf_counter() - started
            self.report(epoch, train_loss, test_loss, metric_dict)
            if self.early_stopping is not None:
                self.early_stopping(test_loss, self.model)
                if self.early_stopping.early_stop:
                    self.stopped = (f"early stopping after epoch {epoch}: no improvement for "
                                    f"{self.early_stopping.patience} epochs")
                    self._say(self.stopped)
                    if self.early_stopping.save:
                        self.early_stopping.get_best(self.model)
                    else:
                        self._say("earlystop_kwargs has save=False: keeping the latest "
                                  "weights (save=True restores the best ones)")
                    break

    def _step_scheduler(self, test_loss: float) -> None:
        if self.scheduler is None:
            return
        parameters = inspect.signature(self.scheduler.step).parameters
        if type(self.scheduler).__name__ == "ReduceLROnPlateau" or "metrics" in parameters:
            self.scheduler.step(test_loss)
        else:
            self.scheduler.step()

    def report(self, epoch: int, train_loss: float, test_loss: float,
               metric_dict: dict[str, float]) -> None:
        """Record one epoch and send it to every reporter."""
        self.train_loss, self.test_loss = train_loss, test_loss
        lr = self.learning_rate
        self.history.append({"epoch": epoch, "train_loss": train_loss, "test_loss": test_loss,
                             **metric_dict, "learning_rate": lr,
                             "seconds": self._epoch_seconds})
        for reporter in self.reporters:
            reporter.epoch(epoch, train_loss, test_loss, metric_dict, lr)
        scores = "".join(f"  {name} {value:.4f}" for name, value in metric_dict.items())
        self._say(f"epoch {epoch}  train loss {train_loss:.4f}  test loss {test_loss:.4f}"
                  f"{scores}  lr {lr:.3g}  ({self._epoch_seconds:.1f} s)")

    @property
    def learning_rate(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    # ------------------------------------------------------------------ nan handling
    def _copy_state(self):
        with no_grad():
            return {name: value.detach().clone()
                    for name, value in self.model.state_dict().items()}

    def _stop_on_nan(self, step: int) -> None:
        global_step = self.last_epoch * self.settings.train_steps + step
        self.model.load_state_dict(self._good_state)
        restored = (f"the model has the weights from the start of epoch {self.last_epoch}, "
                    f"the last ones that gave a finite loss")
        if self.early_stopping is not None and self.early_stopping.path.exists():
            restored += f"; the best checkpoint is still {self.early_stopping.path}"
        self.stopped = student.nan_message(self.last_epoch, step, global_step, restored)
        if not self._warn("nan-loss", self.stopped, stacklevel=4):
            self._say(self.stopped)

    # ------------------------------------------------------------------ housekeeping
    def _say(self, message: str) -> None:
        logger.info(message)
        if not self.quiet:
            tqdm.write(message)

    def close(self) -> None:
        """Flush and close the reporters' files (TensorBoard)."""
        for reporter in self.reporters:
            reporter.close()
        self.reporters = []

    def __enter__(self) -> Trainer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 (interpreter shutdown: modules may be gone)
            pass
