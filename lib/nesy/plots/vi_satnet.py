"""Figures of the Vi-SATNet chapter (nesy.satnet): the loss curves (Figure 3 and the loss gap),
Table 1's curves beside the paper's, MSF member distances and the ERF drawings of the case
studies (Figures 4 and 5). Each function returns the matplotlib Figure it drew.

``outlines`` are :func:`nesy.satnet.erf_outlines`' ``[images, n, 4]`` ellipses (cx, cy, rx, ry in
pixels of the 224-px image), ``images`` the ``[images, 224, 224, 3]`` pictures, ``msf[k][a]`` the
MSFs of image k at alpha index a (:func:`nesy.satnet.experiments.msf_search`).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.patches import Ellipse, Rectangle

from nesy.satnet.experiments import found_for, pick
from nesy.satnet.msf import member_distances

__all__ = ["loss_curves", "loss_gap", "table1_curves", "member_distances_figure", "draw", "location", "panels"]


def loss_curves(frame: pd.DataFrame, names: Sequence[str], title: str) -> plt.Figure:
    """Figure 3: validation loss per class (thin) and the mean train / validation loss (thick)
    (`frame`: columns class, epoch, split, loss)."""
    figure, axis = plt.subplots(figsize=(7.5, 4))
    val = frame[frame.split == "validation"]
    palette = sns.color_palette("tab10", 10)
    for c in range(10):
        part = val[val["class"] == c]
        axis.plot(part.epoch, part.loss, lw=1, color=palette[c], label=names[c])
    mean = frame.groupby(["split", "epoch"]).loss.mean().reset_index()
    for split, style in (("train", "-"), ("validation", "--")):
        part = mean[mean.split == split]
        axis.plot(part.epoch, part.loss, style, lw=3, color="black", label=f"mean {split}")
    axis.set(xlabel="epoch", ylabel="cosine loss (Eq. 5)", title=title)
    axis.legend(fontsize=7, ncol=2, loc="upper right")
    return figure


def loss_gap(frame: pd.DataFrame, colours: Mapping[str, str], title: str) -> plt.Figure:
    """Mean loss per epoch of each setting and split (`frame`: class, setting, epoch, split, loss), log scale."""
    figure, axis = plt.subplots(figsize=(7.5, 4))
    for (name, split), part in frame.groupby(["setting", "split"], sort=False):
        mean = part.groupby("epoch").loss.mean()
        axis.plot(mean.index, mean.values, "-" if split == "train" else "--", lw=2, label=f"{name}, {split}",
                  color=colours[name])
    axis.axhline(0.01, color="black", lw=1, ls=":", label="paper: about 0.01")
    axis.set(xlabel="epoch", ylabel="cosine loss (Eq. 5)", yscale="log", title=title)
    axis.legend(fontsize=7)
    return figure


def table1_curves(tables: Mapping[str, pd.DataFrame], paper_rows: Mapping) -> plt.Figure:
    """Table 1's accuracy by mask ratio, one panel per head (``tables``: head -> frame), with the paper's."""
    figure, axes = plt.subplots(1, len(tables), figsize=(11, 3.8), sharey=True)
    styles = {"with": ("tab:blue", "with re-generation"), "without": ("tab:orange", "without (normalised)"),
              "without_raw": ("tab:green", "without (raw)")}
    for axis, (head, t) in zip(axes, tables.items()):
        for column, (colour, label) in styles.items():
            axis.errorbar(t.mask_ratio, t[f"{column}_mean"], yerr=t[f"{column}_std"], marker="o", capsize=3,
                          color=colour, label=f"ours, {label}")
        for key, label in (("table1_with", "with re-generation"), ("table1_without", "without")):
            axis.errorbar(t.mask_ratio, [r["paper"] for r in paper_rows[key]["rows"]],
                          yerr=[r["spread"] for r in paper_rows[key]["rows"]], ls="--", marker="x", capsize=3,
                          color="tab:blue" if key == "table1_with" else "tab:orange", alpha=0.6, label=f"paper, {label}")
        axis.set(xlabel="mask ratio (%)", title=f"C: {head}")
    axes[0].set_ylabel("accuracy (%)")
    axes[1].legend(fontsize=7)
    return figure


def member_distances_figure(table: pd.DataFrame, members: int, msfs: int, alpha: float) -> plt.Figure:
    """Case study 1: shares of MSF members by grid distance (against chance) and the farthest
    member per MSF (`table`: :func:`nesy.satnet.member_distance_histogram`'s rows)."""
    figure, axes = plt.subplots(1, 2, figsize=(8.4, 3.2))
    axes[0].bar(table["distance"], table["share of members"], color=sns.color_palette()[0], label="MSF members")
    axes[0].plot(table["distance"], table["share of members by chance"], "k_", ms=22, mew=2,
                 label="members drawn at random")
    axes[0].legend(fontsize=7)
    axes[0].set(xlabel="distance from the target (grid cells)", ylabel="share of MSF members",
                title=f"{members} members of {msfs} MSFs, α={alpha}")
    axes[1].bar(table["distance"], table["MSFs with their farthest member here"], color=sns.color_palette()[1])
    axes[1].set(xlabel="distance of the farthest member (grid cells)", ylabel="MSFs", title="farthest member per MSF")
    for axis in axes:
        axis.axvline(1.5, ls="--", color="grey", lw=1)
        axis.set_xticks(table["distance"])
    return figure


def draw(axis, image, outlines, width: int, target: int, found, title: str, size: int = 224) -> None:
    """`image` with the ERF outlines ([n, 4]) of the target (red) and of its MSF `found`'s members."""
    axis.imshow(image)
    colours = sns.color_palette("tab10", 10)[:3] + sns.color_palette("tab10", 10)[4:]  # no red
    cell = size / width
    for j, pos in enumerate(found.indices):
        cx, cy, rx, ry = outlines[pos].tolist()
        colour = colours[j % len(colours)]
        axis.add_patch(Ellipse((cx, cy), 2 * rx, 2 * ry, fill=False, lw=1.5, color=colour))
        axis.add_patch(Rectangle(((pos % width) * cell, (pos // width) * cell), cell, cell, color=colour, alpha=0.45))
    cx, cy, rx, ry = outlines[target].tolist()
    axis.add_patch(Ellipse((cx, cy), 2 * rx, 2 * ry, fill=False, lw=3, color="red"))
    axis.add_patch(Rectangle(((target % width) * cell, (target // width) * cell), cell, cell, fill=False, lw=2, color="red"))
    axis.set_title(title, fontsize=8)
    axis.axis("off")


def location(counted: pd.DataFrame, msf, alphas: Sequence[float], images, outlines, titles: Sequence[str],
             width: int) -> tuple[plt.Figure, list[str]]:
    """Case study 1 (the paper's Figure 4): (a, b) MSFs of grid neighbours only, (c, d) MSFs with a
    member farther than one cell, picked from `counted` (:func:`member_distance_analysis`) at
    ``alphas[0]``; `titles[k]` names image k. Returns the figure and the notes on missing panels."""
    a0, notes = alphas[0], []
    figure, axes = plt.subplots(1, 4, figsize=(13.2, 3.8))
    for kind, pool, letters in (("only grid neighbours", counted[counted["far_members"] == 0], "ab"),
                                ("a member farther than one cell", counted[counted["far_members"] > 0], "cd")):
        examples = pick(pool, 2)
        for slot, letter in enumerate(letters):
            axis = axes["abcd".index(letter)]
            if slot < len(examples):
                k, target = int(examples.iloc[slot]["k"]), int(examples.iloc[slot]["target"])
                f = found_for(msf, alphas, k, target, a0)
                draw(axis, images[k], outlines[k], width, target, f, f"({letter}) {titles[k]}: target "
                     f"{divmod(target, width)}\nMSF {len(f.indices)} vectors, farthest "
                     f"{max(member_distances(f, width))} cell(s), α={a0}")
            else:
                axis.axis("off")
                axis.text(0.5, 0.5, f"({letter}) no {'second ' if slot else ''}MSF with\n{kind} in this run", ha="center",
                          va="center", transform=axis.transAxes, fontsize=8)
        if len(examples) < 2:
            notes.append(f"Only {len(pool)} of the {len(counted)} counted MSFs hold {kind}, so Figure 4{letters[0]}/"
                         f"4{letters[1]} shows {len(examples)} example(s).")
    return figure, notes


def panels(image, outlines, width: int, drawn: Sequence[tuple]) -> plt.Figure:
    """One image side by side with different MSFs: ``drawn`` holds ``(target, found, title)`` per panel."""
    figure, axes = plt.subplots(1, len(drawn), figsize=(6.8, 3.6))
    for axis, (target, found, title) in zip(axes, drawn):
        draw(axis, image, outlines, width, target, found, title)
    return figure
