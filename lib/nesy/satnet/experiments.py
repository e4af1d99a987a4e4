"""The Vi-SATNet chapter's experiments on top of the layer: per-class training of ten Vi-SATNets
and its loss rows (Figure 3), the final losses and convergence readings, the feature-layer and
training-loss-gap ablations, Table 1's frames beside the paper's, and the MSF analyses of the
case studies (Figures 4 and 5).

Shapes: feature vectors are ``[N, n, K]`` (``n = H * W`` positions of ``K`` channels, as
:func:`nesy.satnet.feature_vectors` gives them), labels ``[N]`` (class indices), feature maps
``[N, K, H, W]``. Loss frames ("curves") have the columns ``class, epoch, split, loss`` with
``split`` in ``train`` / ``validation``; Table 1 frames are :func:`nesy.satnet.mask_sweep`'s rows.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence

import pandas as pd
import torch
from tqdm.auto import tqdm

from nesy import checks, report
from nesy.data import cached_tensors
from nesy.satnet.agreement import mask_sweep
from nesy.satnet.features import extract_features
from nesy.satnet.msf import far_member_summary, member_distance_histogram, minimal_significant_sets
from nesy.satnet.train import feature_vectors, known_mean_loss, train_visatnet

__all__ = [
    "RATIOS", "per_class", "cached_feature_maps", "maps_at", "training_loss_reasons", "layer_ablation_sentence", "history_rows", "train_all", "final_losses", "convergence", "layer_row", "table1",
    "classifier_rows", "loss_gap", "loss_gap_numbers", "loss_gap_sentence", "table1_numbers", "table1_ours",
    "table1_reasons", "paper_side", "head_ablation", "layer_side", "layer_table_sentence", "choose_images",
    "msf_search", "msf_rows", "msf_summary", "member_distance_analysis", "pick", "found_for",
    "foreground_background",
]

#: Table 1's mask ratios, 10 % to 100 %.
RATIOS = [r / 10 for r in range(1, 11)]


def per_class(labels: torch.Tensor, count: int, classes: int = 10) -> torch.Tensor:
    """Indices of the first `count` items of each class (class by class); `labels` [N] -> [<= classes * count]."""
    return torch.cat([torch.nonzero(labels == c).flatten()[:count] for c in range(classes)])


def cached_feature_maps(extractor: Callable, datasets: Mapping, prepare: Callable, backbone: str, layer: str) -> dict:
    """Feature maps [N, K, H, W] of each split's images (``datasets``: split -> dataset with
    ``.images``), computed once by `extractor` and cached under ``data/cache/imagenette/``."""
    maps = {}
    for split, dataset in datasets.items():
        key = f"features-{backbone}-{layer}-{split}-{len(dataset)}-v2"
        maps[split] = cached_tensors("imagenette", key, lambda: {"fmap": extract_features(
            extractor, dataset.images, prepare, desc=f"{backbone} {split}")})["fmap"]
    return maps


def maps_at(first_maps: Mapping[str, torch.Tensor], layer: str, first_layer: str, project: Callable) -> dict:
    """Feature maps of every split at `layer`: `first_maps` itself at `first_layer`, else
    ``project`` (e.g. the head's 1x1 convolution, [B, K, H, W] -> [B, K', H, W]) in batches of 256."""
    if layer == first_layer:
        return first_maps
    with torch.no_grad():
        return {split: torch.cat([project(f) for f in fmap.split(256)]) for split, fmap in first_maps.items()}


def history_rows(train: Sequence[float], val: Sequence[float], **key) -> list[dict]:
    """Loss rows ``{**key, epoch, split, loss}`` of one training run (train losses first, epochs from 1)."""
    return [{**key, "epoch": e + 1, "split": split, "loss": loss}
            for split, losses in (("train", train), ("validation", val)) for e, loss in enumerate(losses)]


def train_all(train_v: torch.Tensor, train_y: torch.Tensor, val_v: torch.Tensor, val_y: torch.Tensor, *, m: int,
              epochs: int, name: str, seed: int, classes: int = 10, **settings) -> tuple[list, pd.DataFrame]:
    """One Vi-SATNet per class (class c seeded ``seed + c``), trained on ``train_v[train_y == c]``
    ([N, n, K], [N]) and validated on ``val_v[val_y == c]``; returns the layers and the per-epoch
    loss rows of Figure 3. ``settings``: :func:`nesy.satnet.train_visatnet`'s batch_size,
    mask_ratio, learning_rate, aux, truth."""
    layers, rows = [], []
    bar = tqdm(range(classes), desc=f"{name} Vi-SATNets")
    for c in bar:
        layer, history = train_visatnet(train_v[train_y == c], val_v[val_y == c], m=m, epochs=epochs, seed=seed + c,
                                        **settings)
        layers.append(layer)
        rows += history_rows(history.train, history.val, **{"class": c})
        bar.set_postfix(val_loss=f"{history.val[-1]:.3f}")
    return layers, pd.DataFrame(rows)


def final_losses(frame: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    """The last epoch's loss per class: columns ``name, train, validation``."""
    last = frame[frame.epoch == frame.epoch.max()]
    table = last.pivot_table(index="class", columns="split", values="loss").reset_index()
    table.insert(0, "name", [names[c] for c in table["class"]])
    return table.drop(columns="class")


def convergence(frame: pd.DataFrame, name: str, epoch: int = 30) -> dict:
    """Whether the run trains past `epoch` and, if so, the mean validation loss's relative fall
    from that epoch to the last (the paper: converged by about epoch 30), as named numbers."""
    mean = frame[frame.split == "validation"].groupby("epoch").loss.mean()
    past = bool(mean.index.max() > epoch)
    numbers = {f"{name}_trained_past_epoch_{epoch}": past}
    if past:
        numbers[f"{name}_val_loss_relative_fall_after_epoch_{epoch}"] = float((mean.loc[epoch] - mean.iloc[-1]) / mean.loc[epoch])
    return numbers


def layer_row(layer: str, curves: pd.DataFrame, vectors: torch.Tensor, names: Sequence[str], mask_ratio: float,
              seed: int) -> dict:
    """The layer ablation's row: final losses (means over classes) against the known-mean
    completion on the validation `vectors` [N, n, K]."""
    known_mean = known_mean_loss(vectors, mask_ratio, seed)
    final = final_losses(curves, names)
    return {"feature_layer": layer, "K": int(vectors.shape[-1]), "train loss": float(final.train.mean()),
            "validation loss": float(final.validation.mean()), "known-mean loss": known_mean,
            "validation / known-mean": float(final.validation.mean()) / known_mean}


def layer_ablation_sentence(rows: Sequence[dict], feature_layer: str, images: int, epochs: int) -> str:
    """The sentence under the layer ablation: each layer's losses and which has the lowest ratio."""
    best = min(rows, key=lambda row: row["validation / known-mean"])
    ranking = "; ".join(f"`{r['feature_layer']}` (K = {r['K']}): validation loss {r['validation loss']:.3f}, "
                        f"{r['validation / known-mean']:.2f} of the known-mean completion's {r['known-mean loss']:.3f}"
                        for r in rows)
    verdict = ("the layer this chapter reads" if best["feature_layer"] == feature_layer else
               f"not the layer this chapter reads (`feature_layer: {feature_layer}`)")
    return (f"With {images} training images per class and {epochs} "
            f"epochs: {ranking}. The lower ratio is that of `{best['feature_layer']}`, {verdict}.")


def training_loss_reasons(*, mnist_epochs: int, mnist_per_class: int, imagenette_epochs: int,
                          imagenette_per_class: int, backbone: str, channels: int) -> dict:
    """Why the final training losses differ from the paper's (keys of its ``training_loss`` table)."""
    return {"mnist_final_train_loss": f"{mnist_epochs} epochs on {mnist_per_class} digits per class (paper: 50 epochs"
                                      f" on the full training split); same LeNet-5 feature shape",
            "imagenette_final_train_loss": f"{imagenette_epochs} epochs on {imagenette_per_class} images per class"
                                           f" (paper: 50 on the full training split)"
                                           + (f" and a different backbone ({backbone}, K={channels}); which of the two"
                                              f" accounts for the difference is not measured here"
                                              if backbone != "vgg19" else "")}


def table1(layers, heads, vectors: torch.Tensor, labels: torch.Tensor, height: int, width: int, *, masks: int,
           seed: int, name: str, ratios: Sequence[float] = RATIOS) -> pd.DataFrame:
    """Table 1 (:func:`nesy.satnet.mask_sweep`) with a progress bar: `vectors` [N, n, K], `labels` [N]."""
    bar = tqdm(total=len(ratios) * masks, desc=f"{name} Table 1")
    rows = mask_sweep(layers, heads, vectors, labels, height, width, ratios, masks, seed=seed,
                      on_progress=lambda done, total: bar.update(1))
    bar.close()
    return pd.DataFrame(rows)


def classifier_rows(heads: Mapping, evidence_heads: Mapping, own, accuracy: Callable, *, backbone: str,
                    classifier_input: str, other_input: str) -> list[dict]:
    """The rows of the C table: role and weights of each head and ``accuracy(head)`` (a pair:
    raw features, unit vectors, in %); `own` is the backbone's own classifier."""
    rows = []
    for name, head in list(heads.items()) + list(evidence_heads.items()):
        fitted_on = classifier_input if name in heads else other_input
        raw, unit = accuracy(head)
        rows.append({
            "C": name, "role": "main" if name == "flatten" else "ablation" if name == "pooled" else "evidence only",
            "weights": f"{backbone}'s own" if head is own else f"trained here on {fitted_on}",
            "accuracy, raw features (%)": raw, "accuracy, unit vectors (%)": unit,
        })
    return rows


def loss_gap(variants: Sequence[tuple], classes: Sequence[int], names: Sequence[str], main_curves: pd.DataFrame,
             train_maps: torch.Tensor, train_labels: torch.Tensor, gap_train_idx: torch.Tensor, val_v: torch.Tensor,
             val_y: torch.Tensor, *, book: str, m: int, mask_ratio: float, seed: int,
             stage: Callable = contextlib.nullcontext, **settings) -> tuple[list[dict], list[dict]]:
    """The training-loss gap: for each class in `classes`, each variant ``(name, images per class,
    epochs, truth, aux)``; the variant named `book` is read off `main_curves`, the others train
    again on ``train_maps[idx]`` ([N, K, H, W]) with ``stage(f"loss gap: {name}, {class name}")``
    around each run. Returns the rows (with their stage name) and the loss rows
    ``class, setting, epoch, split, loss``. ``settings``: batch_size, learning_rate."""
    rows, curves = [], []
    for c in classes:
        val_c = val_v[val_y == c]
        known_mean = known_mean_loss(val_c, mask_ratio, seed)
        for name, per_class_images, epochs, use_truth, n_aux in variants:
            stage_name = f"loss gap: {name}, {names[c]}"
            if name == book:  # the main run's Vi-SATNet of class c
                part = main_curves[main_curves["class"] == c]
                train_loss = part[part.split == "train"].loss.tolist()
                val_loss = part[part.split == "validation"].loss.tolist()
            else:
                idx = gap_train_idx[train_labels[gap_train_idx] == c][:per_class_images]
                with stage(stage_name):
                    _, history = train_visatnet(feature_vectors(train_maps[idx]), val_c, m=m, epochs=epochs,
                                                mask_ratio=mask_ratio, aux=n_aux, truth=use_truth, seed=seed + c,
                                                **settings)
                train_loss, val_loss = history.train, history.val
            rows.append({"class": names[c], "setting": name, "images": per_class_images, "epochs": epochs,
                         "truth": use_truth, "aux": n_aux, "train loss": train_loss[-1],
                         "validation loss": val_loss[-1], "known-mean loss": known_mean,
                         "validation / known-mean": val_loss[-1] / known_mean, "stage": stage_name})
            curves += history_rows(train_loss, val_loss, **{"class": c, "setting": name})
    return rows, curves


def loss_gap_numbers(gap_mean: pd.DataFrame, keys: Mapping[str, str]) -> dict:
    """Mean validation and train loss per setting (``keys``: setting -> number key part)."""
    numbers = {}
    for name, key in keys.items():
        numbers[f"imagenette_loss_gap_{key}_validation"] = float(gap_mean.loc[name, "validation loss"])
        numbers[f"imagenette_loss_gap_{key}_train"] = float(gap_mean.loc[name, "train loss"])
    return numbers


def loss_gap_sentence(validation: pd.Series, rows: Sequence[dict], class_names: Sequence[str], seconds_of: Callable,
                      book: str, paper: str, wang: str) -> str:
    """The sentence under the loss-gap table (`validation`: mean final validation loss by setting)."""
    return (
        f"Over {len(class_names)} class{'es' if len(class_names) > 1 else ''} "
        f"({', '.join(class_names)}) the final validation loss is {validation[book]:.3f} with this "
        f"chapter's settings, {validation[paper]:.3f} with the paper's schedule ({validation[paper] - validation[book]:+.3f}) "
        f"and {validation[wang]:.3f} with Wang et al.'s settings ({validation[wang] - validation[book]:+.3f}); the paper "
        f"reports about 0.01. The extra training runs took "
        + ", ".join(f"{seconds_of(r):.0f} s ({r['setting']}, {r['class']})" for r in rows if r["setting"] != book)
        + " on this machine.")


def _at(table: pd.DataFrame, column: str, ratio) -> float:
    return float(table[table.mask_ratio == ratio].iloc[0][f"{column}_mean"])


def table1_numbers(tables: Mapping[str, pd.DataFrame], ratios=(10, 40, 60, 80),
                   columns=("without", "without_raw", "with"), form="imagenette_{tag}{column}_{r}") -> dict:
    """Named numbers of Table 1 frames (``tables``: tag -> frame) at `ratios` (percent) and `columns`."""
    return {form.format(tag=tag, column=column, r=r): _at(t, column, r)
            for tag, t in tables.items() for r in ratios for column in columns}


def table1_ours(table: pd.DataFrame, columns=("without", "with"), statistic: str = "mean") -> dict:
    """``{f"{column}_{mask %}": value}`` of a Table 1 frame, the keys of the paper's table: the
    mean accuracy over the masks, or with ``statistic="std"`` its std over the masks."""
    checks.one_of("statistic", statistic, ("mean", "std"))
    return {f"{column}_{r}": float(v) for column in columns for r, v in zip(table.mask_ratio, table[f"{column}_{statistic}"])}


def table1_reasons(ours: Mapping, pooled_ours: Mapping, *, why_head: str, sample: str, scale: str,
                   unit_accuracy: float, images: int) -> dict:
    """Why each of our Table 1 numbers differs from the paper's: ``{"without": ..., "with": ...,
    "abstract": ...}``, each a mapping from row key to reason."""
    why_row = lambda key: f"{why_head}; pooled head here: {pooled_ours[key]:.1f} %; {sample}"
    why_with_row = lambda key: f"{why_head}; {scale}; pooled head here: {pooled_ours[key]:.1f} %"
    why_clean = f"{why_head}, scoring {unit_accuracy:.1f} % on the unmasked, normalised val features; {sample}"
    all_masked = ("every vector masked: the input holds nothing of the image, so the prediction ignores the image and its "
                  f"expected accuracy is 10 % on our {images} class-balanced test images")
    without_why = {key: why_row(key) for key in ours if key.startswith("without_")}
    with_why = {key: why_with_row(key) for key in ours if key.startswith("with_")}
    return {"without": without_why | {"without_10": why_clean, "without_100": all_masked},
            "with": with_why | {"with_100": all_masked},
            "abstract": {"with_10": why_with_row("with_10"), "with_80": why_with_row("with_80"),
                         "without_10": why_clean, "without_80": why_row("without_80")}}


def paper_side(table: pd.DataFrame, without: pd.DataFrame, with_regen: pd.DataFrame) -> pd.DataFrame:
    """Table 1's main rows beside the paper's, from :meth:`report.ChapterResults.compare`'s frames
    `without` and `with_regen` (compared with ``spread=table1_ours(table, statistic="std")``):
    their paper and ours cells ("mean ± spread") and differences, with our raw baseline
    (:func:`report.plus_minus`) and the agreement counts of `table`."""
    paper, ours = (lambda frame: frame.iloc[:, 1].to_numpy()), (lambda frame: frame.iloc[:, 2].to_numpy())
    return pd.DataFrame({
        "mask %": table.mask_ratio,
        "paper w/o": paper(without),
        "ours w/o": ours(without),
        "ours w/o, raw": report.plus_minus_column(table.without_raw_mean, table.without_raw_std),
        "paper with": paper(with_regen),
        "ours with": ours(with_regen),
        "Δ w/o": without.difference.round(2), "Δ with": with_regen.difference.round(2),
        "none agree": table.none_agree,
        "several agree": table.several_agree,
    })


def head_ablation(main: pd.DataFrame, pooled: pd.DataFrame) -> pd.DataFrame:
    """The pooled head's Table 1 rows and, per column, the main head's value minus the pooled head's."""
    return pd.DataFrame({
        "mask %": pooled.mask_ratio,
        "pooled w/o": pooled.without_mean.round(2), "pooled w/o, raw": pooled.without_raw_mean.round(2),
        "pooled with": pooled.with_mean.round(2),
        "flatten − pooled, w/o": (main.without_mean - pooled.without_mean).round(2),
        "flatten − pooled, w/o raw": (main.without_raw_mean - pooled.without_raw_mean).round(2),
        "flatten − pooled, with": (main.with_mean - pooled.with_mean).round(2),
        "pooled: none agree": pooled.none_agree, "pooled: several agree": pooled.several_agree,
    })


def layer_side(main: pd.DataFrame, other: pd.DataFrame, paper_rows: Mapping, layer: str, other_layer: str) -> pd.DataFrame:
    """Table 1 on another feature layer beside the main layer's rows and the paper's, each cell
    "mean ± spread" (the paper's error, our std over the masks)."""
    paper = lambda key: [report.paper_text(r) for r in paper_rows[key]["rows"]]
    ours = lambda frame, column: report.plus_minus_column(frame[f"{column}_mean"], frame[f"{column}_std"])
    return pd.DataFrame({
        "mask %": main.mask_ratio,
        "paper w/o": paper("table1_without"),
        f"w/o, {layer} (main)": ours(main, "without"),
        f"w/o, {other_layer}": ours(other, "without"),
        "paper with": paper("table1_with"),
        f"with, {layer} (main)": ours(main, "with"),
        f"with, {other_layer}": ours(other, "with"),
    })


def layer_table_sentence(main: pd.DataFrame, other: pd.DataFrame, layer: str, other_layer: str, images: int) -> str:
    """The sentence comparing Table 1 at 60 % and 80 % masked on two feature layers."""
    at = _at
    return (
        f"on the `{other_layer}` map (K = {int(other.K[0])}; {images} val images, its own flatten C) "
        f"the baseline scores {at(other, 'without', 60):.1f} % and {at(other, 'without', 80):.1f} % at 60 % and 80 % "
        f"masked and re-generation {at(other, 'with', 60):.1f} % and {at(other, 'with', 80):.1f} %, against "
        f"{at(main, 'without', 60):.1f} %, {at(main, 'without', 80):.1f} %, {at(main, 'with', 60):.1f} % "
        f"and {at(main, 'with', 80):.1f} % on the main `{layer}` map")


def choose_images(predictions: torch.Tensor, labels: torch.Tensor, count: int, classes: int = 10) -> list[int]:
    """The first correctly predicted item ([N] predictions and labels) of each class, until `count`."""
    chosen = []
    for c in range(classes):
        hits = torch.nonzero((labels == c) & (predictions == c)).flatten()
        if len(hits):
            chosen.append(int(hits[0]))
        if len(chosen) == count:
            break
    return chosen


def msf_search(layers: Sequence, vectors: torch.Tensor, labels: torch.Tensor, chosen: Sequence[int],
               alphas: Sequence[float], desc: str = "Algorithm 2") -> list[list[list]]:
    """Algorithm 2 over every non-zero target of each chosen image (``vectors`` [N, n, K]) with
    its class's layer: ``msf[i][a]`` is the list of MSFs of image ``chosen[i]`` at ``alphas[a]``."""
    msf = []
    for i in tqdm(chosen, desc=desc):
        layer, v = layers[int(labels[i])], vectors[i]
        targets = [t for t in range(v.shape[0]) if not bool((v[t] == 0).all())]
        found = minimal_significant_sets(layer, v, targets, alphas)
        msf.append([[f for f in found if f.alpha == a] for a in alphas])
    return msf


def msf_rows(msf, files: Sequence[str], alphas: Sequence[float]) -> list[dict]:
    """One row per MSF search (``files``: the chosen images' names, in order)."""
    return [{"image": file, "alpha": a, "target": f.target, "size": len(f.indices),
             "s_ref": f.s_ref, "similarity": f.similarity, "meets_eq4": f.similarity >= f.threshold,
             "evaluations": f.evaluations}
            for file, per in zip(files, msf) for a, found in zip(alphas, per) for f in found]


def msf_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """MSF size, s_ref, Eq. 4 and evaluations by alpha over :func:`msf_rows`."""
    return frame.groupby("alpha").agg(mean_size=("size", "mean"), median_size=("size", "median"),
                                      mean_s_ref=("s_ref", "mean"), all_meet_eq4=("meets_eq4", "all"),
                                      mean_evaluations=("evaluations", "mean"),
                                      targets_with_s_ref_at_most_0=("s_ref", lambda s: int((s <= 0).sum()))).reset_index()


def member_distance_analysis(msf, evidence: torch.Tensor, files: Sequence[str], height: int, width: int) -> dict:
    """Case study 1 over every target at the first alpha: how far (grid cells, Chebyshev) MSF
    members lie from their target (`evidence` [images, n]). Counted: MSFs with s_ref > 0 and a
    member. Returns ``counted`` (rows), ``table`` (the histogram), ``members`` and the numbers."""
    frame = pd.DataFrame([{"k": k, "image": files[k], "evidence": float(evidence[k, row["target"]]), **row}
                          for k in range(len(files)) for row in far_member_summary(msf[k][0], width)])
    counted = frame[(frame["s_ref"] > 0) & (frame["size"] > 0)]
    counted_msfs = [f for per in msf for f in per[0] if f.s_ref > 0 and f.indices]
    table = pd.DataFrame(member_distance_histogram(counted_msfs, height, width))
    members = int(table["members"].sum())
    share_far = float((counted["far_members"] > 0).mean()) if len(counted) else float("nan")
    far_rows = table[table["distance"] > 1]
    return {"counted": counted, "table": table, "members": members, "share_far": share_far,
            "members_far": float(far_rows["share of members"].sum()) if members else float("nan"),
            "members_far_chance": float(far_rows["share of members by chance"].sum()) if members else float("nan"),
            "max_distance": int(counted["max_distance"].max()) if len(counted) else None}


def pick(rows: pd.DataFrame, count: int) -> pd.DataFrame:
    """`count` rows of `rows` by highest class evidence at the target, one per image first."""
    ranked = rows.sort_values(["evidence", "k", "target"], ascending=[False, True, True])
    first = ranked.drop_duplicates("k")
    return pd.concat([first, ranked.drop(first.index)]).head(count)


def found_for(msf, alphas: Sequence[float], k: int, target: int, alpha: float):
    """The MSF of `target` in image k of the search at `alpha`."""
    return next(f for f in msf[k][list(alphas).index(alpha)] if f.target == target)


def foreground_background(msf, evidence: torch.Tensor) -> pd.DataFrame:
    """Case study 2 over every target at the first alpha: mean class evidence of the MSF members
    of targets in the top and bottom third of their image's evidence (`evidence` [images, n])."""
    rows = []
    for k in range(len(msf)):
        e = evidence[k]
        low, high = torch.quantile(e, 1 / 3), torch.quantile(e, 2 / 3)
        for f in msf[k][0]:
            if not f.indices:
                continue
            group = "top third" if e[f.target] >= high else "bottom third" if e[f.target] <= low else None
            if group:
                members = e[list(f.indices)]
                rows.append({"target evidence": group, "mean evidence of its MSF": float(members.mean()),
                             "share of its MSF in the top third": float((members >= high).float().mean()),
                             "MSF size": len(f.indices)})
    return pd.DataFrame(rows).groupby("target evidence").mean().reset_index() if rows else pd.DataFrame()
