"""The command line's own commands (train and summary are tested in tests/train)."""

import re
import subprocess
import sys

from minitorch_cv.cli import main


def test_lessons_lists_every_lesson_with_its_title(capsys):
    assert main(["lessons"]) == 0
    out = capsys.readouterr().out
    assert "00_autograd" in out and "15_resnet" in out and "ResNet" in out


def test_unknown_lesson_names_the_choices(capsys):
    assert main(["lesson", "no_such_lesson"]) == 2
    assert "00_autograd" in capsys.readouterr().out


def test_compare_models_prints_both_columns(capsys):
    assert main(["compare-models", "alexnet", "vgg16"]) == 0
    out = capsys.readouterr().out
    assert "61,100,840" in out and "138,357,544" in out and "3x3 stacks" in out


def test_parity_on_cpu_and_simulated_gpu(capsys):
    assert main(["parity", "lenet5", "--devices", "cpu", "cuda-sim"]) == 0
    out = capsys.readouterr().out
    # the parameter with the largest gradient difference is named (which one depends on the
    # order of summation of each device's kernels)
    assert "cuda-sim" in out and re.search(r"e-0\d \(features\.\d\.(weight|bias)\)", out)


def test_python_dash_m_doctor_runs():
    done = subprocess.run([sys.executable, "-m", "minitorch_cv", "doctor"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "numba" in done.stdout and "simulated GPU" in done.stdout


def test_doctor_warns_when_numpy_started_openblas_before_our_settings():
    import os

    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_THREAD_TIMEOUT", "OMP_WAIT_POLICY")}
    code = "import {}; import minitorch_cv.backend as b; print('\\n'.join(b._blas_report()))"
    late = subprocess.run([sys.executable, "-c", code.format("numpy")], capture_output=True,
                          text=True, timeout=120, env=env)
    assert "warning: OPENBLAS_THREAD_TIMEOUT=16 was set after numpy" in late.stdout, late.stderr
    first = subprocess.run([sys.executable, "-c", code.format("minitorch_cv")],
                           capture_output=True, text=True, timeout=120, env=env)
    assert "OPENBLAS_THREAD_TIMEOUT=16" in first.stdout and "warning" not in first.stdout
