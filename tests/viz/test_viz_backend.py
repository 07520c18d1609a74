"""viz chooses no matplotlib backend, marks smoke figures, and shows figures in a kernel."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import minitorch_cv.viz._figure as figure_module
from minitorch_cv import viz

REPO = Path(__file__).resolve().parents[2]


def run_python(code: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env=env, cwd=REPO / "lessons")


def test_importing_viz_and_the_lessons_keeps_the_students_backend():
    # the old module forced Agg on import, which killed inline plots in Jupyter
    done = run_python(
        "import matplotlib; matplotlib.use('svg')\n"
        "import minitorch_cv.viz, _common\n"
        "import matplotlib.pyplot as plt\n"
        "assert matplotlib.get_backend().lower() == 'svg', matplotlib.get_backend()\n"
        "plt.plot([1, 2]); plt.savefig('/dev/null', format='svg')\n")
    assert done.returncode == 0, done.stderr


def test_save_displays_the_png_inline_in_a_kernel_only(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt
    shown = []
    monkeypatch.setattr(figure_module, "in_notebook", lambda: True)
    import IPython.display

    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    path = viz.save_figure(fig, tmp_path / "line")
    assert path.suffix == ".png" and path.is_file()
    assert len(shown) == 1 and shown[0].data == path.read_bytes()  # the same PNG, inline
    assert not plt.get_fignums()  # closed: the inline backend will not show it twice
    assert viz.in_notebook() is False  # pytest is no kernel (the real check, not the patch)


def test_figure_stamp_is_drawn_on_every_figure_until_cleared(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt
    texts = []
    original = plt.Figure.savefig

    def spy(fig, *args, **kwargs):
        texts.append([t.get_text() for t in fig.texts])
        return original(fig, *args, **kwargs)

    monkeypatch.setattr(plt.Figure, "savefig", spy)
    viz.set_figure_stamp("SMOKE RUN")
    try:
        viz.save_figure(plt.subplots()[0], tmp_path / "a.png")
    finally:
        viz.set_figure_stamp(None)
    viz.save_figure(plt.subplots()[0], tmp_path / "b.png")
    assert texts == [["SMOKE RUN"], []]


def test_text_colour_reads_on_dark_and_light_cells():
    assert viz.text_colour(0.0, 0.0, 1.0, "viridis") == "white"   # dark purple
    assert viz.text_colour(1.0, 0.0, 1.0, "viridis") == "black"   # light yellow
    assert viz.text_colour(1.0, 0.0, 1.0, "Blues") == "white"     # dark blue
    assert viz.text_colour(0.0, 0.0, 1.0, "Blues") == "black"     # near white


def test_curve_comparison_gives_train_and_valid_their_own_line_style(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt
    drawn = {}

    def keep(fig, path):
        for line in fig.axes[0].get_lines():
            drawn[line.get_label()] = (line.get_linestyle(), line.get_color())
        assert fig.axes[0].get_xlim() == (0.5, 1.5)  # one epoch: a sane axis
        plt.close(fig)
        return path

    monkeypatch.setattr("minitorch_cv.viz.curves.save", keep)
    viz.plot_curve_comparison({"plain: train": [1.0], "plain: valid": [2.0],
                               "bn: train": [1.0], "bn: valid": [2.0]}, tmp_path / "c.png",
                              ylabel="loss")
    assert drawn["plain: train"][0] == "--" and drawn["plain: valid"][0] == "-"
    assert drawn["plain: train"][1] == drawn["plain: valid"][1]  # one colour per run
    assert drawn["plain: train"][1] != drawn["bn: train"][1]
