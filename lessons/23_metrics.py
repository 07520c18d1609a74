"""Metrics: accuracy, top-k accuracy, the confusion matrix, per-class scores, and the mistakes.

One number hides a lot. We train a LeNet-5 on Fashion-MNIST and read its test predictions in
several ways: accuracy and top-k accuracy with the course metrics (called as metric(y, yhat)),
the confusion matrix (which classes are mistaken for which), precision, recall and F1 per
class, and the misclassified images themselves, most confident mistakes first.

Run: python lessons/23_metrics.py [--smoke] [--data-dir DIR] [--epochs N] [--out DIR]
"""

# %% [markdown]
# # 23 Metrics

# %%
# _common first: it loads minitorch_cv, whose thread settings must precede NumPy
from _common import fit, lesson_setup, predict

# isort: split
import numpy as np

import minitorch_cv as mt
from minitorch_cv import models, optim, viz
from minitorch_cv.train import Accuracy, TopKAccuracy

# %% tags=["parameters"]
# Settings: a notebook runs with these; on the command line, --smoke, --epochs N and
# --seed N override them.
SMOKE = False  # True: tiny data and a few steps; checks that the lesson runs, not a result
EPOCHS = None  # None: the lesson's own default length of training
SEED = 0

# %%
lesson = lesson_setup("23_metrics", __doc__, smoke=SMOKE, epochs=EPOCHS,
                      seed=SEED)

(x_train, y_train), (x_valid, y_valid), classes = lesson.train_valid(
    "fashion-mnist", n_train=lesson.pick(None, 128), n_valid=lesson.pick(1000, 64))
model = models.get("lenet5")
fit(model, optim.Adam(model.parameters(), lr=2e-3), (x_train, y_train), (x_valid, y_valid),
    lesson.n_epochs(3), batch_size=64, max_steps=lesson.pick(None, 2), seed=lesson.seed)
# training is over: every metric below is measured on the test set, opened once
x_test, y_test, _ = lesson.final_test("fashion-mnist", limit=lesson.pick(None, 64))
logits = predict(model, x_test)
probabilities = mt.tensor(logits).softmax(dim=1).numpy()
predicted = logits.argmax(axis=1)

# %% [markdown]
# ## 1. Accuracy and top-k accuracy
#
# Top-k counts a prediction as right when the true class is among the k highest scores: on
# ImageNet's 1,000 classes the top-5 error was the headline number.

# %%
y, yhat = mt.tensor(y_test), mt.tensor(logits)
accuracy = Accuracy()(y, yhat)
top = {k: TopKAccuracy(k)(y, yhat) for k in (1, 2, 3, 5)}
print(f"Accuracy()(y, yhat) = {accuracy:.4f}")
for k, value in top.items():
    print(f"TopKAccuracy({k})(y, yhat) = {value:.4f}")
by_hand = float((predicted == y_test).mean())
ranks = (-logits).argsort(axis=1)
top3_by_hand = float((ranks[:, :3] == y_test[:, None]).any(axis=1).mean())
assert abs(accuracy - by_hand) < 1e-9 and abs(top[1] - by_hand) < 1e-9
assert abs(top[3] - top3_by_hand) < 1e-9 and top[1] <= top[2] <= top[3] <= top[5]

# %% [markdown]
# ## 2. The confusion matrix and per-class precision, recall, F1
#
# Row t, column p counts images of class t predicted as p. Recall of a class: its diagonal
# over its row (how many of its images were found); precision: its diagonal over its column
# (how many predictions of it were right); F1 is their harmonic mean.

# %%
matrix = viz.confusion_matrix(y_test, logits, len(classes))
viz.plot_confusion_matrix(matrix, lesson.figure("confusion_matrix"), class_names=classes)
viz.plot_confusion_matrix(matrix, lesson.figure("confusion_matrix_normalised"),
                          class_names=classes, normalize=True,
                          title="confusion matrix, each row divided by its total (recall)")
diagonal = np.diag(matrix).astype(float)
recall = diagonal / np.maximum(matrix.sum(axis=1), 1)
precision = diagonal / np.maximum(matrix.sum(axis=0), 1)
f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
print(f"{'class':12s} {'precision':>9} {'recall':>7} {'F1':>6} {'support':>8}")
for i, name in enumerate(classes):
    print(f"{name:12s} {precision[i]:9.3f} {recall[i]:7.3f} {f1[i]:6.3f} {matrix[i].sum():8d}")
print(f"macro F1 {f1.mean():.3f}; accuracy = trace / total = {np.trace(matrix) / matrix.sum():.4f}")
off = matrix - np.diag(np.diag(matrix))
t, p = np.unravel_index(off.argmax(), off.shape)
print(f"most common confusion: {classes[t]} predicted as {classes[p]} ({off[t, p]} times)")

# %% [markdown]
# ## 3. The mistakes themselves, most confident first

# %%
wrong = np.flatnonzero(predicted != y_test)
order = wrong[np.argsort(-probabilities[wrong, predicted[wrong]])][:lesson.pick(24, 8)]
titles = [f"true {classes[y_test[i]]}\npred {classes[predicted[i]]} "
          f"({probabilities[i, predicted[i]]:.0%})" for i in order]
if len(order):
    viz.plot_image_grid([x_test[i] for i in order], lesson.figure("most_confident_mistakes"),
                        titles, cols=8, title=f"{len(wrong)} of {len(y_test)} test images are "
                        "misclassified; the most confident mistakes")
confidence_right = probabilities[predicted == y_test].max(axis=1)
confidence_wrong = probabilities[predicted != y_test].max(axis=1)
if len(confidence_right) and len(confidence_wrong):
    print(f"mean confidence when right {confidence_right.mean():.3f}, when wrong "
          f"{confidence_wrong.mean():.3f}")

# %%
lesson.finish()
