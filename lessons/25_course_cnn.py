"""The course workflow: CNNConfig, CNNblocks and the Trainer, as in class, on minitorch_cv.

The course builds its CNN from a config dataclass (`CNNConfig`) and a block model
(`CNNblocks`), and trains it with `Trainer` / `TrainerSettings` / `ReportTypes`, metrics called
as `metric(y, yhat)` and a learning-rate scheduler passed as a class. The same script runs
here by changing imports. We build the default model, see what the config controls (and the
error when the image becomes too small), train it on Fashion-MNIST, and read the run's logs.

Run: python lessons/25_course_cnn.py [--smoke] [--data-dir DIR] [--epochs N] [--out DIR]
"""

# %% [markdown]
# # 25 The course CNN with the Trainer

# %%
# _common first: it loads minitorch_cv, whose thread settings must precede NumPy
from _common import count_parameters, lesson_setup, predict

# isort: split
import numpy as np

from minitorch_cv import nn, optim, viz
from minitorch_cv.data import DataLoader, TensorDataset
from minitorch_cv.models import CNNblocks, CNNConfig
from minitorch_cv.summary import summary
from minitorch_cv.train import Accuracy, ReportTypes, Trainer, TrainerSettings, read_toml

# %% tags=["parameters"]
# Settings: a notebook runs with these; on the command line, --smoke, --epochs N and
# --seed N override them.
SMOKE = False  # True: tiny data and a few steps; checks that the lesson runs, not a result
EPOCHS = None  # None: the lesson's own default length of training
SEED = 0

# %%
lesson = lesson_setup("25_course_cnn", __doc__, smoke=SMOKE, epochs=EPOCHS,
                      seed=SEED)

# %% [markdown]
# ## 1. The config and the model
#
# `CNNConfig` holds the image shape, batch size, channels, the hidden width, kernel size, pool
# size, the number of conv layers and classes. `CNNblocks` turns it into a first ConvBlock
# (conv-ReLU-conv-ReLU), then `num_layers` x (ConvBlock, ReLU) with a max pool after every
# other one, then Flatten-Linear-ReLU-Linear, exactly as the course's `mltrainer` does.

# %%
config = CNNConfig(matrixshape=(28, 28), batchsize=64, input_channels=1, hidden=32,
                   kernel_size=3, maxpool=2, num_layers=3, num_classes=10)
model = CNNblocks(config)
print(config)
print(summary(model, (1, 1, 28, 28)))
print(f"CNNblocks with the default config: {count_parameters(model):,} parameters")
assert count_parameters(model) == 115_594

for hidden, layers in ((16, 3), (64, 3), (32, 5)):
    variant = CNNblocks(CNNConfig(hidden=hidden, num_layers=layers))
    print(f"hidden={hidden:3d}, num_layers={layers}: {count_parameters(variant):>9,} parameters")
try:
    CNNblocks(CNNConfig(num_layers=12))
except RuntimeError as error:  # as torch reports a too-small input
    print("num_layers=12 on 28x28 images:", str(error).split(";")[0])

# %% [markdown]
# ## 2. Data loaders, as in class

# %%
# the Trainer's scheduler and early stopping watch the validation loader, so it must not be
# the test set: 5,000 training images are held out for it; the test set is opened in section 5
(x_train, y_train), (x_valid, y_valid), classes = lesson.train_valid(
    "fashion-mnist", n_train=lesson.pick(None, 128), n_valid=lesson.pick(5000, 64))
trainloader = DataLoader(TensorDataset(x_train, y_train), batch_size=config.batchsize,
                         shuffle=True)
validloader = DataLoader(TensorDataset(x_valid, y_valid), batch_size=256, shuffle=False)
print(f"{len(x_train):,} training and {len(x_valid):,} validation images; {len(trainloader)} "
      f"batches of {config.batchsize} per epoch")

# %% [markdown]
# ## 3. TrainerSettings and Trainer
#
# The optimizer and the scheduler are given as classes; the Trainer builds them from
# `optimizer_kwargs` and `scheduler_kwargs`. Reports go to TOML files in a timestamped run
# folder under `logdir`.

# %%
settings = TrainerSettings(
    epochs=lesson.n_epochs(5),
    metrics=[Accuracy()],
    logdir=lesson.out / "modellogs",
    train_steps=lesson.pick(len(trainloader), 2),
    valid_steps=len(validloader),
    reporttypes=[ReportTypes.TOML],
    optimizer_kwargs={"lr": 1e-3, "weight_decay": 1e-5},
    scheduler_kwargs={"factor": 0.5, "patience": 1},
    earlystop_kwargs={"save": False, "verbose": True, "patience": 3},
)
trainer = Trainer(model=model, settings=settings, loss_fn=nn.CrossEntropyLoss(),
                  optimizer=optim.Adam, traindataloader=trainloader,
                  validdataloader=validloader, scheduler=optim.lr_scheduler.ReduceLROnPlateau,
                  progress_bar=False)
trainer.loop()

# %% [markdown]
# ## 4. What the run recorded

# %%
accuracy_key = repr(Accuracy())
for row in trainer.history:
    # the Trainer calls its validation loss "test_loss" (the course's name)
    print(f"epoch {row['epoch']}: train loss {row['train_loss']:.4f}, validation loss "
          f"{row['test_loss']:.4f}, accuracy {row[accuracy_key]:.4f}, lr "
          f"{row['learning_rate']:.1e}, {row['seconds']:.1f} s")
print("run folder:", trainer.log_dir, "->", sorted(p.name for p in trainer.log_dir.iterdir()))
saved = read_toml(trainer.log_dir / "settings.toml")
print("settings.toml records epochs =", saved.get("epochs"), "and optimizer_kwargs =",
      saved.get("optimizer_kwargs"))

viz.plot_training_curves({"train_loss": [r["train_loss"] for r in trainer.history],
                          "valid_loss": [r["test_loss"] for r in trainer.history],
                          "valid_accuracy": [r[accuracy_key] for r in trainer.history]},
                         lesson.figure("trainer_curves"),
                         title=lesson.title("CNNblocks trained with the course Trainer"))

# %% [markdown]
# ## 5. The test set, once

# %%
x_test, y_test, _ = lesson.final_test("fashion-mnist", limit=lesson.pick(None, 64))
logits = predict(model, x_test)
accuracy = float((logits.argmax(axis=1) == y_test).mean())
print(f"test accuracy {accuracy:.4f}")
matrix = viz.confusion_matrix(y_test, logits, len(classes))
viz.plot_confusion_matrix(matrix, lesson.figure("confusion_matrix"), class_names=classes,
                          title=f"CNNblocks on the Fashion-MNIST test set ({accuracy:.1%})")
worst = np.argsort(np.diag(matrix) / np.maximum(matrix.sum(axis=1), 1))[:3]
print("hardest classes:", ", ".join(classes[i] for i in worst))

# %%
lesson.finish()
