"""``minitorch-cv train`` and ``minitorch-cv summary`` through the real command-line parser."""

from __future__ import annotations

import re

import pytest

import minitorch_cv as mt
from minitorch_cv.cli import main
from minitorch_cv.train import read_toml


def run_dir(logdir):
    (path,) = [p for p in logdir.iterdir() if p.is_dir()]
    return path


def test_train_runs_offline_on_the_embedded_subset(tmp_path, capsys):
    logdir = tmp_path / "runs"
    code = main(["train", "lenet5", "--epochs", "2", "--limit", "400", "--batch-size", "40",
                 "--lr", "3e-3", "--quiet", "--logdir", str(logdir)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "the embedded subset shipped in the package" in out
    assert re.search(r"model lenet5: 61,706 parameters; 2 epochs of 10 batches of 40", out)
    epochs = re.findall(r"epoch (\d)  train loss ([\d.]+)  test loss [\d.]+  Accuracy ([\d.]+)",
                        out)
    assert [e[0] for e in epochs] == ["0", "1"]
    assert float(epochs[1][1]) < float(epochs[0][1])  # the train loss falls
    accuracy = float(re.search(r"test accuracy: ([\d.]+) \(1,000 images", out).group(1))
    assert accuracy == pytest.approx(float(epochs[-1][2]))  # eval() model, same test set
    assert accuracy > 0.3  # 10 classes: far above chance after 20 steps
    folder = run_dir(logdir)
    assert (folder / "model.safetensors").is_file()
    settings = read_toml(folder / "settings.toml")
    assert settings["epochs"] == 2 and settings["optimizer_kwargs"]["lr"] == 3e-3
    assert read_toml(folder / "model.toml")["model"]["class"] == "LeNet5"


def test_train_reports_a_missing_dataset_and_an_unknown_model(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["train", "--dataset", "mnist", "--data-dir", str(empty),
                 "--logdir", str(tmp_path / "runs")]) == 2
    assert "mnist" in capsys.readouterr().err.lower()
    assert main(["train", "no_such_net", "--logdir", str(tmp_path / "runs")]) == 2
    assert "unknown model 'no_such_net'" in capsys.readouterr().err


@pytest.mark.skipif(mt.backend.cuda_available(), reason="a GPU is present")
def test_train_without_a_gpu_says_so(tmp_path, capsys):
    assert main(["train", "--device", "cuda", "--logdir", str(tmp_path)]) == 2
    assert "device 'cuda'" in capsys.readouterr().err


def test_train_rejects_a_bad_option():
    with pytest.raises(SystemExit):
        main(["train", "--dataset", "imagenet"])


@pytest.mark.slow
def test_default_main_job_reaches_80_percent(tmp_path, capsys):
    """The README's main job with its defaults (about a minute on 2 cores)."""
    assert main(["train", "--quiet", "--logdir", str(tmp_path)]) == 0
    accuracy = float(re.search(r"test accuracy: ([\d.]+)", capsys.readouterr().out).group(1))
    assert accuracy >= 0.80


def test_summary_prints_the_layer_table(capsys):
    assert main(["summary", "lenet5", "--input-size", "1", "28", "28"]) == 0
    out = capsys.readouterr().out
    assert "Input size: [1, 1, 28, 28]" in out
    assert "Total params: 61,706" in out
    assert re.search(r"features\.0 \(Conv2d\)\s+\[1, 6, 28, 28\]", out)


def test_summary_explains_an_input_that_is_too_small(capsys):
    assert main(["summary", "lenet5", "--input-size", "1", "4", "4"]) == 2
    assert "input too small for layer 'features.3'" in capsys.readouterr().err
