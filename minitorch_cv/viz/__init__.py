"""Pictures of what networks compute, written as PNG files and shown inline in Jupyter.

Importing this package chooses no matplotlib backend (scripts on a headless machine fall back
to Agg by themselves; a notebook keeps its inline backend). Every ``plot_*`` function takes a
``path``, writes the PNG there (and displays it when run in a Jupyter kernel) and returns the
path; ``save_figure`` does the same for a figure of one's own. The
functions that compute the data behind a figure (``confusion_matrix``, ``overlap_counts``,
``class_activation_map``, ``grad_cam``, ``maximise_activation``, ``build_graph``) are public
too, so a lesson can print numbers and a test can check them.
"""

from ._figure import in_notebook, set_figure_stamp, text_colour
from ._figure import save as save_figure
from .activation_max import activation_objective, maximise_activation
from .cam import class_activation_map, find_feature_layer, grad_cam, plot_cams, upsample
from .confusion import confusion_matrix, plot_confusion_matrix
from .curves import plot_curve_comparison, plot_training_curves
from .graph import build_graph, plot_graph, topological_order
from .im2col import im2col_matrix, output_size, overlap_counts, plot_im2col
from .layers import (
    conv_layers,
    feature_maps,
    plot_feature_maps,
    plot_filters,
    plot_image_grid,
    resolve_layer,
)

__all__ = [
    "activation_objective",
    "build_graph",
    "class_activation_map",
    "confusion_matrix",
    "conv_layers",
    "feature_maps",
    "find_feature_layer",
    "grad_cam",
    "im2col_matrix",
    "in_notebook",
    "maximise_activation",
    "output_size",
    "overlap_counts",
    "plot_cams",
    "plot_confusion_matrix",
    "plot_curve_comparison",
    "plot_feature_maps",
    "plot_filters",
    "plot_graph",
    "plot_im2col",
    "plot_image_grid",
    "plot_training_curves",
    "resolve_layer",
    "save_figure",
    "set_figure_stamp",
    "text_colour",
    "topological_order",
    "upsample",
]
