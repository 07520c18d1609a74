"""The workbench's paths: command line and notebook for every exercise, hangs and crashes in
their own subprocess, grade, the plug-in stage, templates and hints."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit, prange

import minitorch_cv.functional as F
import minitorch_cv.nn as nn
from minitorch_cv import exercises
from minitorch_cv.cli import main
from minitorch_cv.exercises import catalogue, get, run_checks
from minitorch_cv.exercises.extract import to_source
from minitorch_cv.exercises.grade import grade

QUICK = ["signature", "examples"]


def _write_solution(exercise, folder):
    path = folder / f"{exercise.name}{exercise.file_suffix}"
    text = (exercise.solution["SOURCE"] if exercise.kind == "cuda"
            else to_source(exercise.solution))
    path.write_text(text)
    return path


@pytest.mark.parametrize("exercise", catalogue(), ids=lambda e: e.name)
def test_every_exercise_runs_from_the_command_line_and_a_notebook(exercise, tmp_path, capsys):
    """Both paths for every exercise, in this process (fast): the command line loads the
    file; the notebook path turns the functions into source (what check() sends to its
    subprocess), and that source passes."""
    path = _write_solution(exercise, tmp_path)
    code = main(["exercise", "check", exercise.name, str(path), "--stages", ",".join(QUICK),
                 "--in-process"])
    assert code == 0, capsys.readouterr().out
    student = ({"SOURCE": exercise.solution["SOURCE"]} if exercise.kind == "cuda"
               else exercise.solution)
    report = exercises.check(exercise.name, student, stages=QUICK, quiet=True, isolate=False)
    assert report.stages_passed == 2, report.text()


@pytest.mark.parametrize("name", ["conv2d", "residual_block", "cuda_im2col"])
def test_command_line_and_notebook_in_a_subprocess(name, tmp_path, capsys):
    exercise = get(name)
    path = _write_solution(exercise, tmp_path)
    assert main(["exercise", "check", name, str(path), "--stages", ",".join(QUICK)]) == 0
    student = ({"SOURCE": exercise.solution["SOURCE"]} if exercise.kind == "cuda"
               else exercise.solution)
    report = exercises.check(name, student, stages=QUICK, quiet=True)
    assert report.stages_passed == 2, report.text()


def test_notebook_functions_travel_as_source(tmp_path):
    """A notebook function using a helper and a module global is rebuilt in the child."""
    scale = 1.0

    def helper(x):
        return x * scale

    def mse_forward(prediction, target):
        return float(np.mean(helper(prediction - target) ** 2))

    source = to_source({"mse_forward": mse_forward})
    assert "def helper" in source and "scale = 1.0" in source and "import numpy" in source
    report = exercises.check("mse_loss", mse_forward=mse_forward,
                             mse_backward=get("mse_loss").solution["mse_backward"],
                             stages=QUICK, quiet=True)
    assert report.stages_passed == 2, report.text()


HANG = "def im2col(x, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w):\n    while True:\n" \
       "        pass\n"
CRASH = ("import os, signal\n\ndef im2col(x, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w):\n"
         "    os.kill(os.getpid(), signal.SIGSEGV)\n")


def test_hanging_and_crashing_students_are_reported_and_grade_goes_on(tmp_path):
    for student, text in (("ada", HANG), ("bob", CRASH), ("cy", to_source(
            get("im2col").solution))):
        (tmp_path / student).mkdir()
        (tmp_path / student / "im2col.py").write_text(text)
    results = grade(tmp_path, timeout=8, max_examples=5, progress=None)
    hang, crash, good = (results[s]["im2col"] for s in ("ada", "bob", "cy"))
    assert hang.failed_stage == "signature" and "stopped after 8 s" in hang.text()
    assert crash.failed_stage == "signature" and "SIGSEGV" in crash.text()
    assert good.passed, good.text()
    table = (tmp_path / "grades.md").read_text()
    assert "| cy | 4/4 |" in table and "ada" in table and "bob" in table
    assert (tmp_path / "grades.csv").read_text().startswith("student,im2col")


def _conv_with_wrong_backward():
    solution = get("conv2d").solution

    def conv2d_backward(grad_output, x, weight, stride, padding, dilation):
        gx, gw, gb = solution["conv2d_backward"](grad_output, x, weight, stride, padding,
                                                 dilation)
        return gx, gw * 1.01, gb

    return {**solution, "conv2d_backward": conv2d_backward}


def test_plugin_trains_like_the_builtin_and_shows_a_wrong_conv(capsys):
    original = F.conv2d
    good = run_checks(get("conv2d"), get("conv2d").solution, stages=["plugin"])
    assert good.results[-1].status == "passed", good.text()
    assert "largest relative difference 0.0e+00" in good.results[-1].message
    bad = run_checks(get("conv2d"), _conv_with_wrong_backward(), stages=["plugin"])
    assert bad.failed_stage == "plugin" and "other losses" in bad.text()
    assert F.conv2d is original  # nothing left behind


def _cuda(text):
    return {"SOURCE": text}


def test_cuda_kernel_mutants_are_caught():
    source = get("cuda_im2col").solution["SOURCE"]
    cases = [
        (source.replace("index < total", "index <= total"), "examples", "outside col"),
        (source.replace("if (h >= 0 && h < H && w >= 0 && w < W)", "if (h < H && w < W)"),
         "properties", "thread order"),
        (source.replace("index += grid_stride()", "index += 2 * grid_stride()"), "properties",
         "NaN = never written"),
        ("#include <stdio.h>\n" + source, "gate", "NVRTC"),
    ]
    for text, stage, words in cases:
        report = run_checks(get("cuda_im2col"), _cuda(text), max_examples=10)
        assert report.failed_stage == stage, report.text()
        assert words in report.text(), report.text()


def test_start_never_overwrites_and_hints_climb_the_ladder(tmp_path, capsys):
    assert main(["exercise", "start", "conv2d", "--dir", str(tmp_path)]) == 0
    path = tmp_path / "conv2d.py"
    path.write_text("# my work\n")
    assert main(["exercise", "start", "conv2d", "--dir", str(tmp_path)]) == 1
    assert path.read_text() == "# my work\n"
    hints = get("conv2d").hints
    for _k in range(len(hints) + 1):
        main(["exercise", "hint", "conv2d", "--dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert hints[0] in out and hints[-1] in out and "the last hint" in out


@pytest.mark.parametrize("name", ["max_pool", "residual_block", "cuda_im2col"])
def test_a_fresh_template_reports_not_implemented(name, tmp_path, capsys):
    main(["exercise", "start", name, "--dir", str(tmp_path)])
    path = tmp_path / f"{name}{get(name).file_suffix}"
    if name == "cuda_im2col":
        assert 'extern "C" __global__ void im2col(const scalar_t*' in path.read_text()
    code = main(["exercise", "check", name, str(path), "--in-process"])
    out = capsys.readouterr().out
    assert code == 1 and "not implemented yet" in out and "stage 'signature'" in out


def test_teacher_seed_draws_other_examples():
    seen = {}
    exercise = get("im2col")

    def spy(x, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w):
        seen.setdefault(current, []).append((x.shape, kh, kw, sh, sw, ph, pw))
        return exercise.solution["im2col"](x, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w)

    for current in (0, 1):
        run_checks(exercise, {"im2col": spy}, seed=current, stages=["properties"],
                   max_examples=5)
    assert seen[0] != seen[1]
    assert np.all(np.array([len(v) for v in seen.values()]) >= 5)


def test_docs_pages_match_the_exercise_modules():
    from pathlib import Path

    from minitorch_cv.exercises.docs import index, page

    folder = Path(__file__).resolve().parents[2] / "docs" / "exercises"
    assert (folder / "index.md").read_text() == index(), "run python -m " \
        "minitorch_cv.exercises.docs docs/exercises"
    for exercise in catalogue():
        assert (folder / f"{exercise.name}.md").read_text() == page(exercise), exercise.name
    readme = (folder.parents[1] / "README.md").read_text()
    assert "docs/exercises/index.md" in readme


# im2col through shared memory: each thread stages its value, and after a barrier writes its
# neighbour's (threadIdx.x ^ 1). Every thread runs the same number of rounds, so all reach
# the barriers. Without the barriers it is a race: the neighbour may not have written yet.
STAGED = r'''
extern "C" __global__ void im2col(const scalar_t* x, scalar_t* col, long long N, long long C,
                                  long long H, long long W, long long kh, long long kw,
                                  long long sh, long long sw, long long ph, long long pw,
                                  long long dh, long long dw, long long out_h,
                                  long long out_w) {
    __shared__ scalar_t tile[1024];
    const long long total = N * C * kh * kw * out_h * out_w;
    const long long stride = (long long)blockDim.x * gridDim.x;
    for (long long base = (long long)blockIdx.x * blockDim.x; base < total; base += stride) {
        const long long index = base + threadIdx.x;
        scalar_t value = 0;
        if (index < total) {
            const long long ow = index % out_w, oh = (index / out_w) % out_h;
            const long long rest = index / (out_w * out_h);
            const long long j = rest % kw, i = (rest / kw) % kh, c = (rest / (kw * kh)) % C;
            const long long n = rest / (kw * kh * C);
            const long long h = oh * sh - ph + i * dh, w = ow * sw - pw + j * dw;
            if (h >= 0 && h < H && w >= 0 && w < W) value = x[((n * C + c) * H + h) * W + w];
        }
        tile[threadIdx.x] = value;
        BARRIER
        const long long partner = base + (threadIdx.x ^ 1);
        if ((threadIdx.x ^ 1) < blockDim.x && partner < total) col[partner] = tile[threadIdx.x ^ 1];
        BARRIER
    }
}
'''


def test_cuda_racy_kernel_is_caught_and_its_fixed_version_passes():
    fixed = STAGED.replace("BARRIER", "__syncthreads();")
    report = run_checks(get("cuda_im2col"), _cuda(fixed), max_examples=8)
    assert report.passed, report.text()
    racy = run_checks(get("cuda_im2col"), _cuda(STAGED.replace("BARRIER", "")),
                      max_examples=8)
    assert racy.failed_stage in ("examples", "properties"), racy.text()
    assert "nan" in racy.text()  # the neighbour's tile entry was read before it was written


def test_a_notebook_class_and_a_numba_kernel_travel_as_source():
    """As in a notebook: the imports are globals (nn, njit, prange at the top of this file)."""
    class MySE(nn.Module):
        def __init__(self, channels, reduction=16):
            super().__init__()
            hidden = max(1, channels // reduction)
            self.fc1, self.fc2 = nn.Linear(channels, hidden), nn.Linear(hidden, channels)

        def forward(self, x):
            n, c = x.shape[0], x.shape[1]
            gate = self.fc2(self.fc1(x.mean((2, 3))).relu()).sigmoid()
            return x * gate.reshape(n, c, 1, 1)

    report = exercises.check("se_block", MySE, quiet=True, max_examples=5)
    assert report.passed, report.text()

    @njit(parallel=True, cache=False)
    def pool(x, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w):
        N, C, H, W = x.shape
        out = np.empty((N, C, out_h, out_w), x.dtype)
        argmax = np.empty((N, C, out_h, out_w), np.int64)
        for plane in prange(N * C):
            n, c = plane // C, plane % C
            for oh in range(out_h):
                for ow in range(out_w):
                    best, index = -np.inf, -1
                    for i in range(kh):
                        for j in range(kw):
                            h, w = oh * sh - ph + i * dh, ow * sw - pw + j * dw
                            if 0 <= h < H and 0 <= w < W and (index < 0 or x[n, c, h, w] > best):
                                best, index = x[n, c, h, w], h * W + w
                    out[n, c, oh, ow], argmax[n, c, oh, ow] = best, index
        return out, argmax

    report = exercises.check("numba_max_pool", pool, quiet=True, max_examples=8)
    assert report.passed, report.text()
