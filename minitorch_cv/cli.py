"""The command line: ``minitorch-cv COMMAND`` (also ``python -m minitorch_cv COMMAND``)."""

from __future__ import annotations

import argparse
import sys


def _demo(args: argparse.Namespace) -> int:
    """Train a two-layer MLP on two interleaved spirals with hand-written SGD."""
    import numpy as np

    import minitorch_cv as mt

    mt.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    n = 200
    theta = np.sqrt(rng.random(n)) * 3 * np.pi
    sign = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    points = np.stack([sign * theta * np.cos(theta), sign * theta * np.sin(theta)], 1) / 10
    x = mt.tensor(points + rng.normal(0, 0.02, points.shape), dtype=mt.float32)
    y = mt.tensor((sign > 0).astype(np.int64))
    w1 = (mt.randn(2, 64) * 0.7).requires_grad_()
    b1 = mt.zeros(64, requires_grad=True)
    w2 = (mt.randn(64, 2) * 0.1).requires_grad_()
    b2 = mt.zeros(2, requires_grad=True)
    params = [w1, b1, w2, b2]
    for step in range(args.steps + 1):
        logits = (x @ w1 + b1).tanh() @ w2 + b2
        loss = -logits.log_softmax(dim=1)[mt.arange(n), y].mean()
        for p in params:
            p.grad = None
        loss.backward()
        with mt.no_grad():
            for p in params:
                p -= args.lr * p.grad
        if step % (args.steps // 10) == 0:
            accuracy = (logits.argmax(dim=1) == y).float().mean().item()
            print(f"step {step:5d}  loss {loss.item():.4f}  accuracy {accuracy:.3f}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="minitorch-cv", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("doctor", help="what is installed and usable (numba, cupy, CUDA, BLAS)")
    demo = sub.add_parser("demo", help="train a small MLP and print its loss falling")
    demo.add_argument("--steps", type=int, default=2000)
    demo.add_argument("--lr", type=float, default=0.5)
    demo.add_argument("--seed", type=int, default=0)
    from .train.cli_commands import add_summary_parser, add_train_parser  # noqa: PLC0415

    add_train_parser(sub)  # each sets args.handler
    add_summary_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "doctor":
        from .backend import doctor

        doctor()
        return 0
    if args.command == "demo":
        return _demo(args)
    if getattr(args, "handler", None) is not None:
        return args.handler(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
