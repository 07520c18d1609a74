"""Every bad invocation of ``minitorch-cv train / summary / parity`` ends in one line on stderr
and exit code 2, as argparse does (none is silently accepted); a diverging run exits 1 with a
warning; Ctrl-C saves, says so in one line and exits 2; ``--resume`` continues a run."""

from __future__ import annotations

import gzip
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import minitorch_cv as mt
from minitorch_cv.cli import main


def _argparse_error(argv, capsys, fragment):
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    (line,) = [line for line in err.splitlines() if "error:" in line]
    assert fragment in line


@pytest.mark.parametrize("argv, fragment", [
    (["train", "--epochs", "0"], "--epochs: must be at least 1, got 0"),
    (["train", "--epochs", "-2"], "--epochs: must be at least 1, got -2"),
    (["train", "--limit", "-5"], "--limit: must be at least 1, got -5"),
    (["train", "--limit", "0"], "--limit: must be at least 1"),
    (["train", "--batch-size", "0"], "--batch-size: must be at least 1"),
    (["train", "--batch-size", "-64"], "--batch-size: must be at least 1"),
    (["train", "--lr", "0"], "--lr: must be a positive finite number"),
    (["train", "--lr", "-0.1"], "--lr: must be a positive finite number"),
    (["train", "--lr", "nan"], "--lr: must be a positive finite number"),
    (["train", "--lr", "inf"], "--lr: must be a positive finite number"),
    (["train", "--seed", "-1"], "--seed: must be 0 or more"),
    (["train", "--epochs", "three"], "--epochs: 'three' is not an integer"),
    (["summary", "lenet5", "--input-size", "0", "28", "28"], "--input-size: must be at least 1"),
    (["summary", "lenet5", "--num-classes", "0"], "--num-classes: must be at least 1"),
    (["parity", "lenet5", "--batch-size", "0"], "--batch-size: must be at least 1"),
])
def test_bad_numbers_are_refused_by_the_parser(argv, fragment, capsys):
    _argparse_error(argv, capsys, fragment)


def _one_line_exit_2(argv, capsys, fragment, code=2):
    assert main(argv) == code
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("minitorch-cv")]
    assert len(lines) == 1 and fragment in lines[0], err
    assert "Traceback" not in err


def test_a_logdir_that_is_a_file_or_unwritable(tmp_path, capsys):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    _one_line_exit_2(["train", "--logdir", str(a_file)], capsys, "is a file, not a folder")
    _one_line_exit_2(["train", "--logdir", str(a_file / "below")], capsys, "is not writable")
    if os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        _one_line_exit_2(["train", "--logdir", str(locked)], capsys, "is not writable")


def _write_idx(path, array, magic):
    header = magic.to_bytes(4, "big") + b"".join(int(n).to_bytes(4, "big")
                                                 for n in array.shape)
    with gzip.open(path, "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


def test_one_based_labels_and_corrupt_data(tmp_path, capsys):
    root = tmp_path / "data"
    (root / "mnist").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix in ("train", "t10k"):
        _write_idx(root / "mnist" / f"{prefix}-images-idx3-ubyte.gz",
                   rng.integers(0, 255, (20, 28, 28)), 0x803)
        _write_idx(root / "mnist" / f"{prefix}-labels-idx1-ubyte.gz", np.arange(20) % 10 + 1,
                   0x801)
    _one_line_exit_2(["train", "--dataset", "mnist", "--data-dir", str(root), "--logdir",
                      str(tmp_path / "runs")], capsys, "labels range from 1 to 10")
    cifar = tmp_path / "cifar" / "cifar-10-batches-py"
    cifar.mkdir(parents=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta"]:
        (cifar / name).write_bytes(b"\x80\x02corrupt" + bytes(range(30)))
    _one_line_exit_2(["train", "--dataset", "cifar10", "--data-dir", str(cifar.parent),
                      "--logdir", str(tmp_path / "runs")], capsys, "")


def test_a_limit_larger_than_the_dataset(tmp_path, capsys):
    _one_line_exit_2(["train", "--limit", "10001", "--logdir", str(tmp_path)], capsys,
                     "--limit 10001 is more than the 10,000 training images")


def test_summary_and_parity_errors(capsys):
    _one_line_exit_2(["summary", "lenet5", "--input-size", "3", "100000", "100000"], capsys,
                     "a summary runs a forward pass")
    _one_line_exit_2(["summary", "lenet5", "--input-size", "28", "28"], capsys,
                     "takes C H W")
    _one_line_exit_2(["parity", "no_such_net"], capsys, "unknown model 'no_such_net'")


def test_a_diverging_run_warns_and_exits_1(tmp_path, capsys):
    code = main(["train", "--lr", "1e6", "--epochs", "2", "--limit", "200", "--batch-size",
                 "50", "--quiet", "--logdir", str(tmp_path)])
    captured = capsys.readouterr()
    assert code == 1
    assert "--lr 1e+06 is far above Adam's usual range" in captured.err
    assert "the training diverged" in captured.err and "Traceback" not in captured.err


def _env():
    return {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "PYTHONUNBUFFERED": "1"}


def test_ctrl_c_saves_says_one_line_and_resume_finishes_the_run(tmp_path):
    logdir = tmp_path / "runs"
    argv = [sys.executable, "-m", "minitorch_cv", "train", "--epochs", "30", "--limit", "600",
            "--batch-size", "20", "--quiet", "--logdir", str(logdir)]
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=_env())
    lines = []
    for line in child.stdout:  # wait for the first finished epoch
        lines.append(line)
        if line.startswith("epoch 0 "):
            break
    time.sleep(0.3)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 2, (out, err)
    assert "Traceback" not in err
    interrupted = [line for line in out.splitlines() if line.startswith("interrupted at")]
    assert len(interrupted) == 1
    (run,) = [p for p in logdir.iterdir() if p.is_dir()]
    assert "minitorch-cv train --resume " + str(run) in interrupted[0]
    assert (run / "last_epoch.safetensors").is_file()
    assert (run / "interrupted.safetensors").is_file()
    done = mt.load(run / "last_epoch.safetensors")["epoch"]
    assert done >= 1

    code = main(["train", "--resume", str(run), "--epochs", str(done + 1)])
    assert code == 0
    assert mt.load(run / "last_epoch.safetensors")["epoch"] == done + 1
    assert (run / "model.safetensors").is_file()


def test_resume_refuses_other_options_and_a_folder_that_is_no_run(tmp_path, capsys):
    _one_line_exit_2(["train", "--resume", str(tmp_path)], capsys, "not a run folder")
    assert main(["train", "--epochs", "1", "--limit", "100", "--batch-size", "50", "--quiet",
                 "--logdir", str(tmp_path / "runs")]) == 0
    capsys.readouterr()
    (run,) = list((tmp_path / "runs").iterdir())
    _one_line_exit_2(["train", "--resume", str(run), "--lr", "0.1"], capsys,
                     "--lr cannot change")
    assert re.search(r"--epochs", str(main.__doc__) + "--epochs")
