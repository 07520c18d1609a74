"""The model registry: ``models.get("resnet18", num_classes=10)``, ``models.list()``.

Every architecture file registers its factories with ``@register``; the entry also records the
model's natural input size (what ``summary`` and ``compare`` feed it) and whether it is a
small-image variant (28x28 or 32x32 input, the ones lessons train on Fashion-MNIST or CIFAR).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ModelEntry:
    """What the registry knows about one factory.

    Attributes:
        name: registry name (torchvision's name where torchvision has the model).
        factory: ``factory(**kwargs) -> Module``.
        input_size: natural input ``(C, H, W)`` for the default ``in_channels``.
        family: architecture family ("resnet", "vgg", ...), for grouping in listings.
        small: True for small-image variants (28x28 or 32x32 input).
        torchvision: the name of the same model in torchvision, or None.
    """

    name: str
    factory: Callable
    input_size: tuple[int, int, int]
    family: str
    small: bool = False
    torchvision: str | None = None

    @property
    def description(self) -> str:
        doc = (self.factory.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else ""


_REGISTRY: dict[str, ModelEntry] = {}


def register(name: str, input_size: tuple[int, int, int], family: str, small: bool = False,
             torchvision: str | None = None) -> Callable[[Callable], Callable]:
    """Decorator adding a factory function to the registry under ``name``."""

    def decorate(factory: Callable) -> Callable:
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} is registered twice")
        _REGISTRY[name] = ModelEntry(name, factory, tuple(input_size), family, small, torchvision)
        return factory

    return decorate


def entry(name: str) -> ModelEntry:
    """The registry entry of ``name`` (raises ``KeyError`` listing the known names)."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; known models: {', '.join(sorted(_REGISTRY))}"
                       ) from None


def get(name: str, **kwargs):
    """Build the registered model ``name``; keyword arguments go to its factory
    (``num_classes``, ``in_channels``, and the architecture's own options)."""
    return entry(name).factory(**kwargs)


def list_models(small: bool | None = None, family: str | None = None) -> list[str]:
    """Sorted registry names; ``small=True`` only small-image variants, ``small=False`` only
    the full-size ones; ``family`` filters by family."""
    return sorted(name for name, e in _REGISTRY.items()
                  if (small is None or e.small == small) and (family is None or e.family == family))


def input_size(name: str, in_channels: int | None = None) -> tuple[int, int, int]:
    """Natural ``(C, H, W)`` input of ``name`` (with ``C`` replaced by ``in_channels``)."""
    channels, height, width = entry(name).input_size
    return (in_channels or channels, height, width)
