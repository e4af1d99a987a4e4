"""The patch-rules chapter's experiments on its three datasets: loading them, the pipeline
settings per dataset, and the tables, sentences and reasons the chapter shows beside the
paper's numbers (Bologna et al.'s Tables 1-8 and Figures 3-9).

``runs`` below is always ``{dataset: PipelineRun}`` (:func:`nesy.rules.patch_pipeline.run`)
and ``baselines`` ``{dataset: [baseline run dicts]}`` (:func:`~nesy.rules.patch_pipeline.baseline`).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch

from nesy import data
from nesy.rules import patch_pipeline

__all__ = [
    "NAMES", "PERCENT", "HEURISTIC_TEXT", "PAPER_FIGURES", "fer2013_usages", "load", "dataset_row", "fer2013_happy",
    "fer2013_sharpness_rows", "sharpness_text", "pipeline_settings", "branch_text", "patch_row", "baseline_test_mean",
    "accuracy_row",
    "majority_share", "second_model_reason", "versus_text", "ruleset_rows", "heuristic_text", "methodology_rows",
    "second_model_text", "fidelity_gap_text", "found_reason", "antecedents_reason", "figure_choices", "rule_title",
    "figure_row", "widget_start",
]

NAMES = {"mnist": "MNIST", "cifar10": "CIFAR-10", "fer2013": "FER2013"}


def fer2013_usages() -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """FER2013's three Kaggle usages, ``{"Training" | "PublicTest" | "PrivateTest": (images uint8
    [N, 48, 48], 7-class labels int64 [N])}``, each split read from the cache once for the data
    cell's three uses (:func:`load`, :func:`fer2013_happy`, :func:`fer2013_sharpness_rows`)."""
    return {**data.fer2013_usages("train"), **data.fer2013_usages("test")}


def load(name: str, fer2013_train_usage: str = "Training", usages: Mapping | None = None):
    """``(train images, train labels, test images, test labels, class names)`` of one dataset
    (FER2013 as happy / not happy; its training images from the Kaggle usage given, taken from
    ``usages`` (:func:`fer2013_usages`) when the caller has read them)."""
    if name == "mnist":
        (x, y), (xt, yt) = data.mnist("train"), data.mnist("test")
        return x, y, xt, yt, [str(d) for d in range(10)]
    if name == "cifar10":
        from nesy.data.loader_cifar10 import CLASSES

        (x, y), (xt, yt) = data.cifar10("train"), data.cifar10("test")
        return x, y, xt, yt, list(CLASSES)
    from nesy.data.loader_fer2013 import HAPPY

    usages = usages if usages is not None else fer2013_usages()
    if fer2013_train_usage == "Training":  # tested on the whole test split, in its own order
        (x, y), (xt, yt) = usages["Training"], data.fer2013("test")
    else:
        (x, y), (xt, yt) = usages["PublicTest"], usages["PrivateTest"]
    return x, (y == HAPPY).long(), xt, (yt == HAPPY).long(), ["not happy", "happy"]


def dataset_row(name: str, x, y, yt, used_train: int, used_test: int, classes) -> dict:
    """One row of the data table: image size, classes, split sizes and the subsets used."""
    return {"dataset": NAMES[name], "image size": "×".join(str(s) for s in x.shape[1:]), "classes": len(classes),
            "train (split)": len(y), "test (split)": len(yt), "train (used)": used_train, "test (used)": used_test}


def fer2013_happy(usages: Mapping[str, tuple[torch.Tensor, torch.Tensor]]) -> tuple[int, int, float]:
    """Happy faces over all of FER2013 (``usages``: :func:`fer2013_usages`): ``(happy, all, share in %)``."""
    from nesy.data.loader_fer2013 import HAPPY

    labels = torch.cat([labels for _, labels in usages.values()])
    happy, total = int((labels == HAPPY).sum()), len(labels)
    return happy, total, 100.0 * happy / total


def fer2013_sharpness_rows(usages: Mapping[str, tuple[torch.Tensor, torch.Tensor]]) -> list[dict]:
    """Median sharpness (:func:`nesy.data.sharpness`) of each Kaggle usage's images (``usages``:
    :func:`fer2013_usages`)."""
    return [{"usage": usage, "images": len(images), "sharpness (median)": float(data.sharpness(images).median())}
            for usage, (images, _) in usages.items()]


def sharpness_text(ratio: float, train_usage: str, n_train_used: int) -> str:
    """What the Training / PrivateTest sharpness ratio means for this run's FER2013 split."""
    return (f"The mirror's Training images are {ratio:.1f} times less sharp than its PrivateTest images "
            + ("(blurred or recompressed in the copy the mirror was made from): a model trained on them is tested on "
               "images of another kind. " if ratio > 1.5 else "(about as sharp). ")
            + (f"This run trains on PublicTest ({n_train_used:,} of its images) and tests on PrivateTest, "
               "images of one kind; a user with Kaggle's `fer2013.csv` can set `fer2013_train_usage: Training`."
               if train_usage == "PublicTest" else "This run trains on them anyway (`fer2013_train_usage: Training`)."))


def pipeline_settings(name: str, p: Mapping) -> patch_pipeline.PipelineSettings:
    """The pipeline settings of one dataset from the chapter's parameters ``p`` (the per-dataset
    values: ``mnist_*`` for MNIST, ``fer2013_*`` for FER2013)."""
    mnist, fer = name == "mnist", name == "fer2013"
    branch = p["mnist_image_branch"] if mnist else p["image_branch"]
    tuning = p["fer2013_finetune_epochs"] if fer else p["finetune_epochs"]
    return patch_pipeline.PipelineSettings(
        patch_size=p["fer2013_patch_size"] if fer else p["patch_size"], stride=1,
        patches_per_image=(p["mnist_patches_per_image"] if mnist else p["patches_per_image"]) or None,
        mlp_epochs=p["mlp_epochs"], mlp_batch_size=p["mlp_batch_size"], mlp_learning_rate=p["mlp_learning_rate"],
        second_epochs=p["mnist_second_epochs"] if mnist else p["second_epochs"],
        second_batch_size=p["second_batch_size"], second_learning_rate=p["second_learning_rate"],
        prob_widths=tuple(p["prob_widths"]), upsample=p["upsample"], image_branch=branch,
        image_widths=tuple(p["image_widths"]), backbone_size=p["fer2013_backbone_size"] if fer else p["backbone_size"],
        finetune_epochs=tuning if branch == "efficientnet-lite0" else 0,
        finetune_learning_rate=p["finetune_learning_rate"], finetune_frozen_blocks=p["finetune_frozen_blocks"],
        staircase=p["staircase"], methodology=p["fer2013_methodology"] if fer else 1, qil_steps=p["qil_steps"],
        rule_samples=(p["mnist_rule_samples"] if mnist else p["rule_samples"]) or None,
        max_iterations=p["max_iterations"], dropout=p["fer2013_dropout"] if fer else p["dropout"],
        heuristics=tuple(p["heuristics"]), seed=p["seed"],
    )


def branch_text(settings: patch_pipeline.PipelineSettings) -> str:
    """The image branch of a second model, in words."""
    s = settings
    if s.image_branch == "efficientnet-lite0":
        tuned = (f"fine-tuned {s.finetune_epochs} epoch{'s' if s.finetune_epochs != 1 else ''} on the training images, "
                 "then frozen" if s.finetune_epochs else "frozen")
        return (f"an ImageNet EfficientNet-Lite0, {tuned} (features of the image after the QIL at {s.backbone_size} px), "
                f"with dense layers trained on top")
    return "VGG-16 with ImageNet weights" if s.image_branch == "vgg16" else "a small CNN trained from scratch"


def patch_row(name: str, r) -> dict:
    """One row of the patches table (the paper's Tables 2 and 3)."""
    rows, cols = r.layout.grid
    return {
        "dataset": NAMES[name], "patch": f"{r.settings.patch_size}×{r.settings.patch_size}×{r.layout.channels}",
        "patches per image": r.n_patches["per_image"], "train patches (all)": r.n_patches["train_total"],
        "test patches (all)": r.n_patches["test_total"], "patches the MLP trained on": r.n_patches["mlp_training"],
        "second-model input": f"{rows}×{cols}×{r.layout.n_classes} + {r.layout.height}×{r.layout.width}×{r.layout.channels}",
        "rule features": r.layout.n_features,
    }


def baseline_test_mean(baselines: Sequence[dict]) -> float:
    """The mean test accuracy (%) of the image branch alone over its runs (`baselines`: one
    :func:`~nesy.rules.patch_pipeline.baseline` result dict a run)."""
    return patch_pipeline.mean_std(b["test_accuracy"] for b in baselines)[0]


def accuracy_row(name: str, r, baselines: Sequence[dict]) -> dict:
    """One row of the accuracy table (the paper's Tables 4-6): the patch MLP, the second model
    and the image branch alone (mean and std over the baseline runs)."""
    b_train, b_train_sd = patch_pipeline.mean_std(b["train_accuracy"] for b in baselines)
    b_test, b_test_sd = patch_pipeline.mean_std(b["test_accuracy"] for b in baselines)
    return {
        "dataset": NAMES[name],
        "patch MLP train": r.accuracy["patch_mlp_train"], "patch MLP test": r.accuracy["patch_mlp_test"],
        "second model train": r.accuracy["second_train"], "second model test": r.accuracy["second_test"],
        "image branch alone train (mean)": b_train, "image branch alone train (std)": b_train_sd,
        "image branch alone test (mean)": b_test, "image branch alone test (std)": b_test_sd,
        "baseline runs": len(baselines), "image branch": r.settings.image_branch, "methodology": r.settings.methodology,
    }


def majority_share(r) -> float:
    """Share (%) of the test subset in its largest class."""
    return 100.0 * float(torch.bincount(r.test_labels).max()) / len(r.test_labels)


def second_model_reason(name: str, r, baselines: Sequence[dict], split_size: int, numbers: Mapping) -> str:
    """Why the second model on ``name`` may miss the paper's bound: its settings, and what the
    image branch alone reaches (``numbers``: the results' numbers, for the ablation gains)."""
    s = r.settings
    text = (f"{branch_text(s)}, on {len(r.train_labels):,} {NAMES[name]} images for {s.second_epochs} epoch"
            f"{'s' if s.second_epochs != 1 else ''} (paper: VGG-16 trained with the rest on all "
            f"{split_size:,} training images at 224x224, 80 epochs)")
    b_test = baseline_test_mean(baselines)
    if b_test < 92.0:
        text += f"; the image branch alone reaches {b_test:.1f}% test accuracy here"
        gain = numbers[f"{name}_frozen_last_doubling_gain"]
        if gain is not None:
            text += (f"; on the ImageNet features, doubling its training images from {len(r.train_labels) // 2:,} to "
                     f"{len(r.train_labels):,} changed that by {gain:+.1f} points")
        tuned = numbers[f"{name}_finetune_gain"]
        if tuned is not None:
            text += f", and the fine-tuning by {tuned:+.1f} points"
    if s.methodology == 2:
        text += "; second methodology (a network per class), as the paper"
    return text


def versus_text(name: str, r, gap: float, share: float, n_baselines: int) -> str:
    """One sentence: the second model against the image branch alone and the larger-class share."""
    second = r.accuracy["second_test"]
    side = lambda d: "level with" if abs(d) < 0.05 else f"{abs(d):.1f} points {'above' if d > 0 else 'below'}"  # noqa: E731
    return (f"- **{NAMES[name]}**: second model {second:.1f}%, the image branch alone {second - gap:.1f}% "
            f"(mean of {n_baselines} runs): the second model is {side(gap)} it. Always answering the larger "
            f"class would score {share:.1f}%: the second model is {side(second - share)} that.")


PERCENT = ("fidelity", "accuracy", "explainability_rate", "default_rule_rate", "model_accuracy",
           "model_accuracy_when_rules_agree", "model_accuracy_when_activated_rules_agree")
HEURISTIC_TEXT = {1: "1 (authors' code: greedy set cover)", 2: "2 (paper's text: by coverage)"}


def ruleset_rows(name: str, r, heuristics: Sequence[int]) -> list[tuple[dict, dict]]:
    """Per heuristic and split, the ruleset statistics row (fractions in %) and the results
    numbers it gives (``{name: value}``; the main heuristic's without an ``_h<k>`` tag)."""
    out = []
    for h in heuristics:
        for split, st in (("train", r.main.train_stats[h]), ("test", r.main.test_stats[h])):
            row, numbers = {"dataset": NAMES[name], "heuristic": HEURISTIC_TEXT[h], "set": split}, {}
            for key, value in st.as_dict().items():
                row[key] = 100.0 * value if key in PERCENT else value
                numbers[f"{name}_{split}_{key}" if h == heuristics[0] else f"{name}_h{h}_{split}_{key}"] = row[key]
            out.append((row, numbers))
    return out


def heuristic_text(name: str, r, heuristics: Sequence[int]) -> str:
    """One sentence comparing the first two heuristics' test rulesets on ``name``."""
    a, b = (r.main.test_stats[h] for h in heuristics[:2])
    return (f"- **{NAMES[name]}**: local rules for {r.ruleset.n_fidex_runs:,} of {len(r.train_labels):,} training images; "
            f"heuristic {heuristics[0]} keeps {a.n_rules} rules (test fidelity {100 * a.fidelity:.2f}%, a rule fires for "
            f"{100 * (1 - a.default_rule_rate):.1f}%), heuristic {heuristics[1]} {b.n_rules} "
            f"({100 * b.fidelity:.2f}%, {100 * (1 - b.default_rule_rate):.1f}%).")


def methodology_rows(name: str, r, main_heuristic: int) -> list[dict]:
    """One row per methodology run on ``name`` (the main one and the ablation)."""
    rows = []
    for m, e in sorted({r.settings.methodology: r.main, **r.extra}.items()):
        st = e.test_stats[main_heuristic]
        rows.append({"dataset": NAMES[name], "methodology": m, "role": "main" if e is r.main else "ablation",
                     "second model train": e.accuracy["second_train"], "second model test": e.accuracy["second_test"],
                     "rules": st.n_rules, "test fidelity": 100 * st.fidelity, "test rule accuracy": 100 * st.accuracy,
                     "rule found (%)": 100 * (1 - st.default_rule_rate), "antecedents": st.mean_antecedents})
    return rows


def second_model_text(name: str, r) -> str:
    return (f"{NAMES[name]}'s second model here is {branch_text(r.settings)}, on {len(r.train_labels):,} images "
            f"({r.accuracy['second_test']:.1f}% test accuracy)")


def fidelity_gap_text(r) -> str:
    """Where the test fidelity is lost: test images whose activated rules all disagree with the
    model (the only unfaithful ones, since the default rule counts as faithful)."""
    st = r.rule_test_stats
    only_wrong = round(st.n_samples * (1 - st.fidelity))
    return (f"{only_wrong} of {st.n_samples:,} test images activate only rules that disagree with the model (no rule fires "
            f"on {100 * st.default_rule_rate:.1f}%, where the default rule counts as faithful); its {st.n_rules} rules "
            f"come from {r.ruleset.n_fidex_runs:,} local rules, each faithful on {len(r.train_labels):,} training images")


def found_reason(name: str, r) -> str:
    """Why the share of test images some rule explains may differ from the paper's."""
    st = r.rule_test_stats
    text = (f"{second_model_text(name, r)}: its {st.n_rules} rules from {r.ruleset.n_fidex_runs:,} local rules "
            f"(faithful on {len(r.train_labels):,} training images; paper: all of the split) cover "
            f"{100 * (1 - st.default_rule_rate):.1f}% of the test set")
    if r.settings.methodology == 2:
        text += "; second methodology, as the paper"
    return text


def antecedents_reason(name: str, runs: Mapping) -> str:
    """Why the mean number of antecedents may differ, with the order across the datasets run."""
    r = runs[name]
    st = r.rule_test_stats
    others = {n: runs[n].rule_test_stats.mean_antecedents for n in runs}
    order = sorted(others, key=others.get)
    return (f"measured {st.mean_antecedents:.2f} antecedents per rule over {st.n_rules} rules that must each be faithful on "
            f"{len(r.train_labels):,} training images (at most {r.settings.max_iterations}); across the datasets here the "
            f"order from fewest to most is {', '.join(NAMES[n] for n in order)} (paper: nearly the same, three to four)")


#: (dataset, kind, class, the paper's figures): the rule drawings the chapter picks.
PAPER_FIGURES = [("mnist", "rule", "0", "Figs. 3-4"), ("mnist", "two rules", "9", "Figs. 5-6"),
                 ("cifar10", "two rules", "truck", "Figs. 7-8"), ("cifar10", "rule", "horse", "Fig. 9"),
                 ("fer2013", "two rules", "happy", "none (not drawn in the paper)")]


def figure_choices(r, agreeing: np.ndarray, kind: str, cls: int) -> list[tuple[int, int]]:
    """The (test image, rule) pairs to draw: for ``kind="rule"`` the class's first rule on the
    first two right-classified test images of ``cls`` it explains; for ``"two rules"`` the first
    such image two agreeing rules explain, with those two rules. ``agreeing``: bool [rules,
    test images] (:func:`nesy.rules.agreeing_activations`). Empty when nothing fits."""
    candidates = np.flatnonzero((r.test_labels.numpy() == cls) & (r.test_pred.numpy() == cls))
    if kind == "rule":
        k = next((k for k, rule in enumerate(r.ruleset.rules) if rule.output_class == cls), None)
        return [] if k is None else [(int(i), k) for i in candidates if agreeing[k, i]][:2]
    i = next((i for i in candidates if agreeing[:, i].sum() >= 2), None)
    return [] if i is None else [(int(i), int(k)) for k in np.flatnonzero(agreeing[:, i])[:2]]


def rule_title(name: str, r, classes: Sequence[str], i: int, k: int, paper: str) -> str:
    rule = r.ruleset.rules[k]
    return (f"{NAMES[name]} test image {i} (true {classes[int(r.test_labels[i])]}, model {classes[int(r.test_pred[i])]}): "
            f"rule {k} -> {classes[rule.output_class]}, covers {rule.covering_size:,} training images, fidelity "
            f"{100 * rule.fidelity:.0f}% (paper: {paper})")


def figure_row(name: str, r, classes: Sequence[str], i: int | None, k: int | None, paper: str, class_name: str) -> dict:
    """One row of the rule-figures table (``i``, ``k`` None: nothing of that kind here)."""
    if i is None:
        return {"dataset": NAMES[name], "paper": paper, "test image": None, "rule": None,
                "class": class_name, "covers (train)": None, "antecedents": None}
    rule = r.ruleset.rules[k]
    return {"dataset": NAMES[name], "paper": paper, "test image": int(i), "rule": int(k),
            "class": classes[rule.output_class], "covers (train)": rule.covering_size, "antecedents": len(rule.antecedents)}


def widget_start(entries: Mapping[str, dict]) -> tuple[str, int]:
    """The rules explorer's first view: the first sample (over the datasets in order) that
    activates two rules or more, else the first dataset's first sample."""
    return next(((d, i) for d, e in entries.items() for i, s in enumerate(e["samples"]) if len(s["activated"]) >= 2),
                (next(iter(entries)), 0))
