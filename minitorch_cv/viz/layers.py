"""What a conv net learned, read off its weights and activations: filters and feature maps."""

from __future__ import annotations

import numpy as np

from ._figure import grid_shape, image_for_display, plt, save, text_colour, to_numpy


def resolve_layer(model, layer):
    """A module given itself or by its dotted name in ``model`` (``"features.0"``)."""
    if isinstance(layer, str):
        return model.get_submodule(layer)
    return layer


def conv_layers(model) -> list[tuple[str, object]]:
    """``(name, module)`` of every convolution (a module whose ``weight`` is 4-D), in order."""
    found = []
    for name, module in model.named_modules():
        weight = getattr(module, "weight", None)
        if weight is not None and getattr(weight, "ndim", 0) == 4:
            found.append((name, module))
    return found


def plot_filters(layer_or_weight, path, max_filters: int = 32, max_in_channels: int = 8,
                 title: str | None = None):
    """Draw the kernels of a conv layer (or a weight ``(C_out, C_in, kh, kw)``); return the path.

    One input channel: a grid of filters, each on its own blue-white-red scale (white is 0),
    with the values written in for kernels up to 3x3. RGB inputs (``C_in == 3``): one colour
    image per filter. Otherwise each row is one filter and each column one input channel, on a
    shared scale.
    """
    weight = getattr(layer_or_weight, "weight", layer_or_weight)
    weight = to_numpy(weight).astype(np.float64)
    if weight.ndim != 4:
        raise ValueError(f"expected a conv weight (C_out, C_in, kh, kw), got shape {weight.shape}")
    c_out, c_in, kh, kw = weight.shape
    count = min(c_out, max_filters)
    if c_in == 1:
        rows, cols = grid_shape(count)
        fig, axes = plt.subplots(rows, cols, figsize=(1.5 * cols, 1.6 * rows + 0.6),
                                 squeeze=False)
        for index, ax in enumerate(axes.flat):
            ax.axis("off")
            if index >= count:
                continue
            kernel = weight[index, 0]
            limit = np.abs(kernel).max() or 1.0  # each filter on its own symmetric scale
            ax.imshow(kernel, cmap="bwr", vmin=-limit, vmax=limit, interpolation="nearest")
            if kh * kw <= 9:  # values readable up to 3x3; larger kernels: colours only
                for r in range(kh):
                    for c in range(kw):
                        ax.text(c, r, f"{kernel[r, c]:.2g}", ha="center", va="center",
                                fontsize=7,
                                color=text_colour(kernel[r, c], -limit, limit, "bwr"))
            ax.set_title(f"filter {index}", fontsize=8)
    elif c_in == 3:
        rows, cols = grid_shape(count)
        fig, axes = plt.subplots(rows, cols, figsize=(1.3 * cols, 1.3 * rows + 0.6),
                                 squeeze=False)
        for index, ax in enumerate(axes.flat):
            ax.axis("off")
            if index < count:
                image, _ = image_for_display(weight[index])
                ax.imshow(image, interpolation="nearest")
                ax.set_title(str(index), fontsize=7)
    else:
        shown_in = min(c_in, max_in_channels)
        limit = np.abs(weight[:count, :shown_in]).max() or 1.0
        fig, axes = plt.subplots(count, shown_in, figsize=(1.0 * shown_in + 1, 0.9 * count + 0.6),
                                 squeeze=False)
        for o in range(count):
            for i in range(shown_in):
                ax = axes[o, i]
                ax.imshow(weight[o, i], cmap="bwr", vmin=-limit, vmax=limit,
                          interpolation="nearest")
                ax.set_xticks([])
                ax.set_yticks([])
                if i == 0:
                    ax.set_ylabel(f"filter {o}", fontsize=7)
                if o == 0:
                    ax.set_title(f"in {i}", fontsize=7)
    fig.suptitle(title or f"{c_out} filters of {c_in}x{kh}x{kw}"
                 + (f" (first {count} shown)" if count < c_out else ""), fontsize=10)
    fig.tight_layout()
    return save(fig, path)


def feature_maps(model, layer, x):
    """The output of ``layer`` (module or dotted name) when ``model(x)`` runs, as NumPy.

    A forward hook records the output; it is removed again before returning.
    """
    from ..autograd.function import no_grad  # noqa: PLC0415

    module = resolve_layer(model, layer)
    captured = {}

    def hook(_module, _inputs, output):
        captured["output"] = output

    handle = module.register_forward_hook(hook)
    try:
        with no_grad():
            model(x)
    finally:
        handle.remove()
    if "output" not in captured:
        raise RuntimeError(f"layer {layer!r} did not run during model(x)")
    return to_numpy(captured["output"])


def plot_feature_maps(model, layer, x, path, max_maps: int = 16, title: str | None = None,
                      image=None):
    """Draw the activation maps of ``layer`` for the first image in ``x``; return the path.

    The input image is drawn first, then one panel per channel (each on its own colour scale,
    with its maximum written under it: a dead channel shows 0).
    """
    maps = feature_maps(model, layer, x)[0]
    if maps.ndim != 3:
        raise ValueError(f"layer {layer!r} gives output of shape {maps.shape[0:]}: feature maps "
                         "need a 4-D (N, C, H, W) output")
    count = min(maps.shape[0], max_maps)
    rows, cols = grid_shape(count + 1)
    fig, axes = plt.subplots(rows, cols, figsize=(1.6 * cols, 1.75 * rows + 0.5), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    shown, cmap = image_for_display(to_numpy(x if image is None else image)[0])
    axes.flat[0].imshow(shown, cmap=cmap)
    axes.flat[0].set_title("input", fontsize=8)
    for index in range(count):
        ax = axes.flat[index + 1]
        ax.imshow(maps[index], cmap="viridis")
        ax.set_title(f"ch {index}  max {maps[index].max():.2g}", fontsize=7)
    name = layer if isinstance(layer, str) else type(layer).__name__
    fig.suptitle(title or f"feature maps of {name}: {maps.shape[0]} x {maps.shape[1]}x"
                 f"{maps.shape[2]}", fontsize=10)
    fig.tight_layout()
    return save(fig, path)


def plot_image_grid(images, path, titles=None, cols: int = 8, title: str | None = None,
                    cmap: str | None = None):
    """A grid of images ``(C, H, W)`` or ``(H, W)`` with optional titles; return the path."""
    images = [to_numpy(image) for image in images]
    rows, cols = grid_shape(len(images), cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.7 * cols, 2.3 * rows + 0.4), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for index, image in enumerate(images):
        shown, default_cmap = image_for_display(image)
        axes.flat[index].imshow(shown, cmap=cmap or default_cmap)
        if titles is not None:
            axes.flat[index].set_title(str(titles[index]), fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return save(fig, path)
