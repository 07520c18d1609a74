"""Fragments of the official tutorials and the d2l book's CNN chapters, as written there (with
our own inputs), on both libraries."""

import copy

from minitorch_cv.testing.compat import inputs, run_on_both, same_weights


def test_d2l_corr2d_and_pooling_from_scratch():
    def program(torch):
        def corr2d(X, K):
            h, w = K.shape
            Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
            for i in range(Y.shape[0]):
                for j in range(Y.shape[1]):
                    Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
            return Y

        def corr2d_multi_in(X, K):
            return sum(corr2d(x, k) for x, k in zip(X, K))

        def corr2d_multi_in_out(X, K):
            return torch.stack([corr2d_multi_in(X, k) for k in K], 0)

        def pool2d(X, pool_size, mode="max"):
            p_h, p_w = pool_size
            Y = torch.zeros((X.shape[0] - p_h + 1, X.shape[1] - p_w + 1))
            for i in range(Y.shape[0]):
                for j in range(Y.shape[1]):
                    if mode == "max":
                        Y[i, j] = X[i: i + p_h, j: j + p_w].max()
                    elif mode == "avg":
                        Y[i, j] = X[i: i + p_h, j: j + p_w].mean()
            return Y

        X = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
        K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
        X2 = torch.stack((X, X + 1), 0)
        K2 = torch.stack((K, K + 1), 0)
        K3 = torch.stack((K2, K2 + 1, K2 + 2), 0)
        return {"corr": corr2d(X, K), "multi_in": corr2d_multi_in(X2, K2),
                "multi": corr2d_multi_in_out(X2, K3), "shape": tuple(K3.shape),
                "max": pool2d(X, (2, 2)),
                "avg": pool2d(X, (2, 2), "avg"),
                "pooled": torch.nn.MaxPool2d(3, padding=1, stride=2)(
                    torch.arange(16, dtype=torch.float32).reshape((1, 1, 4, 4)))}

    run_on_both(program)


def test_d2l_learning_a_kernel_with_weight_data():
    def program(torch):
        nn = torch.nn
        X = torch.from_numpy(inputs(1, (1, 1, 6, 8)))
        Y = torch.from_numpy(inputs(2, (1, 1, 6, 7)))
        conv2d = nn.Conv2d(1, 1, kernel_size=(1, 2), bias=False)
        same_weights(torch, conv2d)
        lr = 3e-2
        losses = []
        for _ in range(5):
            Y_hat = conv2d(X)
            loss = (Y_hat - Y) ** 2
            conv2d.zero_grad()
            loss.sum().backward()
            conv2d.weight.data[:] -= lr * conv2d.weight.grad
            losses.append(f"loss {loss.sum():.3f}")  # as d2l prints it
        return {"losses": losses, "kernel": conv2d.weight.data.reshape((1, 2))}

    run_on_both(program)


def test_d2l_linear_regression_from_scratch():
    def program(torch):
        true_w, true_b = torch.tensor([2, -3.4]), 4.2
        X = torch.from_numpy(inputs(3, (20, 2)))
        y = (torch.matmul(X, true_w) + true_b).reshape((-1, 1))
        w = torch.zeros((2, 1), requires_grad=True)
        b = torch.zeros(1, requires_grad=True)
        batch_size, lr = 5, 0.03
        for _epoch in range(3):
            for i in range(0, 20, batch_size):
                batch_indices = torch.tensor(list(range(i, min(i + batch_size, 20))))
                features, labels = X[batch_indices], y[batch_indices]
                loss = ((torch.matmul(features, w) + b - labels.reshape((-1, 1))) ** 2 / 2)
                loss.sum().backward()
                with torch.no_grad():
                    for param in [w, b]:
                        param -= lr * param.grad / batch_size
                        param.grad.zero_()
        return {"w": w, "b": b, "error": true_w - w.reshape(true_w.shape)}

    run_on_both(program, rtol=1e-5, atol=1e-6)


def test_quickstart_and_cifar10_tutorial_idioms():
    def program(torch):
        nn, F = torch.nn, torch.nn.functional

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(3, 6, 5)
                self.pool = nn.MaxPool2d(2, 2)
                self.fc1 = nn.Linear(6 * 6 * 6, 10)

            def forward(self, x):
                x = self.pool(F.relu(self.conv1(x)))
                x = torch.flatten(x, 1)
                return self.fc1(x)

        classes = ("plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
                   "truck")
        device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
        net = Net().to(device).double()  # float64: the printed losses agree to every digit
        same_weights(torch, net)
        images = torch.from_numpy(inputs(4, (4, 3, 16, 16))).double()
        labels = torch.tensor([3, 8, 8, 0])
        data = (images, labels)
        inputs_, labels = data[0].to(device), data[1].to(device)
        best = copy.deepcopy(net.state_dict())
        optimizer = torch.optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
        criterion = nn.CrossEntropyLoss()
        running_loss, lines = 0.0, []
        for epoch in range(2):
            optimizer.zero_grad()
            outputs = net(inputs_)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
            lines.append(f"loss: {loss.item():>7f}  [{epoch + 1:>5d}/{2:>5d}]")
        outputs = net(images)
        _, predicted = torch.max(outputs, 1)
        lines.append("Predicted: " + " ".join(f"{classes[predicted[j]]:5s}" for j in range(4)))
        correct_pred = {classname: 0 for classname in classes}
        for label, prediction in zip(labels, predicted):
            if label == prediction:
                correct_pred[classes[label]] += 1
        running_corrects = torch.sum(predicted == labels.data)
        correct = (outputs.argmax(1) == labels).type(torch.float).sum().item()
        net.load_state_dict(best)
        return {"lines": lines, "correct_pred": correct_pred,
                "corrects": running_corrects, "acc": running_corrects.double() / 4,
                "correct": correct, "restored": net(images),
                "size": len(labels), "structure": [name for name, _ in net.named_parameters()]}

    run_on_both(program, rtol=1e-4, atol=1e-5)


def test_autograd_tutorial():
    def program(torch):
        x = torch.ones(5)
        y = torch.zeros(3)
        w = torch.from_numpy(inputs(5, (5, 3))).requires_grad_()
        b = torch.from_numpy(inputs(6, (3,))).requires_grad_()
        z = torch.matmul(x, w) + b
        loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
        loss.backward()
        z_det = z.detach()
        inp = torch.eye(4, 5, requires_grad=True)
        out = (inp + 1).pow(2).t()
        out.backward(torch.ones_like(out), retain_graph=True)
        first = inp.grad.clone()
        out.backward(torch.ones_like(out))
        second = inp.grad.clone()
        inp.grad.zero_()
        return {"w": w.grad, "b": b.grad, "requires": [z.requires_grad, z_det.requires_grad],
                "first": first, "second": second, "zeroed": inp.grad}

    run_on_both(program)
