"""Side by side: what changed from one architecture to the next (``compare-models A B``).

``analyze(model)`` runs one image of the model's natural size through it with forward hooks on
every layer and walks the recorded autograd graph, so the facts come from what the network
computes, not from its class:

- depth: weight layers (conv + linear) on the longest path from input to output (VGG-16: 16,
  ResNet-50: 50, GoogLeNet: 22; a gate's own layers (SE) do not count, as in the papers);
  ``weight_layers`` counts all of them.
- multiply-adds of the convolutions and linear layers for one image.
- receptive field: the side of the input window that one unit of the last spatial feature map
  sees (theoretical; it may exceed the image).
- building blocks, each counted: LRN, batch norm, 3x3 stacks (3x3 after 3x3, no kernel larger
  than 3x3 after the stem), 1x1 convolutions and 1x1 bottlenecks (fewer output channels),
  inception branches (concatenation of parallel branches), dense concatenation (a map
  concatenated with what was computed from it), residual adds, grouped convolutions, SE gates
  (a map scaled by a per-channel gate), multiplicative gates (highway), global average pooling.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import nn
from ..autograd.function import Context
from ..autograd.tensor import Tensor
from ..creation import randn
from . import registry

BLOCKS = (
    "local response norm", "batch norm", "3x3 stacks", "1x1 convolutions", "1x1 bottlenecks",
    "inception branches", "dense concatenation", "residual adds", "grouped convolutions",
    "SE gates", "multiplicative gates", "global average pooling",
)


@dataclass
class ModelFacts:
    """What ``analyze`` found; ``blocks`` maps a building block name to how often it occurs."""

    name: str
    input_size: tuple[int, int, int]
    depth: int
    weight_layers: int
    parameters: int
    macs: int
    receptive_field: int
    blocks: dict[str, int] = field(default_factory=dict)


@dataclass
class Comparison:
    a: ModelFacts
    b: ModelFacts

    @property
    def new_in_b(self) -> list[str]:
        return [block for block in BLOCKS if self.b.blocks.get(block) and not
                self.a.blocks.get(block)]

    @property
    def new_in_a(self) -> list[str]:
        return [block for block in BLOCKS if self.a.blocks.get(block) and not
                self.b.blocks.get(block)]

    def __str__(self) -> str:
        return format_comparison(self.a, self.b)


def _pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def _key(node):
    return id(node)


def _parents(node) -> list:
    if isinstance(node, Context):
        return [p for p in node.parents if p is not None]
    return []


def _topological(output_node) -> list:
    """Every node that ``output_node`` depends on, parents before children (an iterative
    depth-first post-order: a node is finished only after all of its parents)."""
    order, visited, stack = [], set(), [(output_node, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if _key(node) in visited:
            continue
        visited.add(_key(node))
        stack.append((node, True))
        stack.extend((parent, False) for parent in _parents(node)
                     if _key(parent) not in visited)
    return order


def analyze(model_or_name, input_size: tuple[int, int, int] | None = None,
            name: str | None = None) -> ModelFacts:
    """Facts about one architecture (a registry name or a model plus its ``input_size``)."""
    if isinstance(model_or_name, str):
        name = name or model_or_name
        model = registry.get(model_or_name)
        input_size = input_size or registry.input_size(model_or_name)
    else:
        model = model_or_name
        name = name or type(model).__name__
        if input_size is None:
            raise ValueError("analyze(model) needs input_size=(C, H, W)")
    # id(output node) -> (module, input node, elements of the output per image, output node)
    records: dict[int, tuple] = {}
    x = randn(1, *input_size, requires_grad=True)

    def hook(module, inputs, output):
        if isinstance(output, tuple):
            output = output[0]
        source = inputs[0] if inputs else None
        if not isinstance(output, Tensor) or output.grad_fn is None or output is source:
            return
        if isinstance(source, (list, tuple)):
            source = source[0]
        in_node = source.grad_fn or source if isinstance(source, Tensor) else None
        records[_key(output.grad_fn)] = (module, in_node, output.numel() // output.shape[0],
                                         output.grad_fn)

    leaves = [m for m in model.modules() if not m._modules]
    handles = [m.register_forward_hook(hook) for m in leaves]
    was_training = model.training
    model.eval()
    try:
        output = model(x)
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    if isinstance(output, tuple):
        output = output[0]
    order = _topological(output.grad_fn)
    internal = _inside_leaf_modules(records)
    blocks = dict.fromkeys(BLOCKS, 0)

    # per node: depth (weight layers so far), receptive field (r, jump), last conv kernel,
    # and whether it carries the input (an activation, not a parameter expression)
    depth = {_key(x): 0}
    field_of = {_key(x): (1, 1)}
    last_kernel: dict[int, int | None] = {_key(x): None}
    from_input = {_key(x): True}
    macs = weight_layers = 0
    max_field, kernels_after_stem = 1, []
    for node in order:
        key = _key(node)
        if key in depth:
            continue
        parents = [p for p in _parents(node) if from_input.get(_key(p))]
        from_input[key] = bool(parents)
        depth[key] = max((depth[_key(p)] for p in parents), default=0)
        field_of[key] = max((field_of[_key(p)] for p in parents), default=(1, 1))
        last_kernel[key] = next((last_kernel[_key(p)] for p in parents
                                 if last_kernel.get(_key(p)) is not None), None)
        if isinstance(node, Context) and len(parents) >= 2 and key not in internal:
            _classify_merge(node, parents, blocks)
        if isinstance(node, Context) and node.function.__name__ == "Mul" and _broadcasting(node):
            # a gate scales the main path: depth is the main path's, not the gate's
            a, b = node.saved_tensors[:2]
            main = node.parents[0] if a.size >= b.size else node.parents[1]
            if main is not None and _key(main) in depth:
                depth[key] = depth[_key(main)]
        if key not in records:
            if isinstance(node, Context) and _is_global_pool(node):  # F.adaptive_avg_pool2d
                blocks["global average pooling"] += 1
            continue
        module, in_node, out_per_image, _ = records[key]
        in_key = _key(in_node) if in_node is not None else None
        r_in, jump = field_of.get(in_key, (1, 1))
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            weight_layers += 1
            depth[key] = depth.get(in_key, 0) + 1
        if isinstance(module, nn.Conv2d):
            (kh, kw), (sh, _), (dh, _) = module.kernel_size, module.stride, module.dilation
            macs += module.weight.numel() // module.out_channels * out_per_image
            field_of[key] = (r_in + (kh - 1) * dh * jump, jump * sh)
            if kh == kw == 3 and last_kernel.get(in_key) == 3:
                blocks["3x3 stacks"] += 1
            if weight_layers > 1:
                kernels_after_stem.append(max(kh, kw))
            last_kernel[key] = max(kh, kw)
            if kh == kw == 1:
                blocks["1x1 convolutions"] += 1
                if module.out_channels < module.in_channels:
                    blocks["1x1 bottlenecks"] += 1
            if module.groups > 1:
                blocks["grouped convolutions"] += 1
        elif isinstance(module, nn.Linear):
            macs += module.in_features * module.out_features
        elif isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
            kernel, stride = _pair(module.kernel_size), _pair(module.stride or module.kernel_size)
            dilation = _pair(getattr(module, "dilation", 1))
            field_of[key] = (r_in + (kernel[0] - 1) * dilation[0] * jump, jump * stride[0])
        elif isinstance(module, nn.LocalResponseNorm):
            blocks["local response norm"] += 1
        elif isinstance(module, nn.BatchNorm2d):
            blocks["batch norm"] += 1
        elif isinstance(module, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
            if _pair(module.output_size) == (1, 1) and isinstance(module, nn.AdaptiveAvgPool2d):
                blocks["global average pooling"] += 1
            field_of[key] = (r_in, jump)
            continue
        if isinstance(module, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            max_field = max(max_field, field_of[key][0])
    if blocks["3x3 stacks"] and any(k > 3 for k in kernels_after_stem):
        blocks["3x3 stacks"] = 0  # consecutive 3x3 convs among larger kernels: not VGG's idea
    parameters = sum(p.numel() for p in model.parameters())
    return ModelFacts(name, tuple(input_size), depth[_key(output.grad_fn)], weight_layers,
                      parameters, macs, max_field, {k: v for k, v in blocks.items() if v})


def _inside_leaf_modules(records: dict) -> set[int]:
    """Nodes computed inside a leaf module (the ops of a composite LRN or Linear), found by
    walking back from each module's output to its input: merges there are not blocks."""
    internal: set[int] = set()
    for _, in_node, _, out_node in records.values():
        stop = _key(in_node) if in_node is not None else None
        stack, seen = [out_node], set()
        while stack:
            node = stack.pop()
            if _key(node) in seen or _key(node) == stop or not isinstance(node, Context):
                continue
            seen.add(_key(node))
            internal.add(_key(node))
            stack.extend(_parents(node))
    return internal


def _is_global_pool(node: Context) -> bool:
    """An average pooling node (not from a module) whose window is the whole map."""
    name = node.function.__name__
    if name == "AvgPool2d":
        args = getattr(node, "args", None)  # (H, W, kh, kw, ...)
        return bool(args) and args[0] == args[2] and args[1] == args[3]
    if name == "AdaptiveAvgPool2d":
        rows, cols = getattr(node, "windows", ((), ()))
        return len(rows) == 1 and len(cols) == 1
    return False


def _classify_merge(node: Context, parents: list, blocks: dict) -> None:
    """A node with two or more activation inputs: a residual add, a concatenation, a gate."""
    kind = node.function.__name__
    if kind == "Add":
        blocks["residual adds"] += 1
    elif kind == "Cat":
        ancestors = _strict_ancestors(parents)
        if any(_key(p) in ancestors for p in parents):
            blocks["dense concatenation"] += 1
        else:
            blocks["inception branches"] += 1
    elif kind == "Mul":
        blocks["SE gates" if _broadcasting(node) else "multiplicative gates"] += 1


def _broadcasting(node: Context) -> bool:
    """Whether the Mul broadcast one operand (a per-channel gate) over the other."""
    arrays = [a for a in node.saved_tensors if hasattr(a, "shape")]
    return len(arrays) == 2 and tuple(arrays[0].shape) != tuple(arrays[1].shape)


def _strict_ancestors(nodes: list) -> set[int]:
    seen: set[int] = set()
    stack = [p for node in nodes for p in _parents(node)]
    while stack:
        node = stack.pop()
        if _key(node) in seen:
            continue
        seen.add(_key(node))
        stack.extend(_parents(node))
    return seen


def _human(n: int) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return str(n)


def format_comparison(a: ModelFacts, b: ModelFacts) -> str:
    def row(label, va, vb):
        return f"{label:26s} {va:>22s} {vb:>22s}"

    lines = [row("", a.name, b.name),
             row("input", "x".join(map(str, a.input_size)), "x".join(map(str, b.input_size))),
             row("depth (weight layers)", str(a.depth), str(b.depth)),
             row("conv + linear layers", str(a.weight_layers), str(b.weight_layers)),
             row("parameters", f"{a.parameters:,}", f"{b.parameters:,}"),
             row("multiply-adds / image", _human(a.macs), _human(b.macs)),
             row("receptive field", f"{a.receptive_field} px", f"{b.receptive_field} px")]
    for block in BLOCKS:
        if a.blocks.get(block) or b.blocks.get(block):
            lines.append(row(block, str(a.blocks.get(block, "-")), str(b.blocks.get(block, "-"))))
    comparison = Comparison(a, b)
    lines.append(f"new in {b.name}: " + (", ".join(comparison.new_in_b) or "no new blocks"))
    if comparison.new_in_a:
        lines.append(f"in {a.name} only: " + ", ".join(comparison.new_in_a))
    return "\n".join(lines)


def compare(name_a: str, name_b: str, verbose: bool = True) -> Comparison:
    """Analyze two registered architectures and (by default) print them side by side.

    This is what ``minitorch-cv compare-models A B`` runs. Each model sees one image of its
    natural size (``models.input_size(name)``), so the 224x224 ones take a few seconds.
    """
    comparison = Comparison(analyze(name_a), analyze(name_b))
    if verbose:
        print(comparison)
    return comparison


def compare_command(name_a: str, name_b: str) -> int:
    """``minitorch-cv compare-models A B``: print the comparison; on an unknown name print the
    known ones instead. Returns the exit status (0, or 2 for an unknown name)."""
    try:
        compare(name_a, name_b)
    except KeyError as error:
        print(f"minitorch-cv compare-models: {error.args[0]}")
        return 2
    return 0
