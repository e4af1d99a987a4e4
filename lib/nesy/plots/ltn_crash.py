"""Figures of the Conv-LTN chapter (nesy.logic): example images, training curves, distances, the
Q3/Q4 curves. Each function returns the matplotlib Figure it drew."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from nesy.logic import crash_world
from nesy.logic.crash_world import CrashWorld

__all__ = ["example_indices", "examples", "training_curves", "distances", "query_curves"]

VEHICLE_COLOURS = ("#d4b000", "#2a5ad8", "#d83030")  # small car, big car, truck


def example_indices(world: CrashWorld) -> list[int]:
    """Two crashes and two safe images: the first crash, the first two safe, the second crash."""
    crash = world.labels["Crash"].numpy()
    return [int(np.flatnonzero(crash == c)[k]) for c, k in ((1, 0), (0, 0), (0, 1), (1, 1))]


def examples(world: CrashWorld, indices: Sequence[int]) -> plt.Figure:
    """Four images [3, H, W] in a 2 x 2 grid, each titled with its labels."""
    figure, axes = plt.subplots(2, 2, figsize=(10, 4.2))
    for axis, i in zip(axes.flat, indices):
        axis.imshow(world.images[i].permute(1, 2, 0))
        axis.set_title(crash_world.describe(world, i), fontsize=9)
        axis.axis("off")
    figure.tight_layout()
    return figure


def training_curves(rows: Sequence[Mapping]) -> plt.Figure:
    """Loss per epoch (rows: objective, epoch, loss, which), one panel per objective, log scale."""
    grid = sns.relplot(
        data=pd.DataFrame(rows), x="epoch", y="loss", hue="which", col="objective",
        kind="line", marker="o", height=3.2, aspect=1.3, facet_kws={"sharey": False},
    )
    grid.set(yscale="log")
    return grid.figure


def distances(world: CrashWorld, outputs: Mapping[str, Mapping], objectives=("mse", "ltn")) -> plt.Figure:
    """Predicted against true distance of every obstructed vehicle, one panel per objective
    (``outputs``: ``{objective: {name: Tensor [N]}}`` on ``world``)."""
    figure, axes = plt.subplots(1, len(objectives), figsize=(10, 3.6), sharey=True)
    for axis, objective in zip(np.atleast_1d(axes), objectives):
        for vehicle, colour in zip(crash_world.VEHICLES, VEHICLE_COLOURS):
            relevant = world.labels[crash_world.OBSTRUCTED[vehicle]] > 0.5
            name = crash_world.DISTANCE[vehicle]
            axis.scatter(world.labels[name][relevant], outputs[objective][name][relevant], s=6, alpha=0.6,
                         color=colour, label=name)
        axis.plot([0, 1], [0, 1], color="black", lw=0.8)
        axis.set(title=f"{objective.upper()} objective", xlabel="true distance", ylabel="predicted distance")
        axis.legend(loc="upper left")
    return figure


def query_curves(rows: Sequence[Mapping], article_crossings: Mapping[str, float]) -> plt.Figure:
    """The Q3 and Q4 curves (rows: source, query, t, truth), one panel per query, with the
    article's crossing points (``{"q3": t, "q4": t}``) dashed."""
    grid = sns.relplot(data=pd.DataFrame(rows), x="t", y="truth", hue="source", col="query", kind="line",
                       height=3.4, aspect=1.25)
    for axis, article_t in zip(grid.axes.flat, (article_crossings["q3"], article_crossings["q4"])):
        axis.axhline(0.5, color="grey", lw=0.8, ls=":")
        axis.axvline(article_t, color="black", lw=1, ls="--")
        axis.annotate(f"article: crosses 0.5\nnear t = {article_t}", (article_t, 0.92), xytext=(6, 0),
                      textcoords="offset points", fontsize=8)
        axis.set(xlabel="distance threshold t", ylabel="truth of the query")
    return grid.figure
