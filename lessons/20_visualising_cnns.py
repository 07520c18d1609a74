"""Visualising what a CNN learned: filters, feature maps, activation maximisation, CAM, Grad-CAM.

We train a small CNN whose head is global average pooling + one linear layer (the shape CAM
needs) on Fashion-MNIST, then open it up with `minitorch_cv.viz`: the first layer's filters,
the feature maps of each stage (forward hooks), inputs synthesised by gradient ascent to excite
a channel, a whole layer (DeepDream-like) or a class, and heat maps of where the evidence for
a class lies (CAM from the classifier's weights, Grad-CAM from gradients).

Run: python lessons/20_visualising_cnns.py [--smoke] [--data-dir DIR] [--epochs N] [--out DIR]
"""

# %% [markdown]
# # 20 Visualising CNNs

# %%
# _common first: it loads minitorch_cv, whose thread settings must precede NumPy
from _common import curves, fit, lesson_setup, one_cycle, predict

# isort: split
import numpy as np

import minitorch_cv as mt
from minitorch_cv import nn, optim, viz

# %% tags=["parameters"]
# Settings: a notebook runs with these; on the command line, --smoke, --epochs N and
# --seed N override them.
SMOKE = False  # True: tiny data and a few steps; checks that the lesson runs, not a result
EPOCHS = None  # None: the lesson's own default length of training
SEED = 0

# %%
lesson = lesson_setup("20_visualising_cnns", __doc__, smoke=SMOKE, epochs=EPOCHS,
                      seed=SEED)

# %% [markdown]
# ## 1. A small CNN with a global-average-pool head, trained on Fashion-MNIST


# %%
def stage(in_channels, out_channels, pool):
    layers = [nn.Conv2d(in_channels, out_channels, 3, padding=1), nn.BatchNorm2d(out_channels),
              nn.ReLU()]
    return nn.Sequential(*(layers + [nn.MaxPool2d(2)] if pool else layers))


def make_model():
    model = nn.Sequential()
    model.add_module("stage1", stage(1, 16, pool=True))    # 28 -> 14
    model.add_module("stage2", stage(16, 32, pool=True))   # 14 -> 7
    model.add_module("stage3", stage(32, 64, pool=False))  # 7x7 feature maps for CAM
    model.add_module("pool", nn.AdaptiveAvgPool2d(1))
    model.add_module("flatten", nn.Flatten())
    model.add_module("fc", nn.Linear(64, 10))
    return model


model = make_model()
(x_train, y_train), (x_valid, y_valid), classes = lesson.train_valid(
    "fashion-mnist", n_train=lesson.pick(20000, 128), n_valid=lesson.pick(1000, 64))
epochs = lesson.n_epochs(10)
max_steps = lesson.pick(None, 2)
optimizer = optim.Adam(model.parameters(), lr=2e-3)
# one-cycle learning rate: warm up, then anneal; without it the validation accuracy of this
# batch-norm CNN jumped by several points from epoch to epoch (0.62 to 0.79 at a fixed 2e-3)
scheduler = one_cycle(optimizer, 2e-3, epochs, len(x_train), 64, max_steps)
history = fit(model, optimizer, (x_train, y_train), (x_valid, y_valid), epochs, batch_size=64,
              scheduler=scheduler, max_steps=max_steps, seed=lesson.seed)
print(f"validation accuracy {history['valid_accuracy'][-1]:.4f} (held-out training images; the "
      "test set is opened in section 5)")
viz.plot_training_curves(curves(history), lesson.figure("training_curves"),
                         title=lesson.title("the CNN we are about to look inside"))

# %% [markdown]
# ## 2. Filters of the first layer
#
# 16 filters of 3x3 on one input channel: edge and blob detectors of different orientations.

# %%
viz.plot_filters(model.stage1[0], lesson.figure("filters_stage1"),
                 title="16 learned 3x3 filters of the first conv layer")
first_weights = model.stage1[0].weight.detach().numpy()
print("first-layer filters: mean |weight| per filter",
      " ".join(f"{v:.2f}" for v in np.abs(first_weights).mean(axis=(1, 2, 3))))

# %% [markdown]
# ## 3. Feature maps through forward hooks
#
# The same image seen by each stage: early maps keep the outline, later ones are coarser and
# more selective. `viz.feature_maps` registers a forward hook on the layer, runs the model,
# and removes the hook.

# %%
sample = int(np.flatnonzero(y_valid == 9)[0]) if (y_valid == 9).any() else 0  # an ankle boot
x_sample = mt.tensor(x_valid[sample:sample + 1])
for name in ("stage1", "stage2", "stage3"):
    maps = viz.feature_maps(model, name, x_sample)
    active = float((maps > 0).mean())
    print(f"{name}: output {maps.shape[1:]}, {active:.0%} of activations > 0")
    viz.plot_feature_maps(model, name, x_sample, lesson.figure(f"feature_maps_{name}"),
                          title=f"feature maps after {name} ({classes[y_valid[sample]]})")

# %% [markdown]
# ## 4. Activation maximisation
#
# Gradient ascent on the input (starting from faint noise, with an L2 penalty and a blur every
# few steps) to find an image that excites: single channels of stage 3, the whole stage 3
# (DeepDream's objective), and each class logit.

# %%
steps = lesson.pick(120, 2)
channel_images, channel_titles = [], []
for channel in range(lesson.pick(8, 2)):
    image, trace = viz.maximise_activation(model, (1, 28, 28), layer="stage3", channel=channel,
                                           steps=steps, lr=0.1)
    channel_images.append(image)
    channel_titles.append(f"ch {channel}: {trace[0]:.1f} -> {trace[-1]:.1f}")
viz.plot_image_grid(channel_images, lesson.figure("activation_max_channels"), channel_titles,
                    cols=4, title="inputs that maximise stage-3 channels (objective start -> end)")
dream, dream_trace = viz.maximise_activation(model, (1, 28, 28), layer="stage3", steps=steps,
                                             lr=0.1)
print(f"whole-layer (DeepDream) objective: {dream_trace[0]:.3f} -> {dream_trace[-1]:.3f}")
class_images, class_titles = [], []
for class_index in range(10):
    image, trace = viz.maximise_activation(model, (1, 28, 28), class_index=class_index,
                                           steps=steps, lr=0.1)
    class_images.append(image)
    class_titles.append(f"{classes[class_index]}\nlogit {trace[-1]:.1f}")
    if not lesson.smoke:
        assert trace[-1] > trace[0], f"gradient ascent did not raise class {class_index}"
viz.plot_image_grid(class_images + [dream], lesson.figure("activation_max_classes"),
                    class_titles + ["whole stage 3\n(DeepDream)"], cols=6,
                    title="inputs that maximise each class logit, and the whole of stage 3")
probability_image, probability_trace = viz.maximise_activation(
    model, (1, 28, 28), class_index=1, probability=True, steps=steps, lr=0.1)
print(f"maximising P({classes[1]}): {probability_trace[0]:.3f} -> {probability_trace[-1]:.3f} "
      "(the probability also pushes the other classes down)")

# %% [markdown]
# ## 5. CAM and Grad-CAM
#
# CAM: with global average pooling + linear, the logit of class c is the mean over positions
# of sum_k w[c, k] A_k, so that sum, drawn as a map, shows where the evidence is. Grad-CAM
# weighs channels by their mean gradient and works for any head. Both find the feature layer
# themselves: the last module giving a multi-pixel 4-D output.

#
# **Sanity check first** (Adebayo et al. 2018, "Sanity checks for saliency maps"): a map that
# looks just as convincing for a network with *random* weights explains the image (its edges,
# its bright parts), not what the network learned. So every map is drawn for the trained model
# and for an untrained copy of the same architecture, and we measure how alike they are (the
# correlation of the two maps over the 7x7 grid). The test set is opened here, once: training
# ended in section 1.

# %%
x_test, y_test, _ = lesson.final_test("fashion-mnist", limit=lesson.pick(None, 64))
logits = predict(model, x_test)
accuracy = float((logits.argmax(axis=1) == y_test).mean())
print(f"test accuracy {accuracy:.4f} on {len(y_test):,} test images")
mt.manual_seed(lesson.seed + 1)
untrained = make_model()  # the same architecture, random weights, never trained
layer_name, _ = viz.find_feature_layer(model, x_sample)
print(f"feature layer found automatically: {layer_name!r}")
picks = [int(np.flatnonzero(y_test == c)[0]) for c in (0, 1, 5, 7, 8, 9) if (y_test == c).any()]
similarity = {"CAM": [], "Grad-CAM": []}
for rank, index in enumerate(picks[:lesson.pick(6, 1)]):
    x_one = mt.tensor(x_test[index:index + 1])
    cam, predicted = viz.class_activation_map(model, x_one)
    gradcam, _ = viz.grad_cam(model, x_one, class_index=predicted)
    random_cam, _ = viz.class_activation_map(untrained, x_one, class_index=predicted)
    random_gradcam, _ = viz.grad_cam(untrained, x_one, class_index=predicted)
    for method, trained_map, random_map in (("CAM", cam, random_cam),
                                            ("Grad-CAM", gradcam, random_gradcam)):
        if trained_map.std() > 0 and random_map.std() > 0:
            similarity[method].append(float(np.corrcoef(trained_map.ravel(),
                                                         random_map.ravel())[0, 1]))
    print(f"{classes[y_test[index]]:12s} predicted {classes[predicted]:12s} CAM peak at "
          f"{tuple(int(i) for i in np.unravel_index(cam.argmax(), cam.shape))}, Grad-CAM peak at "
          f"{tuple(int(i) for i in np.unravel_index(gradcam.argmax(), gradcam.shape))} (7x7 grid)")
    viz.plot_cams(x_test[index], {f"CAM ({classes[predicted]})": cam,
                                  f"Grad-CAM ({classes[predicted]})": gradcam,
                                  "CAM, random weights": random_cam,
                                  "Grad-CAM, random weights": random_gradcam},
                  lesson.figure(f"cam_{rank}_" + classes[y_test[index]].split("/")[0].lower()
                                .replace(" ", "_")),
                  title=lesson.title(f"true: {classes[y_test[index]]}, predicted: "
                                     f"{classes[predicted]}; right: the same maps from an "
                                     "untrained network"))
for method, values in similarity.items():
    if not values:
        print(f"{method}: no map with any contrast to compare")
        continue
    mean = float(np.mean(values))
    verdict = ("the maps depend on what the network learned" if mean < 0.5 else
               "the maps look much the same without any training: they show the image more "
               "than the model; read them with care")
    print(f"{method}: correlation between the trained and the random-weights map {mean:+.2f} "
          f"on average over {len(values)} images -> {verdict}"
          + (" (smoke run: barely trained, not a result)" if lesson.smoke else ""))

# %%
lesson.finish()
