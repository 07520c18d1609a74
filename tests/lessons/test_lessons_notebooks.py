"""Lessons as Jupyter notebooks: written without extra tools, the same cells as jupytext reads,
a settings cell, and three lessons executed in a real kernel showing their figures inline."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from minitorch_cv.lessons_runner import lesson_path, list_lessons, to_notebook, write_notebooks

REPO = Path(__file__).resolve().parents[2]
EXECUTED = ["00_autograd", "02_fitting_and_regularisation", "22_ensembles_and_swa"]


@pytest.mark.parametrize("name", list_lessons())
def test_notebook_has_the_cells_jupytext_reads(name):
    jupytext = pytest.importorskip("jupytext")
    ours = to_notebook(name)
    theirs = jupytext.read(lesson_path(name))
    assert [c["cell_type"] for c in ours["cells"]] == [c.cell_type for c in theirs.cells]
    assert ["".join(c["source"]) for c in ours["cells"]] == [c.source for c in theirs.cells]
    tags = [c["metadata"].get("tags", []) for c in ours["cells"]]
    assert tags == [c.metadata.get("tags", []) for c in theirs.cells]


@pytest.mark.parametrize("name", list_lessons())
def test_every_lesson_has_a_settings_cell_that_lesson_setup_reads(name):
    cells = to_notebook(name)["cells"]
    settings = [c for c in cells if "parameters" in c["metadata"].get("tags", [])]
    assert len(settings) == 1, "one cell tagged parameters: the notebook's settings"
    source = "".join(settings[0]["source"])
    for setting in ("SMOKE = False", "EPOCHS = None", "SEED = 0"):
        assert setting in source
    later = "".join("".join(c["source"]) for c in cells[cells.index(settings[0]) + 1:])
    assert "smoke=SMOKE, epochs=EPOCHS" in later and "seed=SEED" in later


def test_write_notebooks_gives_valid_nbformat_files(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    paths = write_notebooks(tmp_path, ["00_autograd", "10_lenet"])
    assert [p.name for p in paths] == ["00_autograd.ipynb", "10_lenet.ipynb"]
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        assert notebook.cells[0].cell_type == "code"  # the docstring, then the title
        assert notebook.cells[1].cell_type == "markdown"


@pytest.mark.parametrize("name", EXECUTED)
def test_lesson_runs_as_a_notebook_and_shows_its_figures_inline(name, tmp_path):
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("ipykernel")
    notebook = nbformat.reads(json.dumps(to_notebook(name)), as_version=4)
    settings = next(i for i, c in enumerate(notebook.cells)
                    if "parameters" in c.metadata.get("tags", []))
    # what a student does: edit the settings cell (here, smoke mode and another seed)
    notebook.cells.insert(settings + 1, nbformat.v4.new_code_cell("SMOKE = True\nSEED = 3"))
    env_backup = dict(os.environ)
    os.environ.pop("MPLBACKEND", None)  # the kernel keeps its own inline backend
    os.environ.pop("MINITORCH_CV_DATA", None)
    os.environ["PYTHONPATH"] = os.pathsep.join([str(REPO), str(REPO / "lessons")])
    try:
        nbclient.NotebookClient(notebook, timeout=240, kernel_name="python3",
                                resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(env_backup)
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "smoke mode" in text and "seed 3" in text
    images = [o for o in outputs if o.output_type == "display_data" and "image/png" in o.data]
    saved = sorted((tmp_path / "lesson_output" / name).glob("*.png"))
    assert saved and all(p.stem.endswith("_smoke") for p in saved)
    assert len(images) == len(saved), (len(images), [p.name for p in saved])


def test_the_one_command_writes_the_notebooks(tmp_path, capsys):
    from minitorch_cv.lessons_runner import main

    assert main(["notebooks", "--out", str(tmp_path), "00", "03"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["00_autograd.ipynb",
                                                          "03_convolution.ipynb"]
    assert "00_autograd.ipynb" in capsys.readouterr().out
