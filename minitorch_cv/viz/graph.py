"""The computational graph of an expression, drawn with matplotlib (no graphviz needed).

``result.grad_fn`` is a Context; its ``parents`` hold, for each input of the op, a Context (the
input was computed), a leaf Tensor that requires grad, or None (a constant). Walking ``parents``
from the result visits every node backward passes through.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..autograd import Tensor
from ._figure import plt, save


@dataclass
class GraphNode:
    key: int                # id() of the Context or leaf Tensor
    label: str
    kind: str               # "op", "leaf" or "output"
    parents: list[int] = field(default_factory=list)
    depth: int = 0          # longest distance from the output


def build_graph(output: Tensor, names: dict | None = None) -> dict[int, GraphNode]:
    """Every node reachable from ``output`` through ``grad_fn.parents``, with edges and depth.

    Args:
        output: the tensor whose graph to walk (usually a scalar loss).
        names: optional ``{tensor: "x"}`` labels for leaves (and the output).

    A node reached twice (``b = a + a``) is one node with two edges to its child: exactly the
    case where backward must add both contributions.
    """
    names = {id(k): v for k, v in (names or {}).items()}
    nodes: dict[int, GraphNode] = {}

    def leaf_label(t: Tensor) -> str:
        name = names.get(id(t), "leaf")
        return f"{name}\n{_shape_text(t.shape)}"

    root = output.grad_fn
    if root is None:
        raise ValueError("this tensor has no grad_fn: it was not computed from a tensor that "
                         "requires grad (or it was computed under no_grad())")
    out_label = names.get(id(output), "output")
    nodes[-1] = GraphNode(-1, f"{out_label}\n{_shape_text(output.shape)}", "output", [id(root)])
    stack = [root]
    while stack:  # iterative: deep graphs must not hit the recursion limit
        node = stack.pop()
        if id(node) in nodes:
            continue
        if isinstance(node, Tensor):
            nodes[id(node)] = GraphNode(id(node), leaf_label(node), "leaf")
            continue
        parents = [p for p in node.parents if p is not None]
        nodes[id(node)] = GraphNode(id(node), node.name(), "op", [id(p) for p in parents])
        stack.extend(p for p in parents if id(p) not in nodes)
    _assign_depths(nodes)
    return nodes


def _shape_text(shape) -> str:
    return "scalar" if len(shape) == 0 else "x".join(str(s) for s in shape)


def _assign_depths(nodes: dict[int, GraphNode]) -> None:
    """depth = longest path from the output, so every edge points to a deeper row."""
    children_count = {k: 0 for k in nodes}
    for node in nodes.values():
        for p in node.parents:
            children_count[p] += 1
    # Kahn's order from the output: a node is placed once all its children are
    ready = [k for k, c in children_count.items() if c == 0]
    while ready:
        key = ready.pop()
        for p in nodes[key].parents:
            nodes[p].depth = max(nodes[p].depth, nodes[key].depth + 1)
            children_count[p] -= 1
            if children_count[p] == 0:
                ready.append(p)


def topological_order(nodes: dict[int, GraphNode]) -> list[int]:
    """Node keys in the order backward visits them (output first, every node after its users)."""
    return [k for k, _ in sorted(nodes.items(), key=lambda item: (item[1].depth, item[0]))]


def plot_graph(output: Tensor, path, names: dict | None = None, title: str | None = None):
    """Draw the graph of ``output`` top (result) to bottom (inputs); return the PNG path.

    Ops are blue boxes named ``<Op>Backward``, leaves green, the output orange; an arrow goes
    from each input to the op that used it (the direction of the forward pass). Edge counts
    above 1 (``a + a``) are written on the arrow.
    """
    nodes = build_graph(output, names)
    max_depth = max(n.depth for n in nodes.values())
    rows: dict[int, list[int]] = {}
    for key in topological_order(nodes):
        rows.setdefault(nodes[key].depth, []).append(key)
    position = {}
    for depth, keys in rows.items():
        for i, key in enumerate(keys):
            position[key] = ((i + 1) / (len(keys) + 1), 1.0 - depth / max(max_depth, 1))
    width = max(6.0, 2.2 * max(len(k) for k in rows.values()))
    fig, ax = plt.subplots(figsize=(width, 1.3 * (max_depth + 1) + 0.8))
    colours = {"op": "#cfe2f3", "leaf": "#d9ead3", "output": "#fce5cd"}
    boxes = {}
    for key, node in nodes.items():
        x, y = position[key]
        boxes[key] = ax.text(x, y, node.label, ha="center", va="center", fontsize=10,
                             bbox={"boxstyle": "round,pad=0.4", "fc": colours[node.kind],
                                   "ec": "0.3"})
    for key, node in nodes.items():
        counts: dict[int, int] = {}
        for p in node.parents:
            counts[p] = counts.get(p, 0) + 1
        for p, count in counts.items():
            skip = nodes[p].depth - node.depth > 1  # an edge past other rows: curve it
            # from the input's box (top edge) to the user's box (bottom edge)
            ax.annotate(
                "", xy=(0.5, 0.0), xycoords=boxes[key], xytext=(0.5, 1.0),
                textcoords=boxes[p],
                arrowprops={"arrowstyle": "-|>", "color": "0.35", "lw": 1.2,
                            "shrinkA": 2, "shrinkB": 2,
                            "connectionstyle": "arc3,rad=-0.5" if skip else "arc3"})
            if count > 1:
                x, y = position[key]
                px, py = position[p]
                ax.text((x + px) / 2 + 0.03, (y + py) / 2, f"x{count}", color="crimson",
                        fontsize=11, fontweight="bold")
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.15, 1.15)
    ax.axis("off")
    ax.set_title(title or "computational graph (arrows: forward; backward runs top-down)")
    return save(fig, path)


__all__ = ["GraphNode", "build_graph", "plot_graph", "topological_order"]
