"""The backend parity report (``minitorch-cv parity MODEL``) on cpu and the simulated GPU."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from minitorch_cv import emulator, parity

pytestmark = pytest.mark.skipif(emulator.compiler() is None, reason="no g++: no 'cuda-sim'")


def test_parity_report_lenet_cpu_vs_cuda_sim(capsys):
    parser = argparse.ArgumentParser()
    parity.add_arguments(parser)
    assert parity.main(parser.parse_args(["lenet5", "--devices", "cpu", "cuda-sim"])) == 0
    text = capsys.readouterr().out
    assert "parity of lenet5" in text and "cuda-sim" in text

    report = parity.parity("lenet5", batch_size=3, seed=1, devices=["cpu", "cuda-sim"])
    assert [row.device for row in report.rows] == ["cpu", "cuda-sim"]
    sim = report.rows[1]
    assert sim.max_output_diff < 1e-5 and abs(sim.loss_diff) < 1e-5
    assert sim.worst_grad_rel_diff < 1e-5 and sim.worst_grad_name != "-"
    assert sim.forward_seconds > 0 and sim.backward_seconds > 0


def test_parity_compare_finds_the_worst_gradient():
    grads = {"a": np.ones(3), "b": np.ones(2)}
    reference = parity.DeviceRun("cpu", np.zeros(2), 1.0, grads, 0.1, 0.1)
    other = parity.DeviceRun("cuda-sim", np.array([0.0, 0.5]), 1.25,
                             {"a": np.ones(3), "b": np.array([1.0, 1.1])}, 0.2, 0.2)
    row = parity.compare(reference, other)
    assert row.max_output_diff == 0.5 and row.loss_diff == 0.25
    assert row.worst_grad_name == "b" and np.isclose(row.worst_grad_rel_diff, 0.1)


def test_parity_rejects_unknown_devices():
    with pytest.raises(ValueError, match="unknown devices"):
        parity.parity("lenet5", devices=["tpu"])
