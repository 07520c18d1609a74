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

import contextlib
import inspect
import logging
import math
import signal
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

from tqdm.auto import tqdm

from . import checkpoint as ckpt
from . import warnings as student
from .batches import BatchSource, batch_size, run_eval, unpack
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
        resume: a run directory (or its ``last_epoch.safetensors``) to continue: model,
            optimizer, scheduler, early stopping, history and random streams are restored,
            the run directory is reused, and ``loop()`` runs the epochs left until
            ``settings.epochs``. The result equals an uninterrupted run bit for bit.
        checkpoint: write ``last_epoch.safetensors`` into the run directory after every epoch
            (default True).

    Ctrl-C during ``loop()`` finishes the current step, writes the weights reached so far to
    ``interrupted.safetensors`` (and keeps ``last_epoch.safetensors`` to resume from), says so
    in one line and returns with ``interrupted`` True (a second Ctrl-C stops at once).

    After ``loop()``: ``test_loss`` and ``train_loss`` of the last epoch, ``last_epoch`` (epochs
    run so far, carried across calls), ``history`` (one dict per epoch: losses, metrics,
    learning rate and wall-clock seconds), ``log_dir`` (this
    run's timestamped directory), ``stopped`` (why the loop ended early, or ``None``),
    ``diverged`` (the loss became inf or nan) and ``interrupted`` (Ctrl-C).
    """

    def __init__(self, model, settings: TrainerSettings, loss_fn: Callable, optimizer: type,
                 traindataloader: Iterable, validdataloader: Iterable,
                 scheduler: type | None, device: str | None = None, *,
                 quiet: bool = False, progress_bar: bool | None = None, resume=None,
                 checkpoint: bool = True) -> None:
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
        resume = None if resume is None else ckpt.resolve(resume)
        self.log_dir = resume.parent if resume is not None else dir_add_timestamp(
            settings.logdir)
        self.checkpoint = checkpoint
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
        self._train_source = BatchSource(traindataloader, "train")
        self._valid_source = BatchSource(validdataloader, "validation")
        self._warn = student.WarnOnce()
        self._ignore_index = getattr(loss_fn, "ignore_index", None)
        self.last_epoch = 0
        self.train_loss: float | None = None
        self.test_loss: float | None = None
        self.history: list[dict[str, float]] = []
        self.stopped: str | None = None
        self.diverged = self.interrupted = False
        self._good_state, self._good_epoch = None, None
        self._epoch_seconds = math.nan
        self._remaining: int | None = None
        self._interrupt_requested = False
        # how the interrupt message tells to resume (the command line sets its own)
        self.resume_hint = f"Trainer(..., resume={str(self.log_dir)!r})"
        if resume is not None:
            self.load_checkpoint(resume)

    # ------------------------------------------------------------------ one epoch
    def trainbatches(self) -> float:
        """Train on ``train_steps`` batches; the mean loss, or ``nan`` when the loss became
        inf or nan (the step is then not taken: training stops before ``backward``)."""
        self.model.train()
        steps = self.settings.train_steps
        total = 0.0
        # disable=None: no bar when the output is not a terminal (CI logs, files)
        show = False if self.quiet else self.progress_bar
        bar = tqdm(range(steps), desc=f"epoch {self.last_epoch}", leave=False,
                   disable=None if show is None else not show, dynamic_ncols=True)
        for step in bar:
            x, y = unpack(next(self._train_source), self.device, "train")
            student.check_batch_of_one(self.model, batch_size(x), self._warn, step)
            self.optimizer.zero_grad()
            yhat = self.model(x)
            student.check_labels(yhat, y, self._warn, self._ignore_index)
            loss = self.loss_fn(yhat, y)
            value = float(loss.item())
            if not math.isfinite(value):
                bar.close()
                self._stop_on_nonfinite(step, value)
                return math.nan
            loss.backward()
            self.optimizer.step()
            total += value
            bar.set_postfix(loss=f"{total / (step + 1):.4f}", refresh=False)
            if self._interrupt_requested:
                bar.close()
                self._stop_on_interrupt(step)
                return math.nan
        return total / steps

    def evalbatches(self) -> tuple[dict[str, float], float]:
        """Metrics and test loss over ``valid_steps`` batches, in ``eval()`` and ``no_grad``.

        A ``DataLoader`` starts from its first batch at every evaluation, so every epoch is
        measured on the same batches; an endless generator simply goes on.
        """
        self.model.eval()
        if self._valid_source.restartable:
            self._valid_source.restart()
        return run_eval(self.model, self._valid_source, self.settings.valid_steps,
                         self.loss_fn, self.settings.metrics, self.device, self._warn,
                         self._ignore_index)

    # ------------------------------------------------------------------ the loop
    def loop(self) -> None:
        """Run ``settings.epochs`` epochs: train, evaluate, step the scheduler, report, and
        stop early when early stopping says so or the loss becomes inf or nan. After a
        ``resume``, the first call runs the epochs left until ``settings.epochs``."""
        self.stopped = None
        self.diverged = self.interrupted = False
        epochs = self.settings.epochs if self._remaining is None else self._remaining
        self._remaining = None
        with self._catch_interrupts():
            self._loop(epochs)

    def _loop(self, epochs: int) -> None:
        for _ in range(epochs):
            epoch = self.last_epoch
            started = time.perf_counter()
            state = ckpt.good_state(self.model, self.optimizer)
            if state is not None:  # keep the last finite state, never a broken one
                self._good_state, self._good_epoch = state, epoch
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
            if self.checkpoint:
                try:
                    self.save_checkpoint()
                except TypeError as exc:  # state that a checkpoint cannot hold: say, go on
                    self._warn("checkpoint", f"could not write {self.checkpoint_path} ({exc}); "
                               "training goes on, but cannot be resumed", stacklevel=4)
            if self._interrupt_requested:
                self._stop_on_interrupt(None)
                break
            if self.early_stopping is not None and self.early_stopping.early_stop:
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

    # ------------------------------------------------------------------ checkpoints
    @property
    def checkpoint_path(self) -> Path:
        """``log_dir/last_epoch.safetensors``: written after every epoch, read by ``resume``."""
        return self.log_dir / ckpt.CHECKPOINT_NAME

    def save_checkpoint(self, path: Path | str | None = None) -> Path:
        """Write everything needed to resume (model, optimizer, scheduler, early stopping,
        epoch, history, random streams) to ``path`` (default ``checkpoint_path``)."""
        import minitorch_cv  # noqa: PLC0415 (the package imports train lazily)

        path = Path(path) if path is not None else self.checkpoint_path
        minitorch_cv.save(ckpt.capture(self), path)
        return path

    def load_checkpoint(self, path: Path | str) -> None:
        """Continue from a checkpoint (a run directory or a ``last_epoch.safetensors``): the
        next ``loop()`` runs the epochs left until ``settings.epochs``."""
        import minitorch_cv  # noqa: PLC0415

        path = ckpt.resolve(path)
        device = next((p.device for p in self.model.parameters()), "cpu")
        ckpt.restore(self, minitorch_cv.load(path, map_location=device), path)
        self._remaining = max(self.settings.epochs - self.last_epoch, 0)
        self._say(f"resuming from {path} after epoch {self.last_epoch - 1}: "
                  f"{self._remaining} epoch(s) to go")

    # ------------------------------------------------------------------ stopping
    def _stop_on_nonfinite(self, step: int, value: float) -> None:
        global_step = self.last_epoch * self.settings.train_steps + step
        if self._good_state is not None:
            ckpt.restore_good_state(self.model, self.optimizer, self._good_state)
            restored = (f"the model and the optimizer were restored to the start of epoch "
                        f"{self._good_epoch}, the last state whose values were all finite")
        else:
            restored = ("the weights were NOT restored: no state with all values finite was "
                        "recorded (they were not finite when training started)")
        if self.early_stopping is not None and self.early_stopping.path.exists():
            restored += f"; the best checkpoint is still {self.early_stopping.path}"
        self.diverged = True
        self.stopped = student.nonfinite_message(value, self.last_epoch, step, global_step,
                                                 restored)
        if not self._warn("nan-loss", self.stopped, stacklevel=5):
            self._say(self.stopped)

    def _stop_on_interrupt(self, step: int | None) -> None:
        import minitorch_cv  # noqa: PLC0415

        self.interrupted = True
        self._interrupt_requested = False
        where = (f"epoch {self.last_epoch}, step {step}" if step is not None
                 else f"the end of epoch {self.last_epoch - 1}")
        saved = self.log_dir / ckpt.INTERRUPTED_NAME
        minitorch_cv.save({"model": self.model.state_dict(),
                           "optimizer": self.optimizer.state_dict()}, saved)
        resume = (f"to continue after epoch {self.last_epoch - 1}: {self.resume_hint}"
                  if self.checkpoint_path.exists()
                  else "no epoch had finished, so there is nothing to resume")
        self.stopped = (f"interrupted at {where}: weights so far in {saved}; {resume}")
        self._say(self.stopped)

    @contextlib.contextmanager
    def _catch_interrupts(self):
        """The first Ctrl-C asks the loop to stop after the current step; a second one
        raises KeyboardInterrupt at once. Only the main thread can handle signals."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum, frame):
            if self._interrupt_requested:
                raise KeyboardInterrupt
            self._interrupt_requested = True

        previous = signal.signal(signal.SIGINT, handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)
            self._interrupt_requested = False

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
