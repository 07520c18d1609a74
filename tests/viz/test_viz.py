"""viz: every figure is written as a non-empty PNG, and the data behind it is right."""

from __future__ import annotations

import numpy as np
import pytest

import minitorch_cv as mt
import minitorch_cv.functional as F
from minitorch_cv import nn, viz

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_png(path):
    assert path.is_file(), path
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 2000, (path, len(data))


# ----------------------------------------------------------------------------- graph
def test_graph_of_a_plus_a_has_one_op_with_a_double_edge(tmp_path):
    a = mt.tensor([1.0, 2.0], requires_grad=True)
    out = (a + a).sum()
    graph = viz.build_graph(out, names={a: "a"})
    ops = [n for n in graph.values() if n.kind == "op"]
    assert sorted(n.label for n in ops) == ["AddBackward", "SumBackward"]
    add = next(n for n in ops if n.label == "AddBackward")
    assert add.parents == [id(a), id(a)]
    order = [graph[k].label.split("\n")[0] for k in viz.topological_order(graph)]
    assert order == ["output", "SumBackward", "AddBackward", "a"]
    assert_png(viz.plot_graph(out, tmp_path / "graph.png", names={a: "a"}))


def test_graph_depth_puts_a_reused_node_after_all_its_users():
    a = mt.tensor(1.5, requires_grad=True)
    u = a * 2.0
    out = u * u.exp()
    graph = viz.build_graph(out)
    u_node = graph[id(u.grad_fn)]
    users = [n for n in graph.values() if id(u.grad_fn) in n.parents]
    assert len(users) == 2 and all(u_node.depth > n.depth for n in users)


def test_graph_needs_a_grad_fn():
    with pytest.raises(ValueError, match="no grad_fn"):
        viz.build_graph(mt.tensor([1.0]))


# ----------------------------------------------------------------------------- curves, confusion
def test_training_curves_and_comparison(tmp_path):
    history = {"train_loss": [2.0, 1.0, 0.5], "valid_loss": [2.1, 1.2, 1.4],
               "valid_accuracy": [0.3, 0.6, 0.55]}
    assert_png(viz.plot_training_curves(history, tmp_path / "curves.png"))
    assert_png(viz.plot_curve_comparison({"a": [1, 2], "b": [2, 1]}, tmp_path / "cmp.png", "y"))
    with pytest.raises(ValueError, match="empty"):
        viz.plot_training_curves({}, tmp_path / "none.png")


def test_confusion_matrix_counts(tmp_path):
    y_true = [0, 0, 1, 2, 2, 2]
    y_pred = [0, 1, 1, 2, 0, 2]
    matrix = viz.confusion_matrix(y_true, y_pred, 3)
    assert matrix.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    logits = np.eye(3)[y_pred] * 5.0  # scores: argmax is taken
    assert (viz.confusion_matrix(mt.tensor(y_true), logits, 3) == matrix).all()
    assert_png(viz.plot_confusion_matrix(matrix, tmp_path / "cm.png", ["a", "b", "c"]))


# ----------------------------------------------------------------------------- im2col
def test_overlap_counts_are_windows_per_pixel():
    counts = viz.overlap_counts(5, 5, 3)
    assert counts.tolist()[2] == [3, 6, 9, 6, 3]
    assert counts.sum() == 3 * 3 * 3 * 3  # out_h * out_w windows of kh * kw taps
    strided = viz.overlap_counts(5, 5, 3, stride=2, padding=1)
    assert strided.max() == 4 and strided.min() == 1
    # per axis the 3 windows read rows -1..1, 1..3, 3..5: 2 + 3 + 2 taps land inside
    assert strided.sum() == (2 + 3 + 2) ** 2


def test_im2col_matrix_times_weights_is_conv2d(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 6, 5)).astype(np.float64)
    w = rng.normal(size=(3, 2, 3, 2))
    col = viz.im2col_matrix(x, (3, 2), stride=1, padding=1)
    out = (w.reshape(3, -1) @ col).reshape(3, 6, 6)
    expected = F.conv2d(mt.tensor(x[None]), mt.tensor(w), padding=1).numpy()[0]
    assert np.allclose(out, expected)
    assert_png(viz.plot_im2col(tmp_path / "im2col.png", H=4, W=4, kernel_size=2, stride=2))


# ----------------------------------------------------------------------------- layers
def small_cnn():
    mt.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(6, 3))


def test_filters_and_feature_maps(tmp_path):
    model = small_cnn()
    x = mt.randn(2, 1, 8, 8)
    maps = viz.feature_maps(model, "3", x)
    assert maps.shape == (2, 6, 4, 4)
    expected = model[3](model[2](model[1](model[0](x)))).detach().numpy()
    assert np.allclose(maps, expected)
    assert not model[3]._forward_hooks, "the hook must be removed"
    assert [name for name, _ in viz.conv_layers(model)] == ["0", "3"]
    assert_png(viz.plot_filters(model[0], tmp_path / "f1.png"))
    assert_png(viz.plot_filters(model[3], tmp_path / "f4.png"))
    assert_png(viz.plot_filters(mt.randn(4, 3, 5, 5), tmp_path / "rgb.png"))
    assert_png(viz.plot_feature_maps(model, model[0], x, tmp_path / "maps.png"))
    with pytest.raises(ValueError, match="4-D"):
        viz.plot_feature_maps(model, "7", x, tmp_path / "bad.png")


def test_activation_maximisation_of_a_linear_unit_aligns_with_its_weights():
    mt.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 2))
    image, history = viz.maximise_activation(model, (1, 4, 4), class_index=1, steps=40,
                                             lr=0.05, blur_every=0)
    weight = model[1].weight.detach().numpy()[1]
    cosine = image.ravel() @ weight / np.linalg.norm(image) / np.linalg.norm(weight)
    assert cosine > 0.9 and history[-1] > history[0]
    assert all(p.grad is None for p in model.parameters())


def test_activation_maximisation_targets_rise():
    model = small_cnn()
    for kwargs in ({"layer": "3", "channel": 2}, {"layer": "3", "neuron": (1, 2, 2)},
                   {"layer": "3"}, {"class_index": 0, "probability": True}):
        _, history = viz.maximise_activation(model, (1, 8, 8), steps=15, lr=0.1, **kwargs)
        assert history[-1] > history[0], kwargs
    with pytest.raises(ValueError, match="say what"):
        viz.maximise_activation(model, (1, 8, 8))


# ----------------------------------------------------------------------------- CAM
def evidence_model():
    """Channel 0 = relu(x), channel 1 = relu(-x); GAP; class c reads channel c."""
    model = nn.Sequential(nn.Conv2d(1, 2, 1, bias=False), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                          nn.Flatten(), nn.Linear(2, 2))
    with mt.no_grad():
        model[0].weight.copy_(mt.tensor([[[[1.0]]], [[[-1.0]]]]))
        model[4].weight.copy_(mt.tensor([[1.0, 0.0], [0.0, 1.0]]))
        model[4].bias.zero_()
    return model


def test_cam_and_grad_cam_peak_where_the_evidence_is(tmp_path):
    model = evidence_model()
    x = np.zeros((1, 1, 8, 8), dtype=np.float32)
    x[0, 0, 5, 6] = 3.0    # evidence for class 0 (bright)
    x[0, 0, 1, 1] = -2.0   # evidence for class 1 (dark)
    x = mt.tensor(x)
    cam0, predicted = viz.class_activation_map(model, x)
    assert predicted == 0
    assert np.unravel_index(cam0.argmax(), cam0.shape) == (5, 6)
    cam1, _ = viz.class_activation_map(model, x, class_index=1)
    assert np.unravel_index(cam1.argmax(), cam1.shape) == (1, 1)
    grad0, _ = viz.grad_cam(model, x, class_index=0)
    assert np.unravel_index(grad0.argmax(), grad0.shape) == (5, 6) and grad0.min() >= 0
    assert all(p.grad is None for p in model.parameters())
    assert_png(viz.plot_cams(x, {"CAM": cam0, "Grad-CAM": grad0}, tmp_path / "cam.png"))


def test_cam_refuses_a_head_that_is_not_pool_then_linear():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 4 * 4, 3))
    x = mt.randn(1, 1, 6, 6)
    with pytest.raises(ValueError, match="grad_cam"):
        viz.class_activation_map(model, x)
    heat, _ = viz.grad_cam(model, x)
    assert heat.shape == (4, 4)


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 3, padding=1)

    def forward(self, x):
        return (self.conv(x) + x).relu()  # the skip is added here, outside any submodule


def test_feature_layer_is_the_block_not_the_conv_inside_it():
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), Residual(), nn.AdaptiveAvgPool2d(1),
                          nn.Flatten(), nn.Linear(2, 2))
    name, module = viz.find_feature_layer(model, mt.randn(1, 1, 6, 6))
    assert name == "1" and isinstance(module, Residual)
    cam, _ = viz.class_activation_map(model, mt.randn(1, 1, 6, 6))  # passes the logit check
    assert cam.shape == (6, 6)


def test_upsample_keeps_constant_maps_and_corners():
    assert np.allclose(viz.upsample(np.full((2, 2), 3.0), (8, 8)), 3.0)
    ramp = viz.upsample(np.array([[0.0, 1.0]]), (1, 4))
    assert ramp[0, 0] == 0.0 and ramp[0, -1] == 1.0 and np.all(np.diff(ramp[0]) >= 0)


@pytest.mark.parametrize("count, expected", [(1, [1]), (3, [1, 2, 3]),
                                             (10, list(range(1, 11)))])
def test_epoch_axis_ticks_every_epoch_up_to_twelve(count, expected):
    import matplotlib.pyplot as plt  # noqa: PLC0415

    from minitorch_cv.viz.curves import _epoch_axis  # noqa: PLC0415

    fig, ax = plt.subplots(figsize=(4, 3))
    try:
        ax.plot(range(1, count + 1), range(count))
        _epoch_axis(ax, count)
        low, high = ax.get_xlim()
        assert [round(t, 6) for t in ax.get_xticks() if low <= t <= high] == expected
    finally:
        plt.close(fig)


def test_epoch_axis_keeps_long_runs_to_a_few_ticks():
    import matplotlib.pyplot as plt  # noqa: PLC0415

    from minitorch_cv.viz.curves import _epoch_axis  # noqa: PLC0415

    fig, ax = plt.subplots(figsize=(4, 3))
    try:
        ax.plot(range(1, 1501), np.linspace(1, 0, 1500))
        _epoch_axis(ax, 1500)
        low, high = ax.get_xlim()
        assert 3 <= len([t for t in ax.get_xticks() if low <= t <= high]) <= 7
    finally:
        plt.close(fig)
