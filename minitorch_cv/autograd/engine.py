"""The backward pass: an iterative topological walk over the recorded Contexts.

Why a topological order: a node may feed several later nodes (``b = a + a`` uses ``a`` twice,
a residual block reuses its input). Its gradient is the *sum* over all of them, so a node may
only run its ``backward`` after every consumer has added its share. Visiting nodes in reverse
topological order guarantees that. The sort is iterative (an explicit stack), so a chain of
50,000 ops does not hit Python's recursion limit.
"""

from __future__ import annotations

from .. import kernels
from .function import Context


def _sum(previous, grad, device):
    """Two consumers' gradients of one node, added (a residual block's input has two): the
    device's parallel ``add`` where it has one (the CPU's, for large same-shape arrays)."""
    K = kernels.for_device(device)
    return K.add(previous, grad) if hasattr(K, "add") else previous + grad


def _topological_order(root: Context) -> list[Context]:
    """Nodes reachable from ``root``, each after all nodes that consume its output."""
    order: list[Context] = []
    visited: set[int] = {id(root)}
    stack: list[tuple[Context, int]] = [(root, 0)]
    while stack:
        node, next_parent = stack.pop()
        parents = node.parents
        # advance to the next unvisited parent that is itself a node (leaves need no sort)
        while next_parent < len(parents):
            parent = parents[next_parent]
            next_parent += 1
            if isinstance(parent, Context) and id(parent) not in visited:
                visited.add(id(parent))
                stack.append((node, next_parent))
                stack.append((parent, 0))
                break
        else:
            order.append(node)  # post-order: all parents done
    order.reverse()  # root first, leaves' producers last
    return order


def _check_versions(node: Context) -> None:
    for counter, version, shape in node._saved_versions:
        if counter[0] != version:
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: a tensor of shape {list(shape)} saved by {node.name()} is at "
                f"version {counter[0]}; expected version {version} instead. Hint: compute with "
                "an out-of-place op (x = x + y instead of x += y, inplace=False) or clone() the "
                "tensor before changing it"
            )


def run_backward(root_tensor, grad_root, retain_graph: bool = False) -> None:
    """Propagate ``grad_root`` (an array shaped like ``root_tensor``) to every leaf."""
    root = root_tensor.grad_fn
    if root is None:  # a leaf that requires grad: its gradient is the seed itself
        root_tensor._accumulate(grad_root)
        return
    grads: dict[int, object] = {id(root): grad_root}
    for node in _topological_order(root):
        grad_output = grads.pop(id(node), None)
        if grad_output is None:
            continue  # no path from the root carries a gradient here
        if node._released:
            raise RuntimeError(
                "trying to run backward through the graph a second time (its saved arrays were "
                "freed); call backward(retain_graph=True) the first time, or recompute the forward"
            )
        _check_versions(node)
        if node._retained is not None:
            retained = node._retained()
            if retained is not None:
                retained._accumulate(grad_output)
        input_grads = node.function.backward(node, grad_output)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        if len(input_grads) != len(node.parents):
            raise RuntimeError(
                f"{node.function.__name__}.backward returned {len(input_grads)} gradients for "
                f"{len(node.parents)} inputs"
            )
        for parent, grad in zip(node.parents, input_grads):
            if parent is None or grad is None:
                continue
            if isinstance(parent, Context):
                key = id(parent)
                previous = grads.get(key)
                grads[key] = grad if previous is None else _sum(previous, grad, parent.device)
            else:
                parent._accumulate(grad)  # a leaf Tensor
        if not retain_graph:
            node.saved_tensors = ()
            node._released = True
