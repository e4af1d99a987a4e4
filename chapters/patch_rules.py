# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Explaining CNN classifications with small patches
#
# {cite:t}`boutay2025patches` explain an image classifier with propositional rules whose
# antecedents are either **the probability that a small patch at a given place belongs to a
# given class** or **a pixel value**. The pipeline (the paper's first methodology, its Fig. 1):
#
# 1. cut every image into all 7×7 patches with stride 1 (8×8 for FER2013) and train a patch
#    MLP on (patch, top-left position) → class;
# 2. give every patch of every image its class probabilities: a grid of
#    (H−6)×(W−6)×classes numbers per image;
# 3. train a second model on that grid and the image together (behind a QIL, the quantised
#    layer whose steps are the candidate rule thresholds {cite:p}`bologna2018svm,bologna2021rule`);
# 4. extract a global ruleset from the second model with FidexGlo (Fidex local rules + a
#    covering heuristic, {cite:p}`bologna2025fidex`); its features are the patch
#    probabilities in (row, col, class) order, then the raw pixels.
#
# Everything below runs through {mod}`nesy.rules` (patches, models, QIL, Fidex/FidexGlo with
# a compiled kernel, ruleset statistics) on MNIST {cite:p}`lecun1998gradient`, CIFAR-10
# {cite:p}`krizhevsky2009cifar` and FER2013 {cite:p}`goodfellow2013challenges,erhan2013fer`
# (happy vs not happy).
#
# **What differs from the paper.** The data come from the offline mirror: MNIST as
# published, but **CIFAR-10 and FER2013 as folders of JPEG images** (CIFAR-10: lossy JPEG
# re-encodes of the canonical images, in another order; FER2013: the Kaggle images as 48×48
# JPEGs, test = PublicTest + PrivateTest). At the default profile on 2 CPU cores each dataset
# uses a random subset (`n_train`, `n_test`), the patch MLP sees `patches_per_image` random
# patches of each training image for `mlp_epochs` epochs (paper: all patches, 60 epochs), and
# the second model's image branch is **a small CNN trained from scratch instead of an
# ImageNet-pretrained VGG-16** {cite:p}`simonyan2015vgg,deng2009imagenet` on 224×224 images,
# trained for `second_epochs` epochs with a larger learning rate (paper: 80 epochs, 1e-5).
# The second model's QIL is the frozen standardisation without the staircase activation, so
# the model is not constant between the hyperplanes that Fidex's rules use. The baseline is
# the same small CNN on the images alone, `baseline_runs` runs (paper: VGG-16, 10 runs).
# `PROFILE=paper` restores the paper's setting (VGG-16 with torchvision's ImageNet weights,
# which need internet). For FER2013 the paper used its second methodology (its Fig. 2: one
# VGG-16 per class on the class's probability map and two image channels); here all three
# datasets use the first methodology.

# %% tags=["parameters"]
profile = "default"
seed = 0
datasets = ["mnist", "cifar10", "fer2013"]
n_train = 6000
n_test = 1000
patch_size = 7
fer2013_patch_size = 8
patches_per_image = 60
mlp_epochs = 5
mlp_batch_size = 1024
mlp_learning_rate = 0.001
second_epochs = 8
second_batch_size = 64
second_learning_rate = 0.001
prob_widths = [8, 16, 32]
upsample = 1
image_branch = "small"
image_widths = [16, 32]
qil_steps = 100
rule_samples = 0
max_iterations = 25
dropout = 0.95
fer2013_dropout = 0.9
baseline_runs = 3
baseline_epochs = 8
baseline_learning_rate = 0.001
widget_samples = 60

# %% tags=["hide-input"]
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch
from IPython.display import Markdown, display
from myst_nb import glue

from nesy import data, params, report
from nesy.rules import drawing, patch_pipeline
from nesy.widgets.rules import RulesExplorer, dataset_entry

parameters = params.validate(
    "patch_rules",
    dict(
        profile=profile, seed=seed, datasets=datasets, n_train=n_train, n_test=n_test, patch_size=patch_size,
        fer2013_patch_size=fer2013_patch_size, patches_per_image=patches_per_image, mlp_epochs=mlp_epochs,
        mlp_batch_size=mlp_batch_size, mlp_learning_rate=mlp_learning_rate, second_epochs=second_epochs,
        second_batch_size=second_batch_size, second_learning_rate=second_learning_rate, prob_widths=prob_widths,
        upsample=upsample, image_branch=image_branch, image_widths=image_widths, qil_steps=qil_steps,
        rule_samples=rule_samples, max_iterations=max_iterations, dropout=dropout, fer2013_dropout=fer2013_dropout,
        baseline_runs=baseline_runs, baseline_epochs=baseline_epochs, baseline_learning_rate=baseline_learning_rate,
        widget_samples=widget_samples,
    ),
)
results = report.ChapterResults("patch_rules", parameters)
torch.manual_seed(seed)
sns.set_theme(style="whitegrid", context="notebook")
NAMES = {"mnist": "MNIST", "cifar10": "CIFAR-10", "fer2013": "FER2013"}
display(pd.DataFrame([{k: str(v) for k, v in parameters.items()}]).T.rename(columns={0: "value"}))

# %% [markdown]
# ## The data
#
# FER2013's seven emotions become two classes, happy and not happy, as in the paper. Each
# dataset is cut to a seeded random subset of `n_train` training and `n_test` test images
# (0 = the whole split).

# %%
def load(name):
    """(train images, train labels, test images, test labels, class names) of one dataset."""
    if name == "mnist":
        (x, y), (xt, yt) = data.mnist("train"), data.mnist("test")
        return x, y, xt, yt, [str(d) for d in range(10)]
    if name == "cifar10":
        from nesy.data.loader_cifar10 import CLASSES

        (x, y), (xt, yt) = data.cifar10("train"), data.cifar10("test")
        return x, y, xt, yt, list(CLASSES)
    from nesy.data.loader_fer2013 import HAPPY

    (x, y), (xt, yt) = data.fer2013("train"), data.fer2013("test")
    return x, (y == HAPPY).long(), xt, (yt == HAPPY).long(), ["not happy", "happy"]


loaded, dataset_rows = {}, []
with results.stage("load data"):
    for name in datasets:
        x, y, xt, yt, classes = load(name)
        i = patch_pipeline.subset(len(y), n_train or None, seed)
        j = patch_pipeline.subset(len(yt), n_test or None, seed + 1)
        loaded[name] = (x[i], y[i], xt[j], yt[j], classes)
        results.number(f"{name}_train_images", len(i))
        results.number(f"{name}_test_images", len(j))
        dataset_rows.append({
            "dataset": NAMES[name], "image size": "×".join(str(s) for s in x.shape[1:]), "classes": len(classes),
            "train (split)": len(y), "test (split)": len(yt), "train (used)": len(i), "test (used)": len(j),
        })
        if name == "fer2013":
            happy_count, all_count = int(torch.cat([y, yt]).sum()), len(y) + len(yt)
            happy_share = 100.0 * happy_count / all_count
            results.number("fer2013_happy_share", happy_share)
report.show(results.table("datasets", dataset_rows), 0)

# %% [markdown]
# The paper's Table 1 in content. The mirror's FER2013 has
# {glue:text}`fer_happy:.1f`% happy faces over both splits. The paper's share of 33.4% happy
# faces {claim}`fer2013_happy_share`.

# %%
if "fer2013" in datasets:
    glue("fer_happy", happy_share, display=False)
    display(report.show(results.compare("fer2013_happy", {"happy_share": happy_share},
                                f"the mirror (the Kaggle images) has {happy_count:,} happy faces of {all_count:,} "
                                f"({happy_share:.1f}%); the paper's 33.4% matches no split of that release we know"), 1))

# %% [markdown]
# ## The pipeline on each dataset
#
# Patch MLP (patch branch dense 128 and 64, position branch dense 8, merged dense 64,
# softmax), the probability grid of every image, the second model on grid + image behind the
# frozen QIL standardisation, then FidexGlo (heuristic 1: a Fidex rule for every training
# sample, then greedy set cover; at most `max_iterations` antecedents; dropout of dimensions
# and hyperplanes `dropout`, FER2013 `fer2013_dropout`; QIL with `qil_steps` steps) on the
# second model's classes of the training images (`rule_samples` of them, 0 = all), and the
# ruleset statistics on the test images.

# %%
runs, baselines = {}, {}
for name in datasets:
    x, y, xt, yt, classes = loaded[name]
    settings = patch_pipeline.PipelineSettings(
        patch_size=fer2013_patch_size if name == "fer2013" else patch_size, stride=1,
        patches_per_image=patches_per_image or None, mlp_epochs=mlp_epochs, mlp_batch_size=mlp_batch_size,
        mlp_learning_rate=mlp_learning_rate, second_epochs=second_epochs, second_batch_size=second_batch_size,
        second_learning_rate=second_learning_rate, prob_widths=tuple(prob_widths), upsample=upsample,
        image_branch=image_branch, image_widths=tuple(image_widths), qil_steps=qil_steps,
        rule_samples=rule_samples or None, max_iterations=max_iterations,
        dropout=fer2013_dropout if name == "fer2013" else dropout, seed=seed,
    )
    with results.stage(f"{name}: pipeline"):
        runs[name] = patch_pipeline.run(x, y, xt, yt, len(classes), settings, progress=True)
    with results.stage(f"{name}: CNN baseline"):
        baselines[name] = patch_pipeline.baseline(
            x, y, xt, yt, len(classes), runs=baseline_runs, epochs=baseline_epochs, batch_size=second_batch_size,
            learning_rate=baseline_learning_rate, image_branch=image_branch, image_widths=tuple(image_widths), seed=seed,
        )
    print(f"{NAMES[name]}: {len(runs[name].ruleset)} rules, second model test accuracy {runs[name].accuracy['second_test']:.2f}%")

# %% [markdown]
# ### Patches (the paper's Tables 2 and 3)

# %%
patch_rows = []
for name, r in runs.items():
    rows, cols = r.layout.grid
    patch_rows.append({
        "dataset": NAMES[name], "patch": f"{r.settings.patch_size}×{r.settings.patch_size}×{r.layout.channels}",
        "patches per image": r.n_patches["per_image"], "train patches (all)": r.n_patches["train_total"],
        "test patches (all)": r.n_patches["test_total"], "patches the MLP trained on": r.n_patches["mlp_training"],
        "second-model input": f"{rows}×{cols}×{r.layout.n_classes} + {r.layout.height}×{r.layout.width}×{r.layout.channels}",
        "rule features": r.layout.n_features,
    })
report.show(results.table("patches", patch_rows), 0)

# %% [markdown]
# ## Accuracy of the models (the paper's Tables 4, 5 and 6)
#
# Patch MLP accuracy is per patch (every patch of every image, labelled with its image's
# class); the second model and the baseline are per image.

# %%
accuracy_rows = []
for name, r in runs.items():
    b_train, b_train_sd = patch_pipeline.mean_std(b["train_accuracy"] for b in baselines[name])
    b_test, b_test_sd = patch_pipeline.mean_std(b["test_accuracy"] for b in baselines[name])
    row = {
        "dataset": NAMES[name],
        "patch MLP train": r.accuracy["patch_mlp_train"], "patch MLP test": r.accuracy["patch_mlp_test"],
        "second model train": r.accuracy["second_train"], "second model test": r.accuracy["second_test"],
        "CNN baseline train (mean)": b_train, "CNN baseline train (std)": b_train_sd,
        "CNN baseline test (mean)": b_test, "CNN baseline test (std)": b_test_sd,
        "baseline runs": len(baselines[name]),
    }
    accuracy_rows.append(row)
    for key, value in r.accuracy.items():
        results.number(f"{name}_{key}", value)
results.table("baseline_runs", [{"dataset": NAMES[n], **b} for n, bs in baselines.items() for b in bs])
report.show(results.table("accuracy", accuracy_rows), 2)

# %%
majority, gaps = {}, {}
for name, r in runs.items():
    share = 100.0 * float(torch.bincount(r.test_labels).max()) / len(r.test_labels)
    majority[name] = results.number(f"{name}_majority_class_test_share", share)
    b_test, _ = patch_pipeline.mean_std(b["test_accuracy"] for b in baselines[name])
    # differences of accuracies (%); rounded to 1e-6 to drop the float32 noise of the accuracies
    gaps[name] = results.number(f"{name}_second_minus_baseline_test", round(r.accuracy["second_test"] - b_test, 6))
    results.number(f"{name}_patch_mlp_test_minus_majority", round(r.accuracy["patch_mlp_test"] - share, 6))
report.show(pd.DataFrame([{"dataset": NAMES[n], "largest class share of the test subset (%)": v} for n, v in majority.items()]), 1)

# %% [markdown]
# The paper's Table 5 states lower bounds (above 97% training and 92% test accuracy on all
# three problems). Each row below that misses its bound names the known cause for its dataset.

# %%
SPLIT_SIZE = {row["dataset"]: row["train (split)"] for row in dataset_rows}
BRANCH = "a small CNN trained from scratch" if image_branch == "small" else "VGG-16 with ImageNet weights"


def second_model_reason(name):
    """Why our second model on ``name`` misses the paper's bound: the settings that differ."""
    text = (f"{BRANCH} on {len(runs[name].train_labels):,} {NAMES[name]} images for "
            f"{second_epochs} epoch{'s' if second_epochs != 1 else ''} behind a QIL without staircase (paper: ImageNet-pretrained VGG-16 on all "
            f"{SPLIT_SIZE[NAMES[name]]:,} training images at 224x224, 80 epochs)")
    if name == "fer2013":
        text += "; the paper used its second methodology (one VGG-16 per class) here"
    return text


second_ours = {f"{n}_{s}": runs[n].accuracy[f"second_{s}"] if n in runs else float("nan")
               for n in ("mnist", "cifar10", "fer2013") for s in ("train", "test")}
second_reasons = {f"{n}_{s}": second_model_reason(n) for n in runs for s in ("train", "test")}
report.show(results.compare("second_model", second_ours, second_reasons), 2)

# %% [markdown]
# Training accuracy above 97% on all three problems {claim}`second_train_above_97`; test
# accuracy above 92% {claim}`second_test_above_92`.
#
# The paper also compares the second model (grid + image) with the same image network alone
# (its Table 6, 10 runs of VGG-16): adding the patch probabilities "did not really affect the
# performance". Here, on the test images:

# %%
def versus_text(name):
    """One sentence: second model against the image-only CNN and the larger-class share."""
    r, gap, share = runs[name], gaps[name], majority[name]
    second = r.accuracy["second_test"]
    side = lambda d: "level with" if abs(d) < 0.05 else f"{abs(d):.1f} points {'above' if d > 0 else 'below'}"
    return (f"- **{NAMES[name]}**: second model {second:.1f}%, image-only CNN {second - gap:.1f}% "
            f"(mean of {len(baselines[name])} runs): the second model is {side(gap)} it. Always answering the larger "
            f"class would score {share:.1f}%: the second model is {side(second - share)} that.")


display(Markdown("\n".join(versus_text(n) for n in runs)))

# %% [markdown]
# The second model's test accuracy within 2 points of the image-only CNN's on every dataset
# (the paper's "really close") {claim}`close_to_cnn_baseline`; at most 2 points below it (the
# abstract's "competitive performance with standard CNNs") {claim}`competitive_with_cnn`. The
# paper notes of its FER2013 patch MLP that it almost always predicts "not happy", so that its
# accuracy follows the non-happy share: within 3 points of the larger-class share here
# {claim}`fer2013_patch_mlp_majority`.
#
# ## The rulesets (the paper's Table 7)
#
# On the test images: fidelity (an activated rule agrees with the model, or no rule fires and
# the default rule agrees), rule accuracy, explainability rate, default rule rate, mean
# correct and wrong activated rules, and the model's accuracy overall, where the rules agree
# with it, and where an activated rule agrees with it ({mod}`nesy.rules.stats`). The
# training-set rows show the same on the samples FidexGlo covered (fidelity 100% by
# construction unless Fidex had to lower its fidelity target).

# %%
PERCENT = ("fidelity", "accuracy", "explainability_rate", "default_rule_rate", "model_accuracy",
           "model_accuracy_when_rules_agree", "model_accuracy_when_activated_rules_agree")
rule_rows = []
for name, r in runs.items():
    for split, st in (("train", r.rule_train_stats), ("test", r.rule_test_stats)):
        row = {"dataset": NAMES[name], "set": split}
        for key, value in st.as_dict().items():
            row[key] = 100.0 * value if key in PERCENT else value
            results.number(f"{name}_{split}_{key}", row[key])
        rule_rows.append(row)
    results.number(f"{name}_samples_without_rule", len(r.ruleset.samples_without_rule))
    results.number(f"{name}_fidex_paths", r.ruleset.path_counts)
frame = results.table("ruleset_statistics", rule_rows)
report.show(frame.rename(columns=lambda c: c.replace("_", " ")), 2)

# %%
test_stats = {n: r.rule_test_stats for n, r in runs.items()}
nan = float("nan")


def second_model_text(name):
    r = runs[name]
    return (f"{NAMES[name]}'s second model here is {BRANCH} on {len(r.train_labels):,} images "
            f"({r.accuracy['second_test']:.1f}% test accuracy) behind a QIL without staircase")


tables = []
if "mnist" in test_stats:
    mnist_reasons = {
        "fidelity": (f"{second_model_text('mnist')}: it is not constant between the hyperplanes the rules use, so its "
                     f"{test_stats['mnist'].n_rules} rules, fitted to the training samples, carry over less to new images"),
        "accuracy": (f"the rules follow the second model ({runs['mnist'].accuracy['second_test']:.1f}% test accuracy; "
                     f"paper: VGG-16, above 92%), and rules that mimic a model are right about as often as it is"),
    }
    tables.append(results.compare("ruleset_mnist", {"fidelity": 100 * test_stats["mnist"].fidelity, "accuracy": 100 * test_stats["mnist"].accuracy},
                                  mnist_reasons))


def found_reason(name):
    text = (f"{second_model_text(name)}: other decision regions, so its {test_stats[name].n_rules} rules "
            f"(from {runs[name].rule_train_stats.n_samples:,} training samples) cover another share of the test set")
    if name == "fer2013":
        text += "; the paper used its second methodology (one VGG-16 per class) here"
    return text


def antecedents_reason(name):
    n = runs[name].rule_train_stats.n_samples
    if test_stats[name].mean_antecedents < 3.0:
        return (f"FidexGlo covers {n:,} training samples here (paper: the whole training set); with fewer samples to "
                f"separate, fewer antecedents can reach full fidelity (not measured separately)")
    return (f"a possible cause: {second_model_text(name)}, which is not constant between the QIL's hyperplanes, so "
            f"isolating samples of one class can take more conditions (not measured separately)")


tables.append(results.compare("rule_found", {n: 100 * (1 - test_stats[n].default_rule_rate) if n in test_stats else nan for n in ("mnist", "cifar10", "fer2013")},
                              {n: found_reason(n) for n in test_stats}))
tables.append(results.compare("antecedents", {n: test_stats[n].mean_antecedents if n in test_stats else nan for n in ("mnist", "cifar10", "fer2013")},
                              {n: antecedents_reason(n) for n in test_stats}))
report.show(pd.concat(tables, ignore_index=True), 2)

# %% [markdown]
# The paper's Table 7 claims, as this run measures them:
#
# - MNIST test fidelity 99.05%: {claim}`mnist_fidelity`; rule accuracy 98.82%:
#   {claim}`mnist_rule_accuracy`; fidelity above rule accuracy: {claim}`mnist_fidelity_above_accuracy`.
# - A rule fires for about 97.8% of the MNIST test samples: {claim}`rule_found_mnist`; 69% of
#   CIFAR-10's: {claim}`rule_found_cifar10`; 84% of FER2013's: {claim}`rule_found_fer2013`.
# - Three to four antecedents per rule on every dataset: {claim}`antecedents_three_to_four`;
#   MNIST the fewest: {claim}`mnist_fewest_antecedents`; MNIST rules the largest covering:
#   {claim}`mnist_largest_covering`; CIFAR-10 the most rules: {claim}`cifar10_most_rules`.
# - CIFAR-10 test fidelity and accuracy both below MNIST's: {claim}`cifar10_below_mnist`.
# - The model's test accuracy higher where the rules agree with it:
#   {claim}`accuracy_up_when_rules_agree`; higher still where an activated rule agrees:
#   {claim}`accuracy_up_when_activated`.
# - Wrong activated rules rarest on MNIST: {claim}`wrong_rules_rare_mnist`; more than one
#   correct activated rule per test sample on average: {claim}`several_rules_per_sample`.
# - Training fidelity 100% (Sect. 4.2): {claim}`train_fidelity_100`.

# %% [markdown]
# ## Compute time per stage (the paper's Table 8)
#
# The paper trained on one GPU and extracted rules on 48 CPU cores; here everything runs on 2
# CPU cores, on the default profile's subsets. The benchmark `bench/rules.py` compares this
# project's FidexGlo kernel with dimlpfidex 1.0.1 {cite:p}`hesxplain_dimlpfidex`, the
# authors' implementation, on identical inputs (time, rules, fidelity).

# %%
time_rows = []
for name, r in runs.items():
    row = {"dataset": NAMES[name], **{k: v for k, v in r.seconds.items()},
           "CNN baseline (all runs)": sum(b["seconds"] for b in baselines[name])}
    time_rows.append(row)
report.show(results.table("compute_time_s", time_rows), 1)

# %% [markdown]
# ## Rules, drawn
#
# As in the paper's Figures 3-9: the image, the image with every antecedent, then one panel
# per antecedent whose title states it exactly. A patch-probability antecedent is the square
# of its patch, a pixel antecedent that single pixel (values in [0, 1]); green for ≥, red for
# <. For each dataset we draw a test sample that activates two rules agreeing with the model
# (the paper's Figures 5-6 and 7-8), and, as in its Figure 4, another test sample covered by
# the first of them.

# %%
def correct_rules(r, i):
    """Indices of the rules that fire on test sample i and predict the model's class."""
    x = r.test_features[i : i + 1].numpy()
    return [k for k, rule in enumerate(r.ruleset.rules) if rule.output_class == int(r.test_pred[i]) and rule.holds(x)[0]]


def image_of(name, i):
    return loaded[name][2][i].numpy()


figure_rows = []
for name, r in runs.items():
    classes = loaded[name][4]
    chosen = next((i for i in range(len(r.test_labels)) if len(correct_rules(r, i)) >= 2), None)
    if chosen is None:
        chosen = next((i for i in range(len(r.test_labels)) if correct_rules(r, i)), None)
    if chosen is None:
        print(f"{NAMES[name]}: no test sample activates a rule")
        continue
    picks = correct_rules(r, chosen)[:2]
    for k in picks:
        rule = r.ruleset.rules[k]
        title = (f"{NAMES[name]} test sample {chosen} (true {classes[int(r.test_labels[chosen])]}, model "
                 f"{classes[int(r.test_pred[chosen])]}): rule {k} -> {classes[rule.output_class]}, covers "
                 f"{rule.covering_size} training samples, fidelity {100 * rule.fidelity:.0f}%")
        fig = drawing.draw_rule(image_of(name, chosen), rule, r.layout, classes, title)
        results.figure(fig, f"{name}_sample{chosen}_rule{k}", title)
        plt.show()
        figure_rows.append({"dataset": NAMES[name], "test sample": chosen, "rule": k, "antecedents": len(rule.antecedents)})
    k = picks[0]
    others = [i for i in np.flatnonzero(r.ruleset.rules[k].holds(r.test_features.numpy())) if i != chosen]
    if others:
        rule, other = r.ruleset.rules[k], int(others[0])
        title = (f"{NAMES[name]} test sample {other} (true {classes[int(r.test_labels[other])]}, model "
                 f"{classes[int(r.test_pred[other])]}): the same rule {k} -> {classes[rule.output_class]}")
        fig = drawing.draw_rule(image_of(name, other), rule, r.layout, classes, title)
        results.figure(fig, f"{name}_sample{other}_rule{k}", title)
        plt.show()
        figure_rows.append({"dataset": NAMES[name], "test sample": other, "rule": k, "antecedents": len(rule.antecedents)})
results.table("rule_figures", figure_rows);

# %% [markdown]
# ## Explore the rules
#
# Pick a dataset and a test sample (the first `widget_samples` of the test subset); the list
# shows the rules it activates (none: the default rule, i.e. the model's class, applies);
# click one to draw its antecedents on the image (same colours as above) and list them. The
# images, the rules they activate and each antecedent's shape and text are embedded in the
# page, so this works in the static book; in a live kernel, changing `explorer.sample` or
# `explorer.dataset` recomputes the activated rules from the samples' features.

# %%
with results.stage("widget"):
    entries = {}
    for name, r in runs.items():
        n = min(widget_samples, len(r.test_labels))
        entries[NAMES[name]] = dataset_entry(
            loaded[name][2][:n].numpy(), r.test_features[:n], r.test_labels[:n], r.test_pred[:n],
            r.ruleset.rules, r.layout, loaded[name][4],
        )
    start = next(((d, i) for d, e in entries.items() for i, s in enumerate(e["samples"]) if len(s["activated"]) >= 2), (next(iter(entries)), 0))
    explorer = RulesExplorer(entries, dataset=start[0], sample=start[1])
results.number("widget_embedded_rules", {d: len(e["rules"]) for d, e in entries.items()})
explorer

# %% [markdown]
# ## What this chapter runs, and what not
#
# The chapter runs the paper's whole first methodology on all three datasets: rules that mix
# patch-probability and pixel antecedents, their drawings, samples explained by several rules,
# and the statistics of the paper's Tables 4-8. It does not run the paper's scale at the
# default profile (whole datasets, every patch, VGG-16 on 224×224 images, 60/80 epochs, 10
# baseline runs) nor its second methodology for FER2013: the models here are small CNNs
# trained briefly on 2 CPU cores. `PROFILE=paper` runs the paper's setting on a machine with
# internet and a GPU. Which of the paper's claims hold in this run is computed in the claims
# table below.

# %% tags=["remove-input"]
results.save();
