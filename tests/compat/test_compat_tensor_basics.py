"""Tensor and function basics (issue 13, item 7): programs in the idiom of the d2l book, the
official tutorials and cs231n, run on both libraries."""

import numpy as np

from minitorch_cv.testing.compat import inputs, run_on_both, same_weights


def _dtype(t) -> str:
    return str(t.dtype).replace("torch.", "")


def test_d2l_data_manipulation():
    def program(torch):
        x = torch.arange(12, dtype=torch.float32)
        X = x.reshape(3, 4)
        Y = torch.tensor([[2.0, 1, 4, 3], [1, 2, 3, 4], [4, 3, 2, 1]])
        a = torch.tensor([3.5])
        A = X.numpy()
        B = torch.from_numpy(A)
        return {
            "numel": x.numel(), "shape": tuple(X.shape), "size": tuple(X.size()),
            "cat0": torch.cat((X, Y), dim=0), "cat1": torch.cat((X, Y), dim=1),
            "eq": X == Y, "sum": X.sum(), "broadcast": torch.arange(3).reshape((3, 1))
            + torch.arange(2).reshape((1, 2)),
            "slice": X[-1], "rows": X[1:3], "ops": [x.exp()[:3], (x ** 2)[:3], (x // 3)[:5],
                                                   (x % 5)[:6], abs(-x)[:3]],
            "zeros_like": torch.zeros_like(Y), "same_memory": B.sum() == X.sum(),
            "item": [a.item(), float(a), int(a)], "type": type(A).__name__,
        }

    run_on_both(program)


def test_classification_accuracy_the_tutorial_way():
    def program(torch):
        F = torch.nn.functional
        outputs = torch.from_numpy(inputs(0, (8, 5)))
        labels = torch.tensor([0, 1, 2, 3, 4, 0, 1, 2])
        _, predicted = torch.max(outputs.data, 1)
        correct = (predicted == labels).sum().item()
        probabilities = F.softmax(outputs, dim=1)
        top = probabilities.topk(3)
        loss = F.cross_entropy(outputs, labels)
        return {"predicted": predicted, "correct": correct, "accuracy": correct / len(labels),
                "argmax": outputs.argmax(dim=1), "max_values": outputs.max(dim=1).values,
                "top_values": top.values, "top_indices": top.indices,
                "printed": f"loss {loss:.4f}, acc {100 * correct / labels.size(0):.1f}%",
                "loss_item": round(loss.item(), 5),
                "sorted": torch.sort(outputs[0], descending=True).indices}

    run_on_both(program)


def test_tensor_methods_a_course_uses():
    def program(torch):
        x = torch.from_numpy(inputs(1, (4, 6)))
        first, second = x.chunk(2, dim=1)
        parts = x.split([2, 4], dim=1)
        mask = x > 0
        return {
            "chunk": [first, second], "split": list(parts), "repeat": x[:2, :2].repeat(2, 3),
            "masked": x.masked_fill(mask, 0.0), "t": x.t(), "norm": x.norm(),
            "row_norms": x.norm(dim=1), "contiguous": x.t().contiguous().view(-1),
            "view": x.view(x.size(0), -1), "flatten": torch.flatten(x.reshape(2, 2, 6), 1),
            "expand": x[0].unsqueeze(0).expand(3, 6), "stack": torch.stack([x[0], x[1]], dim=1),
            "compare": [x.eq(0.5), x.ne(0), x.lt(0), x.le(0), x.gt(0), x.ge(0)],
            "clamp": x.clamp(min=-0.5, max=0.5), "where": torch.where(mask, x, torch.zeros_like(x)),
            "abs": x.abs().sum(), "any_all": [bool(mask.any()), bool(mask.all())],
            "numpy_aliases": [x.sum(axis=1, keepdims=True), x.mean(axis=0),
                              torch.zeros(size=(2, 3)), x.max(axis=1).values],
            "new": [x.new_zeros(2, 3), x.new_ones((2,)), x.new_full((2,), 3.0),
                    x.new_tensor([1, 2])],
            "type_as": torch.tensor([1, 2]).type_as(x), "dim": [x.dim(), x.ndim, x.ndimension()],
            "flip_roll": [x.flip(0), x.roll(2, 1)], "triu": x.triu(), "cumsum": x.cumsum(1),
            "index_select": x.index_select(0, torch.tensor([3, 0])),
            "gather": x.gather(1, torch.tensor([[0], [1], [2], [3]])),
        }

    run_on_both(program)


def test_python_protocols():
    def program(torch):
        n = torch.tensor(3)
        x = torch.arange(10)
        rows = [row.sum().item() for row in torch.arange(6).reshape(3, 2)]
        return {"range": list(range(n)), "list_index": [10, 20, 30, 40][n],
                "slice": x[n:], "format": f"{torch.tensor(2.5):.2f} {torch.tensor(7):03d}",
                "iter": rows, "contains": [2 in x, 12 in x], "len": len(x),
                "bool": bool(torch.tensor([1])), "neg_index": x[-n]}

    run_on_both(program)


def test_maths_for_positional_encodings_and_attention():
    def program(torch):
        F = torch.nn.functional
        position = torch.arange(6, dtype=torch.float32).reshape(-1, 1)
        div = torch.pow(10000, torch.arange(0, 8, 2, dtype=torch.float32) / 8)
        encoding = torch.cat([torch.sin(position / div), torch.cos(position / div)], dim=1)
        q = torch.from_numpy(inputs(2, (2, 3, 4)))
        k = torch.from_numpy(inputs(3, (2, 5, 4)))
        scores = torch.bmm(q, k.transpose(1, 2)) / np.sqrt(4)
        weights = F.softmax(scores, dim=-1)
        ys, xs = torch.meshgrid(torch.arange(3), torch.arange(4), indexing="ij")
        return {"encoding": encoding, "scores": scores, "weights": weights, "grid": [ys, xs],
                "one_hot": F.one_hot(torch.tensor([0, 2, 1]), num_classes=4),
                "one_hot_inferred": F.one_hot(torch.tensor([[1], [3]])),
                "normal": [tuple(torch.normal(0, 0.01, size=(3, 2)).shape),
                           _dtype(torch.normal(0, 0.01, size=(3, 2)))],
                "mm": torch.mm(q[0], k[0].t()), "outer": torch.outer(q[0, 0], k[0, 0])}

    run_on_both(program, rtol=1e-5, atol=1e-5)


def test_d2l_softmax_regression_from_scratch():
    def program(torch):
        X = torch.from_numpy(inputs(4, (6, 5)))
        y = torch.tensor([0, 2, 1, 2, 0, 1])
        W = torch.normal(0, 0.01, size=(5, 3), requires_grad=True)
        b = torch.zeros(3, requires_grad=True)
        with torch.no_grad():  # same weights on both sides
            W.copy_(torch.from_numpy(inputs(5, (5, 3)) * 0.1))

        def softmax(X):
            X_exp = torch.exp(X)
            partition = X_exp.sum(1, keepdims=True)
            return X_exp / partition

        y_hat = softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)
        loss = -torch.log(y_hat[list(range(len(y_hat))), y]).mean()
        loss.backward()
        accuracy = float((y_hat.argmax(axis=1).type(y.dtype) == y).type(torch.float32).sum())
        return {"loss": loss, "W_grad": W.grad, "b_grad": b.grad, "acc": accuracy}

    run_on_both(program)


def test_training_with_adagrad_and_adadelta():
    def program(torch):
        nn = torch.nn
        results = {}
        for name, make in (("adagrad", lambda p: torch.optim.Adagrad(p, lr=0.1)),
                           ("adadelta", lambda p: torch.optim.Adadelta(p, lr=1.0))):
            model = nn.Sequential(nn.Linear(4, 6), nn.ELU(), nn.Linear(6, 3), nn.LogSoftmax(1))
            same_weights(torch, model)
            optimizer = make(model.parameters())
            x = torch.from_numpy(inputs(6, (10, 4)))
            y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
            losses = []
            for _ in range(5):
                optimizer.zero_grad()
                loss = nn.functional.nll_loss(model(x), y)
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
            results[name] = {"losses": losses, "weight": model[0].weight}
        return results

    run_on_both(program, rtol=1e-4, atol=1e-5)


def test_grad_modes_and_graph_inspection():
    def program(torch):
        w = torch.from_numpy(inputs(7, (3, 2))).requires_grad_()
        x = torch.from_numpy(inputs(8, (4, 3)))
        y = (x @ w).relu().sum()

        def walk(node, depth=0):
            if node is None:
                return ["none"]
            out = [(depth, type(node).__name__ == "AccumulateGrad")]
            for child, _ in node.next_functions:
                out += walk(child, depth + 1)
            return out

        leaf = y.grad_fn.next_functions[0][0].next_functions[0][0].next_functions[1][0]
        modes = []
        with torch.no_grad():
            modes.append((x @ w).requires_grad)
        with torch.set_grad_enabled(False):
            modes.append(torch.is_grad_enabled())
        with torch.inference_mode():
            modes.append((x @ w).requires_grad)

        @torch.no_grad()
        def evaluate():
            return (x @ w).requires_grad

        modes += [evaluate(), torch.is_grad_enabled()]
        return {"graph": walk(y.grad_fn), "leaf_is_w": leaf.variable is w, "modes": modes}

    run_on_both(program)


def test_layers_a_cnn_course_uses():
    def program(torch):
        nn = torch.nn
        model = nn.Sequential(
            nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU6(), nn.MaxPool2d(2),
            nn.Conv2d(4, 4, 3), nn.SiLU(), nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(),
            nn.Linear(4, 6), nn.Hardswish(), nn.Unflatten(1, (2, 3)), nn.Flatten(),
            nn.Identity(), nn.Dropout(0.0), nn.Softplus(), nn.Linear(6, 3))
        same_weights(torch, model)
        x = torch.from_numpy(inputs(9, (2, 2, 8, 8)))
        out = model(x)
        loss = nn.SmoothL1Loss()(out, torch.zeros(2, 3)) + nn.HuberLoss(delta=0.5)(out, out * 0)
        loss.backward()
        return {"out": out, "loss": loss, "grad": model[0].weight.grad,
                "params": sum(p.numel() for p in model.parameters())}

    run_on_both(program, rtol=1e-4, atol=1e-5)


def test_normalisation_and_upsampling_layers():
    def program(torch):
        nn = torch.nn
        model = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.GroupNorm(2, 4), nn.ReLU(),
                              nn.Upsample(scale_factor=2, mode="bilinear"), nn.Conv2d(4, 2, 1),
                              nn.Upsample(size=(5, 5)), nn.Flatten(), nn.LayerNorm(50),
                              nn.Linear(50, 3))
        same_weights(torch, model)
        x = torch.from_numpy(inputs(10, (2, 2, 4, 4)))
        out = model(x)
        out.sum().backward()
        return {"out": out, "grad": model[0].weight.grad, "repr": repr(model).splitlines()[:3]}

    run_on_both(program, rtol=1e-4, atol=1e-5)


def test_gradient_clipping_and_parameter_vectors():
    def program(torch):
        nn = torch.nn
        results = []
        for norm_type, max_norm in ((2.0, 0.5), (1, 0.3), (float("inf"), 0.1), (2.0, 1e3)):
            model = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 2))
            same_weights(torch, model)
            loss = model(torch.from_numpy(inputs(11, (6, 4)))).pow(2).sum()
            loss.backward()
            total = nn.utils.clip_grad_norm_(model.parameters(), max_norm, norm_type=norm_type)
            results.append((total, [p.grad for p in model.parameters()]))
        nn.utils.clip_grad_value_(model.parameters(), clip_value=0.01)
        vector = nn.utils.parameters_to_vector(model.parameters())
        nn.utils.vector_to_parameters(vector * 2, model.parameters())
        return {"clipped": results, "by_value": [p.grad for p in model.parameters()],
                "vector": vector, "doubled": model[0].weight}

    run_on_both(program, rtol=1e-5, atol=1e-6)


def test_convolution_as_unfold_and_matmul():
    def program(torch):
        F = torch.nn.functional
        x = torch.from_numpy(inputs(12, (2, 3, 7, 6))).requires_grad_()
        w = torch.from_numpy(inputs(13, (4, 3, 3, 3))).requires_grad_()
        columns = F.unfold(x, kernel_size=3, padding=1, stride=2)
        out = (w.view(4, -1) @ columns).view(2, 4, 4, 3)
        direct = F.conv2d(x, w, padding=1, stride=2)
        back = F.fold(columns, (7, 6), kernel_size=3, padding=1, stride=2)
        (out.sum() + back.pow(2).sum()).backward()
        return {"columns": columns, "same_as_conv": torch.allclose(out, direct, atol=1e-5),
                "folded": back, "x_grad": x.grad, "w_grad": w.grad,
                "layers": [torch.nn.Unfold(2)(x).shape, torch.nn.Fold((7, 6), 2)(
                    torch.nn.Unfold(2)(x)).shape]}

    run_on_both(program, rtol=1e-5, atol=1e-5)


def test_parameter_containers_and_learned_activations():
    def program(torch):
        nn = torch.nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.weights = nn.ParameterList([nn.Parameter(torch.zeros(4, 3)),
                                                 nn.Parameter(torch.zeros(2, 4))])
                self.biases = nn.ParameterDict({"first": nn.Parameter(torch.zeros(4))})
                self.biases["second"] = nn.Parameter(torch.zeros(2))
                self.act = nn.PReLU(4, init=0.1)
                self.mish = nn.Mish()

            def forward(self, x):
                x = self.act(x @ self.weights[0].t() + self.biases["first"])
                return self.mish(x @ self.weights[1].t() + self.biases["second"])

        net = Net()
        same_weights(torch, net)
        out = net(torch.from_numpy(inputs(14, (5, 3))))
        out.sum().backward()
        return {"names": [n for n, _ in net.named_parameters()],
                "state": list(net.state_dict()), "out": out, "len": len(net.weights),
                "grads": [p.grad for p in net.parameters()], "keys": list(net.biases.keys())}

    run_on_both(program)
