"""``Optimizer``: parameter groups, per-parameter state, ``zero_grad``, state dicts (as torch).

Subclasses write only ``step()``: a loop over ``param_groups`` and their parameters that
updates ``p.array`` (the raw array) in place, so the update rule reads as the paper's formula.
"""

from __future__ import annotations

import copy

import numpy as np

from ..autograd.tensor import Tensor
from ..nn.parameter import Parameter


class _RequiredParameter:
    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


class Optimizer:
    """Base class: ``params`` is an iterable of Tensors, of (name, Tensor) pairs, or of dicts
    (parameter groups).

    Each group is a dict with ``"params"`` (a list of Tensors) and the hyper-parameters, the
    optimizer's ``defaults`` filling what a group does not set. ``state[p]`` holds the
    per-parameter buffers (momentum, moment estimates) and is created on the first step.
    """

    def __init__(self, params, defaults: dict):
        self.defaults = defaults
        self.state: dict[Tensor, dict] = {}
        self.param_groups: list[dict] = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got a Tensor; pass model.parameters()")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict) -> None:
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {type(param_group).__name__}")
        group = dict(param_group)
        params = group["params"]
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        # model.named_parameters() works too (torch >= 2.6): keep the tensors
        group["params"] = [p[1] if isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str)
                           else p for p in group["params"]]
        for p in group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, got {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            group.setdefault(name, default)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad = Tensor._wrap(p.xp.zeros_like(p.grad.array), p.device)

    @staticmethod
    def _gradients(group):
        """``(parameter, gradient array)`` for each parameter of ``group`` that has a gradient;
        the gradient is negated when the group maximizes. The loop every ``step`` starts with."""
        for p in group["params"]:
            if p.grad is not None:
                yield p, (-p.grad.array if group["maximize"] else p.grad.array)

    def step(self, closure=None):
        raise NotImplementedError(f"{type(self).__name__} does not define step()")

    def _closure_loss(self, closure):
        if closure is None:
            return None
        from ..autograd.function import enable_grad  # noqa: PLC0415

        with enable_grad():
            return closure()

    # ------------------------------------------------------------------ state dicts
    def state_dict(self) -> dict:
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}``.

        Parameters are replaced by their position across groups (torch's format); state
        arrays are copied into Tensors, so the dict can go to ``minitorch_cv.save``.
        """
        index_of, groups, next_index = {}, [], 0
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                if id(p) not in index_of:
                    index_of[id(p)] = next_index
                    next_index += 1
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {}
        for p, values in self.state.items():
            state[index_of[id(p)]] = {
                k: (Tensor(v.array.copy(), device=v.device) if isinstance(v, Tensor)
                    else copy.deepcopy(v))
                for k, v in values.items()
            }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(groups)} parameter groups, this "
                             f"optimizer has {len(self.param_groups)}")
        for saved, group in zip(groups, self.param_groups):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't "
                                 "match the size of the optimizer's group")
        params = {}
        for saved, group in zip(groups, self.param_groups):
            for index, p in zip(saved["params"], group["params"]):
                params[int(index)] = p
        self.state = {}
        for index, values in state_dict["state"].items():
            p = params[int(index)]
            self.state[p] = {k: self._restore(v, p, k) for k, v in values.items()}
        for saved, group in zip(groups, self.param_groups):
            for key, value in saved.items():
                if key != "params":
                    group[key] = tuple(value) if key == "betas" else value

    @staticmethod
    def _restore(value, p: Tensor, key: str):
        if key == "step":
            return float(value.item() if isinstance(value, Tensor) else value)
        if isinstance(value, Tensor) or isinstance(value, np.ndarray) or hasattr(value,
                                                                                 "__array__"):
            array = value.array if isinstance(value, Tensor) else np.asarray(value)
            array = array.astype(p.dtype) if array.dtype.kind == "f" else array
            return Tensor(array.copy(), device=p.device)
        return copy.deepcopy(value)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


def _state_buffer(p: Parameter) -> Tensor:
    """A zero Tensor shaped like ``p`` for optimizer state (momentum, moments)."""
    return Tensor._wrap(p.xp.zeros_like(p.array), p.device)
