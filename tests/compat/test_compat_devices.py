"""Devices (issue 13, item 1): the device boilerplate of torch programs, on both libraries.

Without a GPU both libraries answer "cpu"; with one, minitorch_cv's "cuda" is the CuPy device.
"""

import pytest

import minitorch_cv as mt
from minitorch_cv.testing.compat import inputs, run_on_both, same_weights


def _dtype(t) -> str:
    return str(t.dtype).replace("torch.", "")


def test_the_tutorial_boilerplate_trains_on_the_chosen_device():
    def program(torch):
        nn = torch.nn
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)).to(device)
        same_weights(torch, model)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        x = torch.from_numpy(inputs(1, (6, 4))).to(device, non_blocking=True)
        y = torch.tensor([0, 1, 2, 0, 1, 2]).to(device)
        losses = []
        for _ in range(3):
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return {"device": str(device), "type": device.type, "losses": losses,
                "on_device": model[0].weight.device == device,
                "weight": model[0].weight.cpu(), "is_cuda": x.is_cuda}

    ours, _ = run_on_both(program)
    assert ours["device"] == ("cuda" if mt.cuda.is_available() else "cpu")


def test_the_multi_backend_boilerplate_with_mps_and_accelerator():
    def program(torch):
        if torch.cuda.is_available():
            device = torch.device("cuda")
        elif torch.backends.mps.is_available():
            device = torch.device("mps")
        else:
            device = torch.device("cpu")
        acc = torch.accelerator.current_accelerator() if torch.accelerator.is_available() \
            else torch.device("cpu")
        return {"device": str(device), "accelerator": str(acc),
                "count": torch.cuda.device_count(), "mps_built": torch.backends.mps.is_built(),
                "same": acc == device}

    if mt.cuda.is_available():
        pytest.skip("torch here is CPU-only, so a GPU machine gives different answers")
    run_on_both(program)


def test_device_objects_parse_print_and_compare():
    def program(torch):
        cuda0, cpu = torch.device("cuda:0"), torch.device("cpu")
        return {"str": [str(cuda0), str(cpu), str(torch.device("cuda", 1))],
                "repr": [repr(cuda0), repr(cpu)], "type": [cuda0.type, cpu.type],
                "index": [cuda0.index, cpu.index],
                "eq": [cpu == torch.device("cpu"), cuda0 == torch.device("cuda:0"),
                       cpu == cuda0, torch.device(cpu) == cpu],
                "formatted": f"running on {cpu}", "tensor": repr(torch.zeros(2).device)}

    run_on_both(program)


def test_device_errors_are_runtime_errors():
    def program(torch):
        caught = []
        for bad in ("tpu", "cuda:x"):
            try:
                torch.device(bad)
            except RuntimeError:
                caught.append(bad)
        return caught

    run_on_both(program)


def test_every_form_of_to_cpu_and_cuda():
    def program(torch):
        x = torch.from_numpy(inputs(2, (3, 2)))
        double = torch.zeros(1, dtype=torch.float64)
        device = torch.device("cpu")
        forms = {
            "dtype": x.to(torch.float64), "kw_dtype": x.to(dtype=torch.float16),
            "device_dtype": x.to(device, torch.float64), "kw_both": x.to(device=device,
                                                                         dtype=torch.int64),
            "string": x.to("cpu"), "other": x.to(double), "cpu": x.cpu(),
            "non_blocking": x.to(device, non_blocking=True),
        }
        out = {name: (t, _dtype(t), str(t.device)) for name, t in forms.items()}
        out["same_object"] = [x.to("cpu") is x, x.to(torch.float32) is x, x.cpu() is x,
                              x.to("cpu", copy=True) is x]
        if torch.cuda.is_available():
            out["cuda"] = x.cuda().cpu()
        return out

    run_on_both(program)


def test_to_is_differentiable_through_dtype_and_device_changes():
    def program(torch):
        w = torch.from_numpy(inputs(3, (4,))).requires_grad_()
        device = "cuda" if torch.cuda.is_available() else "cpu"
        y = (w.to(device).double() * 3).sum().float().cpu()
        y.backward()
        return {"y": y, "grad": w.grad, "leaf": w.is_leaf, "moved_leaf": w.to(device).is_leaf}

    run_on_both(program)


def test_module_to_and_state_dict_device():
    def program(torch):
        nn = torch.nn
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten())
        same_weights(torch, model)
        model = model.to(device).double().float()
        model.cpu()
        x = torch.from_numpy(inputs(4, (2, 1, 5, 5))).to(device)
        out = model(x)
        devices = sorted({str(t.device) for t in model.state_dict().values()})
        dtypes = [_dtype(t) for t in model.state_dict().values()]
        return {"out": out, "devices": devices, "dtypes": dtypes,
                "param_device": str(next(model.parameters()).device)}

    run_on_both(program, rtol=1e-4, atol=1e-5)


def test_cuda_module_answers_without_a_gpu():
    if mt.cuda.is_available():
        pytest.skip("a GPU is present")

    def program(torch):
        torch.cuda.manual_seed_all(0)  # accepted without a GPU, as in torch
        torch.cuda.empty_cache()
        torch.backends.cudnn.benchmark = True
        return {"available": torch.cuda.is_available(), "count": torch.cuda.device_count(),
                "accelerator": torch.accelerator.current_accelerator()}

    run_on_both(program)


# ---------------------------------------------------------------- ours only: the simulated GPU
def test_cuda_sim_is_a_device_of_its_own():
    x = mt.from_numpy(inputs(5, (3,))).requires_grad_()
    y = x.to("cuda-sim")
    assert y.device == "cuda-sim" and y.device.type == "cuda-sim" and not y.is_cuda
    assert repr(y.device) == "device(type='cuda-sim')"
    (y * y).sum().cpu().backward()
    assert x.grad.device == "cpu"
    assert mt.allclose(x.grad, 2 * x.detach())


def test_cuda_without_a_gpu_raises_runtime_error_naming_the_fix():
    if mt.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="cuda-sim"):
        mt.zeros(2).cuda()
    with pytest.raises(RuntimeError, match="not supported"):
        mt.zeros(2).to("mps")


def test_device_objects_work_as_internal_names():
    import pickle

    cpu = mt.device("cpu")
    assert cpu == "cpu" and {cpu: 1}["cpu"] == 1 and {"cpu": 2}[cpu] == 2
    assert pickle.loads(pickle.dumps(mt.device("cuda:1"))).index == 1
    assert mt.device(cpu) is cpu
    assert mt.zeros(1).device is mt.zeros(2).device  # one shared object per device
    with pytest.raises(RuntimeError, match="already has an index"):
        mt.device("cuda:0", 1)
    with pytest.raises(RuntimeError, match="must not be negative"):
        mt.device("cuda", -1)
    with pytest.raises(TypeError):
        mt.device(3)
    model = mt.nn.Linear(2, 2).to(mt.device("cuda-sim"))
    assert model.weight.device == "cuda-sim"
    out = model(mt.ones(1, 2, device="cuda-sim"))
    assert out.device == mt.device("cuda-sim") and out.device != "cpu"
