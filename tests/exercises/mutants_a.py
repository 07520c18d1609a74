"""Typical student bugs (mutants), part A: autograd, losses, optimizers, dropout, batch norm.

Each entry: (exercise, description, student functions, the stage that must catch it).
"""

from __future__ import annotations

import numpy as np

from minitorch_cv.exercises import get

S = {e: get(e).solution for e in (
    "topo_sort", "sum_to", "linear", "cross_entropy", "mse_loss", "bce_with_logits",
    "sgd_momentum", "adam", "dropout", "batch_norm_forward", "batch_norm_backward")}


def with_(name, **changes):
    return {**S[name], **changes}


# ---------------------------------------------------------------- autograd
def topo_preorder(root, parents):
    order, seen, stack = [], {root}, [root]
    while stack:
        node = stack.pop()
        order.append(node)  # appended when reached, not after its consumers
        for p in parents[node]:
            if p not in seen:
                seen.add(p)
                stack.append(p)
    return order


def topo_recursive(root, parents):
    order, seen = [], set()

    def visit(node):
        seen.add(node)
        for p in parents[node]:
            if p not in seen:
                visit(p)
        order.append(node)

    visit(root)
    return order[::-1]


def topo_no_visited(root, parents):
    order, stack = [], [(root, 0)]
    while stack:
        node, k = stack.pop()
        if k < len(parents[node]):
            stack.append((node, k + 1))
            stack.append((parents[node][k], 0))
        else:
            order.append(node)
    return order[::-1]


def sum_to_leading_only(grad, shape):
    return grad.sum(axis=tuple(range(grad.ndim - len(shape))))


def sum_to_no_keepdims(grad, shape):
    grad = grad.sum(axis=tuple(range(grad.ndim - len(shape))))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    return grad.sum(axis=axes)


def sum_to_sums_everything(grad, shape):
    return np.full(shape, grad.sum())


def linear_no_bias(x, weight, bias):
    return x @ weight.T


def linear_grad_b_mean(grad_output, x, weight):
    return grad_output @ weight, grad_output.T @ x, grad_output.mean(axis=0)


def sgd_plus(param, grad, lr):
    return param + lr * grad


def linear_grad_x_wrong(grad_output, x, weight):
    return grad_output @ weight * 0.5, grad_output.T @ x, grad_output.sum(axis=0)


# ---------------------------------------------------------------- losses
def ce_no_shift(logits, target):
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return -np.log(p[np.arange(len(target)), target]).mean()


def ce_sum(logits, target):
    return S["cross_entropy"]["cross_entropy_forward"](logits, target) * len(target)


def ce_backward_no_n(grad_loss, logits, target):
    return S["cross_entropy"]["cross_entropy_backward"](grad_loss, logits, target) * len(target)


def mse_backward_no_two(grad_loss, prediction, target):
    return grad_loss * (prediction - target) / prediction.size


def mse_sum(prediction, target):
    return ((prediction - target) ** 2).sum()


def mse_backward_sign(grad_loss, prediction, target):
    return grad_loss * 2 * (target - prediction) / prediction.size


def bce_naive(logits, target):
    p = 1 / (1 + np.exp(-logits))
    return -(target * np.log(p) + (1 - target) * np.log(1 - p)).mean()


def bce_backward_no_m(grad_loss, logits, target):
    return grad_loss * (1 / (1 + np.exp(-logits)) - target)


def bce_backward_sign(grad_loss, logits, target):
    return grad_loss * (target - 1 / (1 + np.exp(-logits))) / logits.size


# ---------------------------------------------------------------- optimizers
def sgd_no_wd(param, grad, buf, lr, momentum, weight_decay):
    buf = grad.copy() if buf is None else momentum * buf + grad
    return param - lr * buf, buf


def sgd_dampened(param, grad, buf, lr, momentum, weight_decay):
    d = grad + weight_decay * param
    buf = d if buf is None else momentum * buf + (1 - momentum) * d
    return param - lr * buf, buf


def sgd_decoupled(param, grad, buf, lr, momentum, weight_decay):
    buf = grad.copy() if buf is None else momentum * buf + grad
    return param - lr * buf - lr * weight_decay * param, buf


def _adam(param, grad, m, v, step, lr, betas, eps, wd, correct=True, square=True,
          decoupled=False):
    b1, b2 = betas
    g = grad if decoupled else grad + wd * param
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * (g * g if square else np.abs(g))
    mh, vh = (m / (1 - b1**step), v / (1 - b2**step)) if correct else (m, v)
    new = param - lr * mh / (np.sqrt(vh) + eps)
    if decoupled:
        new = new - lr * wd * param
    return new, m, v


def adam_no_correction(param, grad, exp_avg, exp_avg_sq, step, lr, betas, eps, weight_decay):
    return _adam(param, grad, exp_avg, exp_avg_sq, step, lr, betas, eps, weight_decay,
                 correct=False)


def adam_abs(param, grad, exp_avg, exp_avg_sq, step, lr, betas, eps, weight_decay):
    return _adam(param, grad, exp_avg, exp_avg_sq, step, lr, betas, eps, weight_decay,
                 square=False)


def adam_decoupled(param, grad, exp_avg, exp_avg_sq, step, lr, betas, eps, weight_decay):
    return _adam(param, grad, exp_avg, exp_avg_sq, step, lr, betas, eps, weight_decay,
                 decoupled=True)


# ---------------------------------------------------------------- dropout
def dropout_no_scale(x, p, training, u):
    if not training:
        return x.copy(), np.ones_like(x)
    mask = (u >= p).astype(x.dtype)
    return x * mask, mask


def dropout_keep_below(x, p, training, u):
    if not training:
        return x.copy(), np.ones_like(x)
    mask = (u < p).astype(x.dtype)
    return x * mask / (1 - p), mask


def dropout_eval_drops(x, p, training, u):
    mask = (u >= p).astype(x.dtype)
    return x * mask / (1 - p), mask


def dropout_backward_no_scale(grad_output, mask, p):
    return grad_output * mask


# ---------------------------------------------------------------- batch norm
def _bn_forward(x, gamma, beta, rm, rv, training, momentum, eps, ddof=0, run_ddof=1,
                flip=False, eval_batch=False):
    axes = (0, 2, 3)
    M = x.size // x.shape[1]
    if training or eval_batch:
        mean, var = x.mean(axes), x.var(axes, ddof=ddof)
        biased = x.var(axes)
    else:
        mean, var = rm, rv
    out = gamma[None, :, None, None] * (x - mean[None, :, None, None]) / np.sqrt(
        var[None, :, None, None] + eps) + beta[None, :, None, None]
    if training:
        a = 1 - momentum if flip else momentum
        rm = (1 - a) * rm + a * mean
        rv = (1 - a) * rv + a * (biased * M / (M - run_ddof) if run_ddof else biased)
    return out, np.array(rm, dtype=float), np.array(rv, dtype=float)


def bn_unbiased_normalise(x, gamma, beta, running_mean, running_var, training, momentum, eps):
    return _bn_forward(x, gamma, beta, running_mean, running_var, training, momentum, eps,
                       ddof=1)


def bn_biased_running(x, gamma, beta, running_mean, running_var, training, momentum, eps):
    return _bn_forward(x, gamma, beta, running_mean, running_var, training, momentum, eps,
                       run_ddof=0)


def bn_momentum_flipped(x, gamma, beta, running_mean, running_var, training, momentum, eps):
    return _bn_forward(x, gamma, beta, running_mean, running_var, training, momentum, eps,
                       flip=True)


def bn_eval_uses_batch(x, gamma, beta, running_mean, running_var, training, momentum, eps):
    return _bn_forward(x, gamma, beta, running_mean, running_var, training, momentum, eps,
                       eval_batch=True)


def _bn_backward(grad_output, x, gamma, eps, mean_term=True, var_term=True, gamma_sum=False):
    axes = (0, 2, 3)
    M = x.size // x.shape[1]
    mean, var = x.mean(axes, keepdims=True), x.var(axes, keepdims=True)
    invstd = 1 / np.sqrt(var + eps)
    xhat = (x - mean) * invstd
    g = grad_output
    sum_g, sum_gx = g.sum(axes, keepdims=True), (g * xhat).sum(axes, keepdims=True)
    gx = M * g - (sum_g if mean_term else 0) - (xhat * sum_gx if var_term else 0)
    gx = gamma[None, :, None, None] * invstd / M * gx
    ggamma = sum_g.ravel() if gamma_sum else sum_gx.ravel()
    return gx, ggamma, sum_g.ravel()


def bn_backward_no_mean_terms(grad_output, x, gamma, eps):
    return _bn_backward(grad_output, x, gamma, eps, mean_term=False, var_term=False)


def bn_backward_no_var_term(grad_output, x, gamma, eps):
    return _bn_backward(grad_output, x, gamma, eps, var_term=False)


def bn_backward_gamma_is_sum_g(grad_output, x, gamma, eps):
    return _bn_backward(grad_output, x, gamma, eps, gamma_sum=True)


MUTANTS_A = [
    ("topo_sort", "pre-order DFS (a node listed before all its consumers are)",
     {"topo_sort": topo_preorder}, "properties"),
    ("topo_sort", "recursive DFS (hits the recursion limit on a 5,000-node chain)",
     {"topo_sort": topo_recursive}, "examples"),
    ("topo_sort", "no visited set (a reused node is listed twice)",
     {"topo_sort": topo_no_visited}, "examples"),
    ("sum_to", "sums only the leading axes", {"sum_to": sum_to_leading_only}, "examples"),
    ("sum_to", "sums stretched axes without keepdims", {"sum_to": sum_to_no_keepdims},
     "examples"),
    ("sum_to", "sums everything into every element", {"sum_to": sum_to_sums_everything},
     "examples"),
    ("linear", "forward forgets the bias", with_("linear", linear_forward=linear_no_bias),
     "examples"),
    ("linear", "grad_bias is the mean over the batch, not the sum",
     with_("linear", linear_backward=linear_grad_b_mean), "properties"),
    ("linear", "update adds the gradient", with_("linear", sgd_update=sgd_plus), "examples"),
    ("linear", "grad_x halved", with_("linear", linear_backward=linear_grad_x_wrong),
     "examples"),
    ("cross_entropy", "softmax without the max shift",
     with_("cross_entropy", cross_entropy_forward=ce_no_shift), "examples"),
    ("cross_entropy", "sum over the batch instead of the mean",
     with_("cross_entropy", cross_entropy_forward=ce_sum), "examples"),
    ("cross_entropy", "backward without the 1/N",
     with_("cross_entropy", cross_entropy_backward=ce_backward_no_n), "properties"),
    ("mse_loss", "backward without the factor 2",
     with_("mse_loss", mse_backward=mse_backward_no_two), "examples"),
    ("mse_loss", "sum instead of mean", with_("mse_loss", mse_forward=mse_sum), "examples"),
    ("mse_loss", "backward with the sign flipped",
     with_("mse_loss", mse_backward=mse_backward_sign), "examples"),
    ("bce_with_logits", "log(sigmoid(z)): overflows for large logits",
     with_("bce_with_logits", bce_forward=bce_naive), "examples"),
    ("bce_with_logits", "backward without 1/M",
     with_("bce_with_logits", bce_backward=bce_backward_no_m), "examples"),
    ("bce_with_logits", "backward y - sigmoid (sign)",
     with_("bce_with_logits", bce_backward=bce_backward_sign), "examples"),
    ("sgd_momentum", "weight decay forgotten", {"sgd_momentum_step": sgd_no_wd}, "examples"),
    ("sgd_momentum", "dampened buffer (1 - momentum) * d", {"sgd_momentum_step": sgd_dampened},
     "examples"),
    ("sgd_momentum", "decoupled weight decay (not torch's SGD)",
     {"sgd_momentum_step": sgd_decoupled}, "examples"),
    ("adam", "no bias correction", {"adam_step": adam_no_correction}, "examples"),
    ("adam", "v averages |g| instead of g^2", {"adam_step": adam_abs}, "examples"),
    ("adam", "AdamW's decoupled decay instead of Adam's L2", {"adam_step": adam_decoupled},
     "properties"),
    ("dropout", "no 1/(1-p) scale", with_("dropout", dropout_forward=dropout_no_scale),
     "examples"),
    ("dropout", "keeps u < p", with_("dropout", dropout_forward=dropout_keep_below),
     "examples"),
    ("dropout", "drops in eval mode too", with_("dropout", dropout_forward=dropout_eval_drops),
     "examples"),
    ("dropout", "backward without the scale",
     with_("dropout", dropout_backward=dropout_backward_no_scale), "examples"),
    ("batch_norm_forward", "normalises with the unbiased variance",
     {"batch_norm_forward": bn_unbiased_normalise}, "examples"),
    ("batch_norm_forward", "biased variance in running_var",
     {"batch_norm_forward": bn_biased_running}, "examples"),
    ("batch_norm_forward", "momentum the wrong way round (90% new)",
     {"batch_norm_forward": bn_momentum_flipped}, "examples"),
    ("batch_norm_forward", "eval mode uses the batch statistics",
     {"batch_norm_forward": bn_eval_uses_batch}, "examples"),
    ("batch_norm_backward", "missing both mean terms",
     {"batch_norm_backward": bn_backward_no_mean_terms}, "examples"),
    ("batch_norm_backward", "missing the variance term",
     {"batch_norm_backward": bn_backward_no_var_term}, "examples"),
    ("batch_norm_backward", "grad_gamma = sum(g)",
     {"batch_norm_backward": bn_backward_gamma_is_sum_g}, "examples"),
]
