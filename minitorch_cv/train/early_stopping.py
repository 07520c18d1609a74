"""``EarlyStopping``: stop when the validation loss has not improved for ``patience`` epochs.

The rule is the course library's: a new loss counts as *no improvement* when
``val_loss + delta >= best_loss``; ``patience`` such epochs in a row set ``early_stop``. With
``save=True`` every improvement writes the model's ``state_dict`` to ``checkpoint.safetensors``
in ``log_dir`` (through ``minitorch_cv.save``: tensors only, never pickle, so loading a
checkpoint cannot run code), and ``get_best`` loads it back.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

from tqdm.auto import tqdm

logger = logging.getLogger("minitorch_cv.train")

CHECKPOINT_NAME = "checkpoint.safetensors"


class EarlyStopping:
    """Count epochs without improvement of the validation loss; keep the best weights.

    Args:
        log_dir: directory for ``checkpoint.safetensors``.
        patience: epochs without improvement before ``early_stop`` becomes True.
        verbose: print a line for every improvement and every epoch without one.
        delta: an improvement must beat the best loss by more than ``delta``.
        save: write the best weights to disk at every improvement.
    """

    def __init__(self, log_dir: Path | str, patience: int = 7, verbose: bool = False,
                 delta: float = 0.0, save: bool = False) -> None:
        self.patience = patience
        self.verbose = verbose
        self.delta = delta
        self.save = save
        self.path = Path(log_dir) / CHECKPOINT_NAME
        self.counter = 0
        self.best_loss: float | None = None
        self.early_stop = False
        self._model = None

    def _say(self, message: str) -> None:
        logger.info(message)
        if self.verbose:
            tqdm.write(message)

    def __call__(self, val_loss: float, model) -> None:
        """Record this epoch's validation loss; save ``model`` if it improved."""
        self._model = model
        val_loss = float(val_loss)
        if self.best_loss is None and not math.isnan(val_loss):
            self.best_loss = val_loss
            if self.save:
                self.save_checkpoint(val_loss, model)
        # a nan loss compares False with everything, so it is tested for explicitly: it is
        # never an improvement
        elif math.isnan(val_loss) or val_loss + self.delta >= self.best_loss:
            self.counter += 1
            best = "none" if self.best_loss is None else f"{self.best_loss:.4f}"
            self._say(f"EarlyStopping: best loss {best}, current loss {val_loss:.4f}, "
                      f"counter {self.counter}/{self.patience}")
            if self.counter >= self.patience:
                self.early_stop = True
        else:
            if self.save:
                self.save_checkpoint(val_loss, model)
            self.best_loss = val_loss
            self.counter = 0

    def save_checkpoint(self, val_loss: float, model) -> None:
        """Write ``model.state_dict()`` to ``self.path`` (safetensors, atomic)."""
        import minitorch_cv  # noqa: PLC0415 (the package imports train lazily)

        before = "none" if self.best_loss is None else f"{self.best_loss:.4f}"
        self._say(f"EarlyStopping: validation loss {before} --> {val_loss:.4f}, "
                  f"saving {self.path}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        minitorch_cv.save(model.state_dict(), self.path)
        self.val_loss_min = val_loss

    def get_best(self, model=None):
        """Load the best saved weights into ``model`` (default: the model last seen) and
        return it."""
        import minitorch_cv  # noqa: PLC0415

        model = model if model is not None else self._model
        if model is None:
            raise ValueError("get_best needs a model to load the weights into")
        if not self.path.exists():
            raise FileNotFoundError(f"no checkpoint at {self.path}: EarlyStopping saves one "
                                    f"only with save=True")
        self._say(f"EarlyStopping: restoring the best weights from {self.path}")
        device = next((p.device for p in model.parameters()), "cpu")
        model.load_state_dict(minitorch_cv.load(self.path, device=device))
        return model
