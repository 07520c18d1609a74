"""Exercise 01: the backward order of a graph (a topological sort, without recursion)."""

from __future__ import annotations

from hypothesis import strategies as st

from ...autograd.engine import _topological_order
from ...autograd.function import Context
from ..core import Example, Exercise, StageFailure

DOC = '''The order in which backward visits the nodes of a graph: a topological sort.

Lecture 00 (Autograd), "Why a topological order" and "The a + a case". The forward pass
records a graph: each node knows the nodes it was computed from (its parents). A node's
gradient is the SUM over every node that used it, so a node may only run its backward after
every node that consumes it has added its share. Order the nodes so that every node comes
before all of its parents: root (the loss) first.

Input:
    root     the name of the output node (str)
    parents  dict: node name -> list of the names of its inputs (a leaf maps to [])
             a name may appear twice in one list: b = a + a has parents {"b": ["a", "a"]}
Output:
    a list of the nodes reachable from root, each exactly ONCE, every node before each of
    its parents.

Do not use recursion: a chain of 5,000 operations (an unrolled RNN, a deep network) must
not hit Python's recursion limit (1,000).

Worked example: L = a * b with b = exp(a) is {"L": ["a", "b"], "b": ["a"], "a": []}; the
only valid order is ["L", "b", "a"] (a gets its gradient from L AND from b, so it comes last).
'''

HINTS = (
    "A depth-first search that appends a node AFTER all its parents are done (post-order) "
    "gives parents before children; reverse that list at the end.",
    "Keep a `visited` set so a node reached twice (a + a, a residual connection) is listed "
    "once. Put a node into `visited` when you first push it.",
    "Without recursion: a stack of (node, index of the next parent to look at). Pop; if the "
    "node has an unvisited parent left, push (node, next index) back and then (parent, 0); "
    "otherwise append the node to `order`. Return order[::-1].",
)


def topo_sort(root, parents):
    """The engine's own sort, run on Contexts that mirror the dictionary."""
    nodes = {}

    def context(name):
        if name not in nodes:
            nodes[name] = Context(object, "cpu", None)
            nodes[name].name_in_exercise = name
        return nodes[name]

    stack, seen = [root], {root}
    while stack:
        name = stack.pop()
        node = context(name)
        node.parents = tuple(context(p) for p in parents.get(name, []))
        for p in parents.get(name, []):
            if p not in seen:
                seen.add(p)
                stack.append(p)
    return [n.name_in_exercise for n in _topological_order(context(root))]


def _chain(n):
    graph = {f"v{i}": [f"v{i - 1}"] for i in range(1, n)}
    graph["v0"] = []
    return graph


def examples():
    chain = _chain(5000)
    return [
        Example("topo_sort", dict(root="L", parents={"L": ["a", "b"], "b": ["a"], "a": []}),
                ["L", "b", "a"], "L = a * b, b = exp(a): a gets gradient from L and b, last"),
        Example("topo_sort", dict(root="b", parents={"b": ["a", "a"], "a": []}), ["b", "a"],
                "b = a + a: a is listed ONCE (its two contributions add up)"),
        Example("topo_sort", dict(root="v4999", parents=chain),
                [f"v{i}" for i in range(4999, -1, -1)],
                "a chain of 5,000 nodes (recursion would exceed Python's limit of 1,000)"),
    ]


@st.composite
def configs(draw):
    """A random DAG: node i's parents are drawn from nodes 0..i-1 (repeats allowed)."""
    n = draw(st.integers(1, 9))
    graph = {f"n{i}": [f"n{j}" for j in draw(st.lists(st.integers(0, i - 1), max_size=3))]
             if i else [] for i in range(n)}
    return dict(root=f"n{n - 1}", parents=graph)


def property_body(exercise, student, config):
    root, graph = config["root"], config["parents"]
    call = ("\n  the call (paste it to reproduce):\n    topo_sort(root=" + repr(root)
            + ", parents=" + repr(graph) + ")")
    try:
        order = list(student["topo_sort"](root, {k: list(v) for k, v in graph.items()}))
    except Exception as exc:  # noqa: BLE001
        from ..checker import student_error  # noqa: PLC0415

        raise StageFailure(f"{student_error(exc, 'topo_sort')}{call}") from None
    reachable = set(topo_sort(root, graph))
    where = {}
    for k, name in enumerate(order):
        if name in where:
            raise StageFailure(f"{name!r} appears twice in your order {order}{call}")
        where[name] = k
    if set(order) != reachable:
        raise StageFailure(f"your order {order} should hold exactly the reachable nodes "
                           f"{sorted(reachable)}{call}")
    for node in order:
        for parent in graph[node]:
            if where[parent] < where[node]:
                raise StageFailure(f"{parent!r} comes before {node!r}, which uses it: {order}"
                                   f"{call}")


def plugin(student):
    """The engine's backward walks the graph in the order the student's sort returns."""
    from ...autograd import engine  # noqa: PLC0415
    from ..plugin import compare_training  # noqa: PLC0415

    def order(root):
        nodes, parents, stack = {}, {}, [root]
        while stack:
            node = stack.pop()
            key = f"node{id(node)}"
            if key in nodes:
                continue
            nodes[key] = node
            inputs = [p for p in node.parents if isinstance(p, Context)]
            parents[key] = [f"node{id(p)}" for p in inputs]
            stack.extend(inputs)
        return [nodes[key] for key in student["topo_sort"](f"node{id(root)}", parents)]

    return compare_training(engine, "_topological_order", order, "topological sort")


EXERCISE = Exercise(
    name="topo_sort", order=1, lecture="00 Autograd", lesson="00_autograd",
    title="the backward order of a graph (topological sort)",
    functions={"topo_sort": "root, parents"}, doc=DOC, hints=HINTS,
    solution={"topo_sort": topo_sort}, examples=examples, imports="",
    strategy=configs, property_body=property_body, max_examples=60, plugin=plugin,
)
