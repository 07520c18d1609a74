"""Activation maximisation: gradient ascent on the input to find what excites a unit.

Start from a faint noise image, and repeat: run the model, take the objective (a neuron, a
channel's mean, a whole layer's energy as in DeepDream, or a class logit / probability),
backpropagate to the *input*, step the image up the gradient. A small L2 penalty and a blur
every few steps keep the image from turning into high-frequency noise (the classic
regularisers of Simonyan et al. 2014 and Yosinski et al. 2015).
"""

from __future__ import annotations

import numpy as np

from ._figure import to_numpy
from .layers import resolve_layer


def _blur(image: np.ndarray) -> np.ndarray:
    """A 3x3 Gaussian blur per channel, (C, H, W) -> (C, H, W)."""
    kernel = np.array([1.0, 2.0, 1.0]) / 4.0
    padded = np.pad(image, ((0, 0), (1, 1), (1, 1)), mode="edge")
    rows = sum(k * padded[:, i:i + image.shape[1], :] for i, k in enumerate(kernel))
    return sum(k * rows[:, :, j:j + image.shape[2]] for j, k in enumerate(kernel))


def _model_device(model) -> str:
    for parameter in model.parameters():
        return parameter.device
    return "cpu"


def activation_objective(output, channel=None, neuron=None):
    """The scalar to maximise from a layer's output (batch of one).

    - ``neuron``: one unit: ``(c, h, w)`` of a 4-D output, or an index of a 2-D one.
    - ``channel``: the mean of one channel's map.
    - neither: the mean square of the whole layer (DeepDream's objective).
    """
    if neuron is not None:
        index = (0, *neuron) if isinstance(neuron, tuple) else (0, neuron)
        return output[index]
    if channel is not None:
        return output[0, channel].mean() if output.ndim == 4 else output[0, channel]
    return (output * output).mean()


def maximise_activation(model, input_shape, layer=None, channel=None, neuron=None,
                        class_index=None, probability: bool = False, steps: int = 100,
                        lr: float = 0.05, l2: float = 1e-3, blur_every: int = 4,
                        value_range: tuple[float, float] = (-2.5, 2.5), seed: int = 0):
    """The input that maximises a unit, by gradient ascent; returns ``(image, history)``.

    Args:
        model: any Module; it is put in eval mode while this runs and restored after.
        input_shape: ``(C, H, W)`` of one input image.
        layer: module or dotted name whose output holds the unit (with ``channel`` / ``neuron``,
            or alone for the whole layer). Leave out to use the model's output with
            ``class_index``.
        class_index: maximise this class's logit (or its softmax probability with
            ``probability=True``, which also pushes the other classes down).
        lr: step size; each step moves by ``lr`` times the gradient divided by its RMS.
        l2: weight of the penalty ``l2 * mean(x^2)`` that keeps the image small.
        blur_every: blur the image every this many steps (0: never).
        value_range: clip the image to this range (inputs are usually normalised).

    Returns:
        ``image`` as a NumPy array ``(C, H, W)`` and ``history``, the objective at each step
        (it should rise: a flat history means the unit is dead for every input tried).
    """
    from .. import Tensor  # noqa: PLC0415

    if layer is None and class_index is None:
        raise ValueError("say what to maximise: a layer (with channel/neuron) or a class_index")
    rng = np.random.default_rng(seed)
    image = rng.normal(0.0, 0.1, size=(1, *input_shape))
    device = _model_device(model)
    module = resolve_layer(model, layer) if layer is not None else None
    captured = {}
    handle = None
    if module is not None:
        handle = module.register_forward_hook(lambda _m, _i, out: captured.update(output=out))
    was_training = model.training
    model.eval()
    history = []
    try:
        for step in range(steps):
            x = Tensor(image.astype(np.float32), requires_grad=True, device=device)
            output = model(x)
            if module is not None:
                objective = activation_objective(captured["output"], channel, neuron)
            elif probability:
                objective = output.softmax(dim=1)[0, class_index]
            else:
                objective = output[0, class_index]
            loss = -objective + l2 * (x * x).mean()
            loss.backward()
            history.append(float(objective.item()))
            grad = to_numpy(x.grad)
            image = image - lr * grad / (np.sqrt((grad**2).mean()) + 1e-12)
            if blur_every and (step + 1) % blur_every == 0:
                image = _blur(image[0])[None]
            image = np.clip(image, *value_range)
    finally:
        if handle is not None:
            handle.remove()
        model.train(was_training)
        for parameter in model.parameters():
            parameter.grad = None
    return image[0], history
