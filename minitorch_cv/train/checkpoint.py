"""What a ``Trainer`` keeps so that a run survives a crash, a ``kill`` or Ctrl-C.

After every epoch the Trainer writes ``last_epoch.safetensors`` into its run directory
(atomically, through ``minitorch_cv.save``: a kill mid-write leaves the previous epoch's file):

- the model's and the optimizer's state dicts, the scheduler's, early stopping's counters;
- the epoch count, the history of losses and metrics;
- every random stream: ``minitorch_cv.random`` (initialisation, dropout, augmentation) and the
  training loader's own generator (``DataLoader(seed=...)``), with the position of the batch
  iterator, so a resumed run draws exactly the batches the uninterrupted run would have.

``Trainer(..., resume=RUN_DIR_OR_FILE)`` or ``trainer.load_checkpoint(path)`` puts all of it
back: the resumed run equals the uninterrupted one bit for bit (``tests/train/
test_trainer_resume.py``). Also here: the "last good state" kept for a loss that becomes
non-finite, taken only when every weight and every optimizer value is finite.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import random as _random
from ..autograd.function import no_grad
from ..autograd.tensor import Tensor

CHECKPOINT_NAME = "last_epoch.safetensors"
INTERRUPTED_NAME = "interrupted.safetensors"
FORMAT = "minitorch_cv.trainer/1"


def _clone(value):
    """A deep copy of nested dicts/lists whose tensors are copied too."""
    if isinstance(value, Tensor):
        with no_grad():
            return value.detach().clone()
    if isinstance(value, dict):
        return type(value)((k, _clone(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return type(value)(_clone(v) for v in value)
    return value


def all_finite(value) -> bool:
    """True when every floating-point number in nested tensors/arrays/floats is finite."""
    if isinstance(value, Tensor):
        value = value.array
    if hasattr(value, "dtype") and hasattr(value, "shape"):
        if value.dtype.kind not in "fc":
            return True
        xp = np if isinstance(value, np.ndarray) else __import__("cupy")
        return bool(xp.isfinite(value).all())
    if isinstance(value, float):
        return np.isfinite(value)
    if isinstance(value, dict):
        return all(all_finite(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(all_finite(v) for v in value)
    return True


def good_state(model, optimizer):
    """A copy of the model's and the optimizer's state, or ``None`` if any value is not
    finite (a state worth going back to after a loss turns inf or nan)."""
    state = {"model": _clone(model.state_dict()), "optimizer": optimizer.state_dict()}
    return state if all_finite(state) else None


def restore_good_state(model, optimizer, state) -> None:
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(_clone(state["optimizer"]))


# ----------------------------------------------------------------------------- loaders
def _loader_generator(loader):
    """The NumPy generator a loader shuffles with (``generator=`` or ``seed=``), if any.

    ``None`` when the loader draws from the global stream (saved with the random state).
    """
    from ..generator import Generator  # noqa: PLC0415

    gen = getattr(loader, "generator", None)
    if isinstance(gen, Generator):
        return gen.numpy
    return gen if isinstance(gen, np.random.Generator) else None


def generator_state(loader):
    gen = _loader_generator(loader)
    return None if gen is None else gen.bit_generator.state


def set_generator_state(loader, state) -> None:
    gen = _loader_generator(loader)
    if gen is not None and state is not None:
        gen.bit_generator.state = state


# ----------------------------------------------------------------------------- the file
def resolve(path) -> Path:
    """``path`` itself if it is a file, else ``path/last_epoch.safetensors``."""
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT_NAME
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint to resume from at {path}: a run directory "
                                f"has {CHECKPOINT_NAME} once its first epoch has finished")
    return path


def capture(trainer) -> dict:
    """Everything ``restore`` needs to continue ``trainer`` exactly."""
    source = trainer._train_source
    stopping = trainer.early_stopping
    return {
        "format": FORMAT,
        "epoch": trainer.last_epoch,
        "model": trainer.model.state_dict(),
        "optimizer": trainer.optimizer.state_dict(),
        "scheduler": None if trainer.scheduler is None else {
            # functions (a LambdaLR's lambdas, a patched method) are code, not state
            k: v for k, v in trainer.scheduler.state_dict().items() if not callable(v)},
        "early_stopping": None if stopping is None else {
            "counter": stopping.counter, "best_loss": stopping.best_loss,
            "early_stop": stopping.early_stop},
        "history": trainer.history,
        "losses": [trainer.train_loss, trainer.test_loss],
        "rng": _random.get_state(),
        "loader": {"generator": generator_state(source.loader), "drawn": source.drawn,
                   "start": source.start_state, "restartable": source.restartable},
    }


def restore(trainer, checkpoint: dict, path) -> None:
    """Put a ``capture`` back into ``trainer``."""
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != FORMAT:
        raise ValueError(f"{path} is not a Trainer checkpoint ({CHECKPOINT_NAME}); to load "
                         "weights alone use model.load_state_dict(minitorch_cv.load(path))")
    trainer.model.load_state_dict(checkpoint["model"])
    trainer.optimizer.load_state_dict(checkpoint["optimizer"])
    if (checkpoint["scheduler"] is None) != (trainer.scheduler is None):
        raise ValueError(f"{path} was written by a Trainer "
                         f"{'without' if checkpoint['scheduler'] is None else 'with'} a "
                         "scheduler; resume with the same settings")
    if trainer.scheduler is not None:
        trainer.scheduler.load_state_dict(checkpoint["scheduler"])
    if trainer.early_stopping is not None and checkpoint["early_stopping"] is not None:
        for key, value in checkpoint["early_stopping"].items():
            setattr(trainer.early_stopping, key, value)
    trainer.last_epoch = int(checkpoint["epoch"])
    trainer.history = list(checkpoint["history"])
    trainer.train_loss, trainer.test_loss = checkpoint["losses"]
    loader = checkpoint["loader"]
    source = trainer._train_source
    source.iterator, source.drawn = None, 0
    if loader["drawn"] and loader["restartable"] and source.restartable:
        # re-create the iterator the interrupted run was using and skip what it had drawn
        generator, rng = loader["start"]
        set_generator_state(source.loader, generator)
        _random.set_state(rng)
        source.restart()
        for _ in range(loader["drawn"]):
            next(source.iterator)
        source.drawn = loader["drawn"]
    set_generator_state(source.loader, loader["generator"])
    _random.set_state(checkpoint["rng"])
