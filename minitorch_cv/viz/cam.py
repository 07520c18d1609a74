"""Class activation maps (CAM) and Grad-CAM, for any model whose head is a global pool.

The feature map is found generically: forward hooks on every module record which modules give
a 4-D output with more than one pixel; the one that *finishes last* holds the final feature map
(a whole ``features`` block, or the last residual block, not a conv inside it, so skip
connections added in ``forward`` are included). Nothing is assumed about the model's class.

- CAM (Zhou et al. 2016) needs ``global average pool -> Linear``: the logit of class c is
  ``mean_hw(sum_k w[c, k] A_k) + b[c]``, so ``sum_k w[c, k] A_k`` says where the evidence is.
  This is checked numerically; a head with a non-linearity between pool and classifier is
  refused (use Grad-CAM).
- Grad-CAM (Selvaraju et al. 2017) weighs each channel by its mean gradient
  ``alpha_k = mean_hw d logit_c / d A_k`` and keeps ``relu(sum_k alpha_k A_k)``: works for any
  head.
"""

from __future__ import annotations

import numpy as np

from ._figure import image_for_display, plt, save, to_numpy
from .layers import resolve_layer


def find_feature_layer(model, x):
    """``(name, module)`` whose output is the last 4-D feature map (spatial > 1) in ``model(x)``."""
    from ..autograd.function import no_grad  # noqa: PLC0415

    finished = []
    names = {id(m): n for n, m in model.named_modules()}
    handles = []

    def hook(module, _inputs, output):
        shape = getattr(output, "shape", ())
        if len(shape) == 4 and shape[2] * shape[3] > 1:
            finished.append(module)

    for module in model.modules():
        if module is not model:
            handles.append(module.register_forward_hook(hook))
    try:
        with no_grad():
            model(x[:1])
    finally:
        for handle in handles:
            handle.remove()
    if not finished:
        raise ValueError("no submodule gives a 4-D feature map with more than one pixel: "
                         "this model has no convolutional feature map to explain")
    module = finished[-1]
    return names[id(module)], module


def _classifier_weight(model, channels: int):
    """The last 2-D ``weight`` with ``channels`` inputs: the classifier after the global pool."""
    candidate = None
    for module in model.modules():
        weight = getattr(module, "weight", None)
        if weight is not None and getattr(weight, "ndim", 0) == 2:
            candidate = module
    if candidate is None or candidate.weight.shape[1] != channels:
        raise ValueError("CAM needs a global pool followed by one Linear layer over the "
                         f"{channels} feature channels; this model's head differs (use grad_cam)")
    return candidate


def upsample(heatmap: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of a (h, w) map to ``size`` (align_corners=False, as F.interpolate)."""
    h, w = heatmap.shape
    out_h, out_w = size
    ys = np.clip((np.arange(out_h) + 0.5) * h / out_h - 0.5, 0, h - 1)
    xs = np.clip((np.arange(out_w) + 0.5) * w / out_w - 0.5, 0, w - 1)
    rows = np.stack([np.interp(xs, np.arange(w), heatmap[r]) for r in range(h)])
    return np.stack([np.interp(ys, np.arange(h), rows[:, c]) for c in range(out_w)], axis=1)


def class_activation_map(model, x, class_index: int | None = None, layer=None):
    """CAM for the first image of ``x``; returns ``(cam (h, w), class_index)``.

    ``class_index`` defaults to the predicted class. The map is in logit units: its mean plus
    the classifier bias equals the logit (checked).
    """
    from ..autograd.function import no_grad  # noqa: PLC0415

    x = x[:1]
    module = resolve_layer(model, layer) if layer is not None else find_feature_layer(model, x)[1]
    captured = {}
    handle = module.register_forward_hook(lambda _m, _i, out: captured.update(output=out))
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            logits = to_numpy(model(x))[0]
    finally:
        handle.remove()
        model.train(was_training)
    features = to_numpy(captured["output"])[0].astype(np.float64)  # (C, h, w)
    classifier = _classifier_weight(model, features.shape[0])
    weight = to_numpy(classifier.weight).astype(np.float64)
    if class_index is None:
        class_index = int(logits.argmax())
    cam = np.tensordot(weight[class_index], features, axes=1)  # sum_k w[c, k] A_k -> (h, w)
    bias = 0.0 if classifier.bias is None else float(to_numpy(classifier.bias)[class_index])
    if not np.isclose(cam.mean() + bias, logits[class_index], rtol=1e-3, atol=1e-3):
        raise ValueError("the logit is not mean(CAM) + bias: the head is not global average "
                         "pool -> Linear, so CAM does not apply to this model (use grad_cam)")
    return cam, class_index


def grad_cam(model, x, class_index: int | None = None, layer=None):
    """Grad-CAM for the first image of ``x``; returns ``(heatmap (h, w) >= 0, class_index)``."""
    x = x[:1]
    module = resolve_layer(model, layer) if layer is not None else find_feature_layer(model, x)[1]
    captured = {}

    def hook(_module, _inputs, output):
        output.retain_grad()
        captured["output"] = output

    handle = module.register_forward_hook(hook)
    was_training = model.training
    model.eval()
    try:
        logits = model(x)
        if class_index is None:
            class_index = int(to_numpy(logits)[0].argmax())
        logits[0, class_index].backward()
    finally:
        handle.remove()
        model.train(was_training)
    features = to_numpy(captured["output"])[0].astype(np.float64)
    gradients = to_numpy(captured["output"].grad)[0].astype(np.float64)
    for parameter in model.parameters():
        parameter.grad = None
    alpha = gradients.mean(axis=(1, 2))  # one weight per channel
    return np.maximum(np.tensordot(alpha, features, axes=1), 0.0), class_index


def plot_cams(image, maps: dict, path, title: str | None = None):
    """The image, then each heat map upsampled and laid over it; return the path.

    Args:
        image: ``(C, H, W)`` (or a batch, first taken).
        maps: ``{"CAM": (h, w) map, "Grad-CAM": ...}``.
    """
    image = to_numpy(image)
    if image.ndim == 4:
        image = image[0]
    shown, cmap = image_for_display(image)
    size = shown.shape[:2]
    fig, axes = plt.subplots(1, len(maps) + 1, figsize=(3.0 * (len(maps) + 1), 3.3))
    axes[0].imshow(shown, cmap=cmap)
    axes[0].set_title("input", fontsize=9)
    for ax, (name, heatmap) in zip(axes[1:], maps.items()):
        heatmap = np.asarray(heatmap, dtype=np.float64)
        ax.imshow(shown, cmap=cmap)
        overlay = ax.imshow(upsample(heatmap, size), cmap="jet", alpha=0.5)
        fig.colorbar(overlay, ax=ax, fraction=0.046, pad=0.04)
        ax.set_title(name, fontsize=9)
    for ax in axes:
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return save(fig, path)
