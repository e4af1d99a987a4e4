"""Rule figures as in the patch-rules paper (Sect. 4.4): the image, all antecedents, then one panel each.

A patch-probability antecedent is drawn as the square of its patch, a pixel antecedent as
that single pixel; green for ``>=``, red for ``<``. Each panel's title states the
antecedent exactly (:meth:`~nesy.rules.patches.FeatureLayout.text`).
"""
from __future__ import annotations

import numpy as np

from .patches import FeatureLayout
from .ruleset import Rule

__all__ = ["antecedent_shapes", "draw_rule", "GREEN", "RED"]

GREEN, RED = "#1a9e3a", "#d62020"


def antecedent_shapes(rule: Rule, layout: FeatureLayout, class_names=None) -> list[dict]:
    """Each antecedent as ``{kind, row, col, size, ge, colour, text}`` (size 1 for a pixel)."""
    out = []
    for a in rule.antecedents:
        d = layout.describe(a.attribute)
        out.append({
            "kind": d["kind"], "row": d["row"], "col": d["col"],
            "size": layout.patch_size if d["kind"] == "patch" else 1,
            "ge": bool(a.ge), "colour": GREEN if a.ge else RED,
            "text": layout.text(a.attribute, a.ge, a.value, class_names),
        })
    return out


def _show(axis, image: np.ndarray):
    axis.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=255, interpolation="nearest")
    axis.set_xticks([])
    axis.set_yticks([])


def _draw(axis, shape: dict):
    from matplotlib.patches import Rectangle

    lw = 2.0 if shape["kind"] == "patch" else 1.5
    fill = shape["kind"] == "pixel"
    axis.add_patch(Rectangle((shape["col"] - 0.5, shape["row"] - 0.5), shape["size"], shape["size"], fill=fill,
                             facecolor=shape["colour"] if fill else "none", edgecolor=shape["colour"], lw=lw))


def draw_rule(image: np.ndarray, rule: Rule, layout: FeatureLayout, class_names=None, title: str = "", columns: int = 4):
    """A figure: the image, the image with every antecedent, one panel per antecedent.

    image: uint8 [H, W] or [H, W, 3]. Returns the matplotlib Figure.
    """
    import matplotlib.pyplot as plt
    import textwrap

    image = np.asarray(image)
    shapes = antecedent_shapes(rule, layout, class_names)
    panels = 2 + len(shapes)
    rows = (panels + columns - 1) // columns
    figure, axes = plt.subplots(rows, columns, figsize=(3.1 * columns, 3.7 * rows), squeeze=False)
    for axis in axes.flat:
        axis.axis("off")
    axes.flat[0].axis("on")
    _show(axes.flat[0], image)
    axes.flat[0].set_title("image", fontsize=9)
    axes.flat[1].axis("on")
    _show(axes.flat[1], image)
    for shape in shapes:
        _draw(axes.flat[1], shape)
    axes.flat[1].set_title(f"all {len(shapes)} antecedents", fontsize=9)
    for axis, shape in zip(axes.flat[2:], shapes):
        axis.axis("on")
        _show(axis, image)
        _draw(axis, shape)
        axis.set_title("\n".join(textwrap.wrap(shape["text"], 34)), fontsize=8, color=shape["colour"])
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return figure
