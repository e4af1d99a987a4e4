"""SMUG's tables over many images: the image selection, the gamma = 0 check, Table 1's
aggregation and its side-by-side with the paper, the LSC decomposition, the constraint ablation,
the k x gamma sweep, Table 2 (MNIST) and the two-cats scenes and shares.

Each function takes what :func:`~nesy.smt.evaluation.evaluate_image` and the solvers return (one
:class:`~nesy.smt.evaluation.ImageEvaluation` per image, in the images' order) and returns rows
(lists of dicts, one per table row) or numbers; nothing here trains, solves or forwards a model
except where the docstring says so (:func:`correctly_classified`, :func:`first_layer_attributions`,
:func:`sweep`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from nesy import models, report
from nesy import saliency_metrics as sm

from .attribution import first_layer_ig, top_k_neurons
from .evaluation import METHODS, variant_key
from .masks import mask_problem, solve_highs
from .pipeline import explain_from_attributions
from .saliency import pixel_mask

MAP_METHODS = ("IG", "GRADCAM")  # methods that give a map but no mask (no sparsity row)
NAN = float("nan")


def correctly_classified(forward, images, labels, size: int, n_images: int, batch: int = 32) -> tuple[list[int], int]:
    """The first `n_images` indices, in order, of `images` (uint8 ``(N, 3, H, W)``, resized by
    :func:`nesy.models.preprocess` to `size`) whose prediction by `forward` (logits ``(B, C)``)
    is `labels` ``(N,)``. Returns (indices, images examined)."""
    chosen, start, n_seen = [], 0, 0
    while len(chosen) < n_images and start < len(images):
        predictions = forward(models.preprocess(images[start : start + batch], size)).argmax(1)
        for j in range(len(predictions)):
            n_seen += 1
            if predictions[j] == labels[start + j]:
                chosen.append(start + j)
            if len(chosen) == n_images:
                break
        start += batch
    return chosen, n_seen


def first_layer_attributions(net, images, labels, indices, size: int, ig_steps: int, device) -> tuple[dict, dict]:
    """For each index: the preprocessed image ``(3, size, size)`` and its first-layer IG
    ``(O, H', W')`` for its label (:func:`~nesy.smt.attribution.first_layer_ig`). Returns two
    dicts index -> tensor (images, attributions)."""
    images_x, attributions = {}, {}
    for index in tqdm(indices, desc="first-layer IG"):
        x = models.preprocess(images[index], size)[0]
        images_x[index] = x
        _, attr = first_layer_ig(net, x[None], [int(labels[index])], n_steps=ig_steps, device=device)
        attributions[index] = attr[0]
    return images_x, attributions


def gamma0_rows(lins: dict, images_x: dict, attributions: dict, files, k: int, top_k_rule: str, block: int) -> list[dict]:
    """Per image (the keys of `images_x`, with `files` their names): how many of the top `k`
    neurons have a non-positive attribution and, per constraint mode of `lins`, the gamma = 0
    mask problem's constraint count, whether the empty mask is optimal, and the % of constrained
    neurons positive on the fully masked image."""
    rows = []
    for index, name in zip(images_x, files):
        neurons = top_k_neurons(attributions[index], k, top_k_rule)
        row = {"image": name, "top-k with attribution <= 0": int((attributions[index].reshape(-1)[neurons] <= 0).sum())}
        for mode, mode_lin in lins.items():
            p0 = mask_problem(mode_lin, images_x[index], neurons, 0.0, block=block)
            row[f"{mode}: constrained"] = p0.n_constraints
            row[f"{mode}: empty mask optimal at gamma=0"] = p0.empty_mask_feasible
            row[f"{mode}: positive on the masked image (%)"] = 100 * float((p0.offsets > 0).mean()) if p0.n_constraints else NAN
        rows.append(row)
    return rows


def topk_overlap(coarse: torch.Tensor, finer: torch.Tensor, k: int, top_k_rule: str) -> float:
    """The fraction of the top `k` neurons of attributions `coarse` ``(O, H', W')`` that are also
    among the top `k` of `finer` (same shape)."""
    coarse_set = set(top_k_neurons(coarse, k, top_k_rule).tolist())
    return len(coarse_set & set(top_k_neurons(finer, k, top_k_rule).tolist())) / max(len(coarse_set), 1)


@dataclass
class Table1:
    """Table 1 over n images. scores: method -> n best LSCs (NaN: no box); rows: one dict per
    method (the displayed table); ours: the values :meth:`~nesy.report.ChapterResults.compare`
    reads (``<method>_median``, ``_p75``, ``_p25``, ``_win``, ``_sparsity``); spreads: the
    95% half-widths of ours' ``_win`` and ``_sparsity`` values (its ``spread``, shown only)."""

    methods: list[str]
    scores: dict[str, list[float]]
    rows: list[dict] = field(default_factory=list)
    ours: dict[str, float] = field(default_factory=dict)
    spreads: dict[str, float] = field(default_factory=dict)

    @property
    def win_methods(self) -> list[str]:
        """The methods Win % is counted over: all but OPTBOX, as in the paper."""
        return [m for m in self.methods if m != "OPTBOX"]

    def row(self, method: str) -> dict:
        return next(r for r in self.rows if r["method"] == method)


def table1(evaluations) -> Table1:
    """Table 1 from one :class:`~nesy.smt.evaluation.ImageEvaluation` per image: per method the
    LSC median and quartiles, Win % (without OPTBOX) with its 95% normal and Wilson intervals,
    the mean sparsity (%, not for the maps-only IG and Grad-CAM) and the images with no box."""
    methods = list(METHODS)
    scores = {m: [ev.lsc[m].score for ev in evaluations] for m in methods}
    out = Table1(methods, scores)
    wins = sm.win_rates({m: scores[m] for m in out.win_methods})
    n = len(evaluations)
    for m in methods:
        median, p75, p25 = sm.lsc_summary(scores[m])
        mean_sp, ci_sp = sm.mean_ci([100 * ev.sparsity.get(m, NAN) for ev in evaluations])
        win, win_ci = wins.get(m, (NAN, NAN))
        low, high = sm.wilson_interval(win / 100, n) if m in wins else (NAN, NAN)
        maps_only = m in MAP_METHODS
        out.rows.append({"method": m, "LSC median": median, "75th pct": p75, "25th pct": p25,
                         "Win %": win, "± (95%)": win_ci, "Wilson 95%": f"{100 * low:.1f}-{100 * high:.1f}" if m in wins else "-",
                         "sparsity %": NAN if maps_only else mean_sp, "sparsity ±": NAN if maps_only else ci_sp,
                         "no box (empty map)": int(np.isnan(scores[m]).sum())})
        out.ours.update({f"{m}_median": median, f"{m}_p75": p75, f"{m}_p25": p25})
        if m != "OPTBOX":
            out.ours[f"{m}_win"], out.spreads[f"{m}_win"] = win, win_ci
        if not maps_only:
            out.ours[f"{m}_sparsity"], out.spreads[f"{m}_sparsity"] = mean_sp, ci_sp
    return out


SPREAD_DIGITS = 2  # the paper's Table 1 gives its 95% intervals with two decimals


def _paper_cell(row: dict, digits: int) -> str:
    """A paper-values row (``{}``: none) as text: the value and its 95% interval, "–" for none."""
    cell = report.paper_text(row, digits, spread_digits=SPREAD_DIGITS) if row else report.MISSING
    return cell if isinstance(cell, str) else report.plus_minus(cell, None, digits)


def table1_side_by_side(table: Table1, paper_rows: list[dict]) -> pd.DataFrame:
    """Table 1's rows beside the paper's (`paper_rows`: the paper-values rows, each with ``key``,
    ``paper`` and for Win % and sparsity its 95% half-width ``spread``), formatted as text, one
    row per method: Win % and sparsity as "mean ± 95% half-width" (:func:`nesy.report.plus_minus`),
    with one decimal and the interval with two, as the paper prints them."""
    by_key = {r["key"]: r for r in paper_rows}
    side = []
    for m in table.methods:
        def paper(key):
            return by_key.get(f"{m}_{key}", {}).get("paper", NAN)
        row = table.row(m)
        side.append({
            "method": m,
            "LSC median (75th, 25th), paper": f"{paper('median'):.2f} ({paper('p75'):.2f}, {paper('p25'):.2f})",
            "ours": f"{row['LSC median']:.2f} ({row['75th pct']:.2f}, {row['25th pct']:.2f})",
            "Win %, paper": "-" if m == "OPTBOX" else _paper_cell(by_key.get(f"{m}_win", {}), 1),
            "Win %, ours": "-" if m == "OPTBOX" else report.plus_minus(row["Win %"], row["± (95%)"], 1, SPREAD_DIGITS),
            "sparsity %, paper": "-" if m in MAP_METHODS else _paper_cell(by_key.get(f"{m}_sparsity", {}), 1),
            "sparsity %, ours": "-" if m in MAP_METHODS else report.plus_minus(row["sparsity %"], row["sparsity ±"], 1, SPREAD_DIGITS),
        })
    return pd.DataFrame(side)


def win_ci50(n_images: int) -> float:
    """The 95% half-width, in points, of a Win % near 50% over `n_images` images."""
    return 100 * 1.96 * math.sqrt(0.25 / n_images)


def smug_setting(constraint: str, gamma: float) -> str:
    """One line naming SMUG's constraint mode and gamma, against the paper's (reference, 0)."""
    if (constraint, float(gamma)) == ("reference", 0.0):
        return f"SMUG in the reference constraint mode at gamma={gamma:g}, as the paper"
    return f"SMUG in the {constraint} constraint mode at gamma={gamma:g} (the paper: the reference's, at 0)"


def table1_reasons(methods, *, net_name: str, kernel: str, paper_backbone: bool, n_images: int, n_thresholds: int,
                   ig_steps: int, optbox_cells: int, optbox_min_cells: int, setting: str, k: int) -> dict[str, str]:
    """One reason per Table 1 key (``"*"`` for the rest): what differs from the paper's setting.
    kernel: the first layer's kernel as ``"3x3"``; paper_backbone: the run uses Inception-v1;
    setting: :func:`smug_setting`."""
    n_boxes = ((optbox_cells - optbox_min_cells + 1) * (optbox_cells - optbox_min_cells + 2) // 2) ** 2
    backbone = f"{net_name} stands in for Inception-v1" if not paper_backbone else "the paper's Inception-v1 (torchvision weights)"
    scale = f"{n_images} images instead of 3,304, {n_thresholds} LSC thresholds"
    why = {"*": f"{backbone}; {scale}"}
    for m in methods:
        lsc_why = {
            "SMUG": f"{backbone}; {setting}; {scale}, {ig_steps} IG steps",
            "SMUG_base": f"{backbone} (first layer {kernel}, Inception-v1's 7x7); {scale}, {ig_steps} IG steps",
            "IG": f"{backbone}; {scale}, {ig_steps} IG steps",
            "OPTBOX": f"our OPTBOX searches a {optbox_cells}x{optbox_cells} grid ({n_boxes} boxes) instead of the paper's 10x10 (2,025); {backbone}",
        }.get(m, f"{backbone}; {scale}")
        why.update({f"{m}_{q}": lsc_why for q in ("median", "p75", "p25")})
        why[f"{m}_win"] = f"{n_images} images instead of 3,304 (95% interval about ±{win_ci50(n_images):.0f} points near 50%); {backbone}" + (
            f"; {setting}" if m == "SMUG" else "")
    why["SMUG_sparsity"] = f"{setting}, k={k}; {backbone}"
    why["SMUG_base_sparsity"] = f"first-layer receptive fields of {kernel} pixels ({net_name}; Inception-v1's are 7x7), k={k}; {backbone}"
    why["GROUNDTRUTH_sparsity"] = f"{n_images} mirrored images instead of the paper's 3,304 (box sizes vary by image)"
    why["OPTBOX_sparsity"] = why["OPTBOX_median"]
    return why


def _median(values) -> float:
    return float(np.median(values)) if values else NAN


def lsc_parts_rows(evaluations, methods) -> list[dict]:
    """Per method, over the images where it has a box: the medians of its best box's area a,
    confidence c, and of the two LSC terms log max(0.05, a) and -log c."""
    rows = []
    for m in methods:
        best = [ev.lsc[m] for ev in evaluations if ev.lsc[m].box is not None]
        rows.append({"method": m, "images with a box": len(best),
                     "median area a": _median([r.area for r in best]),
                     "median confidence c": _median([r.confidence for r in best]),
                     "median log max(0.05, a)": _median([math.log(max(sm.MIN_AREA, r.area)) for r in best]),
                     "median -log c": _median([-math.log(max(r.confidence, 1e-30)) for r in best])})
    return rows


def ablation_rows(evaluations, variants, main_variant, win_methods) -> list[dict]:
    """One row per SMUG variant ``(constraint, gamma)`` over `evaluations` (the ablation's
    images): empty-mask %, sparsity %, LSC median, SMUG's and Grad-CAM's Win % with that variant
    in place of the main SMUG among `win_methods`, and the solves that were not optimal."""
    rows = []
    for mode, g in variants:
        values = [ev.lsc[variant_key(mode, g)].score for ev in evaluations]
        others = {m: [ev.lsc[m].score for ev in evaluations] for m in win_methods if m != "SMUG"}
        wins = sm.win_rates({"SMUG": values, **others})
        win, win_ci = wins["SMUG"]
        explanations = [ev.explanations[(mode, g)] for ev in evaluations]
        rows.append({
            "constraint": mode, "gamma": g, "images": len(evaluations),
            "empty mask (%)": 100 * float(np.mean([e.empty_mask for e in explanations])),
            "sparsity %": 100 * float(np.mean([e.sparsity_smug for e in explanations])),
            "LSC median": sm.lsc_summary(values)[0], "Win %": win, "± (95%)": win_ci, "Grad-CAM Win %": wins["GRADCAM"][0],
            "solver not optimal": int(sum(e.solution.status != "optimal" for e in explanations)),
            "main row": (mode, g) == main_variant,
        })
    return rows


def ablation_summary(rows: list[dict], evaluations) -> str:
    """The ablation in two sentences (Markdown): the empty mask at gamma = 0 in both modes and
    SMUG's best Win % among `rows` (from :func:`ablation_rows` over `evaluations`)."""
    best_row = max(rows, key=lambda r: (r["Win %"], -r["LSC median"]))
    ref0 = next((r for r in rows if (r["constraint"], r["gamma"]) == ("reference", 0.0)), None)
    fold0 = next((r for r in rows if (r["constraint"], r["gamma"]) == ("folded", 0.0)), None)
    parts = []
    if ref0 and fold0:
        with_box = int(sum(np.isfinite(ev.lsc[variant_key("folded", 0.0)].score) for ev in evaluations))
        parts.append(f"At γ = 0 the empty mask is optimal on {fold0['empty mask (%)']:.0f}% of these images in the folded mode "
                     f"and on {ref0['empty mask (%)']:.0f}% in the reference mode, where SMUG's median LSC is {ref0['LSC median']:.2f} "
                     f"(folded: {fold0['LSC median']:.2f}, the median over the {with_box} images whose map is not empty; "
                     "an empty map has no box, so it never wins).")
    parts.append(f"SMUG's best Win % among these rows is {best_row['Win %']:.1f}% ({best_row['constraint']} mode, γ = {best_row['gamma']:g}), "
                 f"against Grad-CAM's {best_row['Grad-CAM Win %']:.1f}% on the same images.")
    return " ".join(parts)


def sweep(lin, images_x: list, attributions: list, files, ks, gammas, *, block: int, timeout_s: float,
          top_k_rule: str) -> tuple[list[dict], dict]:
    """Fig. 6's sweep: for each image ``(3, H, W)`` (with its first-layer IG and file name), each
    k and each gamma, SMUG's mask by z3 and the same problem by HiGHS, both within `timeout_s`.
    Returns (rows, cache) with cache ``(image number, k, gamma)`` -> the z3
    :class:`~nesy.smt.pipeline.SmugExplanation`."""
    rows, cache = [], {}
    for n_img, (x, attr, name) in enumerate(tqdm(list(zip(images_x, attributions, files)), desc="sweep")):
        for k_ in ks:
            for g in gammas:
                e = explain_from_attributions(lin, x, attr, int(k_), float(g), block=block, backend="z3",
                                              timeout_s=timeout_s, top_k_rule=top_k_rule)
                h = solve_highs(e.problem, time_limit_s=timeout_s)
                cache[(n_img, int(k_), float(g))] = e
                rows.append({"image": name, "k": int(k_), "gamma": float(g), "constraints": e.problem.n_constraints,
                             "z3 status": e.solution.status, "blocks kept (z3)": e.solution.n_blocks,
                             "blocks kept (HiGHS)": h.n_blocks, "z3 time (s)": e.solution.time_s,
                             "HiGHS time (s)": h.time_s, "empty mask": e.empty_mask,
                             "mask % of image": 100 * float(pixel_mask(e.solution.block_mask, block, tuple(x.shape[-2:])).double().mean())})
    return rows, cache


def sweep_summary(sweep_frame: pd.DataFrame, timeout_s: float) -> str:
    """The sweep in two sentences (Markdown): empty masks at gamma = 0 and z3's optima against HiGHS's."""
    at_zero = sweep_frame[sweep_frame["gamma"] == 0.0]
    solved = sweep_frame[sweep_frame["z3 status"] == "optimal"]
    agree = int((solved["blocks kept (z3)"] == solved["blocks kept (HiGHS)"]).sum())
    sentences = []
    if len(at_zero):
        sentences.append(f"At γ = 0 the optimal mask is empty on {int(at_zero['empty mask'].sum())} of the {len(at_zero)} sweep instances.")
    sentences.append(
        f"z3 proved the optimum of {len(solved)} of the {len(sweep_frame)} sweep instances within {timeout_s:g} s; "
        + (f"HiGHS found the same number of blocks on all {len(solved)}." if agree == len(solved)
           else f"HiGHS found the same number of blocks on {agree} of them.")
    )
    return " ".join(sentences)


DIGITS = list(range(10)) + ["all"]


def _optimal_pixels(frame: pd.DataFrame, solver: str) -> pd.Series:
    return pd.to_numeric(frame.loc[frame[f"{solver} status"] == "optimal", f"{solver} pixels"])


def table2(mnist_frame: pd.DataFrame, paper_rows: list[dict]) -> tuple[list[dict], dict[str, float]]:
    """Table 2 per digit and over all (`mnist_frame`: one row per MNIST instance, with columns
    digit, ``z3 status``, ``z3 pixels``, ``z3 time (s)``, ``MILP status``, ``MILP pixels``,
    ``MILP time (s)``), beside the paper's `paper_rows`. Returns (rows, ours) with ours the
    ``sat_rate_<d>`` (%) and ``runtime_<d>`` (minutes, solved instances) compared with the paper."""
    paper = {r["key"]: r for r in paper_rows}
    rows, ours = [], {}
    for d in DIGITS:
        part = mnist_frame if d == "all" else mnist_frame[mnist_frame["digit"] == d]
        sat = part[part["z3 status"] == "optimal"]
        runtime = sat["z3 time (s)"].mean() / 60 if len(sat) else NAN
        ours[f"sat_rate_{d}"] = 100 * len(sat) / len(part) if len(part) else NAN
        ours[f"runtime_{d}"] = runtime
        p = paper[f"sat_rate_{d}"]
        z3_px, milp_px = _optimal_pixels(part, "z3"), _optimal_pixels(part, "MILP")
        rows.append({"digit": d, "SAT, paper": f"{p['sat']}/{p['n']}", "SAT, ours (z3)": f"{len(sat)}/{len(part)}",
                     "z3 pixels kept (mean)": z3_px.mean(), "z3 pixels kept (median)": z3_px.median(),
                     "runtime min, paper": paper.get(f"runtime_{d}", {}).get("paper", NAN),
                     "runtime s, ours (z3, SAT only)": runtime * 60,
                     "MILP optimal, ours": f"{len(milp_px)}/{len(part)}",
                     "MILP pixels kept (mean)": milp_px.mean(), "MILP pixels kept (median)": milp_px.median(),
                     "MILP time s, ours (mean)": part["MILP time (s)"].mean() if len(part) else NAN})
    return rows, ours


def table2_reasons(n_images: int, timeout_s: float) -> dict[str, str]:
    """Why each Table 2 key differs from the paper: z3's short timeout and the smaller scale."""
    scale = f"{n_images} images instead of 100, our own MLP"
    why = {f"sat_rate_{d}": f"z3 timeout {timeout_s:g} s instead of 60 min; {scale}" for d in DIGITS}
    why.update({f"runtime_{d}": f"our z3 timeout of {timeout_s:g} s bounds the runtime of a solved instance; {scale}" for d in DIGITS})
    return why


def mnist_numbers(mnist_frame: pd.DataFrame) -> dict[str, float]:
    """The MNIST instances' counts of optima, the MILP's mean time and each solver's optimal mask
    sizes (mean, median pixels), keyed as the results JSON records them."""
    z3_px, milp_px = _optimal_pixels(mnist_frame, "z3"), _optimal_pixels(mnist_frame, "MILP")
    return {"mnist_z3_sat": int((mnist_frame["z3 status"] == "optimal").sum()),
            "mnist_milp_optimal": int((mnist_frame["MILP status"] == "optimal").sum()),
            "mnist_milp_mean_s": float(mnist_frame["MILP time (s)"].mean()),
            "mnist_z3_mean_pixels": float(z3_px.mean()), "mnist_z3_median_pixels": float(z3_px.median()),
            "mnist_milp_mean_pixels": float(milp_px.mean()), "mnist_milp_median_pixels": float(milp_px.median())}


def mnist_summary(mnist_frame: pd.DataFrame, milp_limit_s: float) -> str:
    """The MNIST solves in a few sentences (Markdown): the MILP's optima and their sizes, z3's,
    and whether the two agree where both solved."""
    n_mnist = len(mnist_frame)
    z3_px, milp_px = _optimal_pixels(mnist_frame, "z3"), _optimal_pixels(mnist_frame, "MILP")
    if len(milp_px):
        text = (f"The MILP proved the optimum for {len(milp_px)} of the {n_mnist} images "
                f"({'all of them' if len(milp_px) == n_mnist else 'the rest reached its time limit'}), "
                f"in {mnist_frame['MILP time (s)'].mean():.2f} s on average; its optimal masks keep "
                f"{milp_px.mean():.1f} pixels on average (median {milp_px.median():g}, "
                f"from {int(milp_px.min())} to {int(milp_px.max())}) of the "
                f"{mnist_frame['non-zero pixels'].mean():.0f} non-zero pixels of an image on average.")
    else:
        text = f"The MILP proved the optimum for none of the {n_mnist} images within its limit of {milp_limit_s:g} s."
    both = mnist_frame[(mnist_frame["z3 status"] == "optimal") & (mnist_frame["MILP status"] == "optimal")]
    if len(z3_px):
        text += f" z3's optimal masks keep {z3_px.mean():.1f} pixels on average (median {z3_px.median():g})."
    if len(both):
        agree = int((both["z3 pixels"] == both["MILP pixels"]).sum())
        text += (f" On the {len(both)} images both solvers solved, the two optima are the same size on "
                 + ("every one." if agree == len(both) else f"{agree} of them."))
    return text


@dataclass(frozen=True)
class TwoCats:
    """Fig. 3's layout on a white ``size x size`` canvas: each cat's (height, width) and top-left
    (y, x) in pixels; the small cat has a quarter of the big one's area."""

    big_hw: tuple[int, int] = (100, 150)
    small_hw: tuple[int, int] = (50, 75)
    big_at: tuple[int, int] = (20, 8)
    small_at: tuple[int, int] = (150, 140)

    def scenes(self, cat: torch.Tensor, size: int) -> dict[str, torch.Tensor]:
        """``cat_big``, ``cat_small`` and ``both``: ``(3, size, size)`` canvases with the photo
        `cat` ``(1, 3, H, W)`` (in [0, 1]) resized into each cat's rectangle."""
        scenes = {}
        for name, parts in (("cat_big", ["big"]), ("cat_small", ["small"]), ("both", ["big", "small"])):
            canvas = torch.ones(3, size, size)
            for part in parts:
                (h_, w_), (y_, x_) = (self.big_hw, self.big_at) if part == "big" else (self.small_hw, self.small_at)
                canvas[:, y_ : y_ + h_, x_ : x_ + w_] = F.interpolate(cat, size=(h_, w_), mode="bilinear", antialias=True,
                                                                      align_corners=False)[0]
            scenes[name] = canvas
        return scenes

    def big_box(self) -> torch.Tensor:
        """The big cat's rectangle as a ground-truth box ``(1, 4)``: ``(x0, y0, x1, y1)``."""
        (h_, w_), (y_, x_) = self.big_hw, self.big_at
        return torch.tensor([[x_, y_, x_ + w_, y_ + h_]])

    def attribution_rows(self, maps: dict[str, torch.Tensor], optbox) -> list[dict]:
        """Per map ``(H, W)`` of `maps` (method -> map): the share of its |attribution| on each
        cat; then OPTBOX's (`optbox`: a box ``(y0, x0, y1, x1)`` or None) share of its area."""
        rows = [{"method": method, "share on cat_big": sm.map_share(saliency, self.big_at, self.big_hw),
                 "share on cat_small": sm.map_share(saliency, self.small_at, self.small_hw)} for method, saliency in maps.items()]
        rows.append({"method": "OPTBOX (box area share)", "share on cat_big": sm.box_share(optbox, self.big_at, self.big_hw),
                     "share on cat_small": sm.box_share(optbox, self.small_at, self.small_hw)})
        return rows
