"""The patch-rules explorer: pick a test sample, see its activated rules, draw one rule's antecedents.

:class:`RulesExplorer` embeds, per dataset, a few test images (PNG data URLs), the rules any
of them activates (antecedents as drawable shapes with their exact text) and which rules
each sample activates, so the static book responds without a kernel (``rules.mjs`` only
reads and draws). With a kernel, changing ``dataset`` or ``sample`` recomputes the activated
rules in Python from the samples' features (:meth:`RulesExplorer.activated`).
"""
from __future__ import annotations

from importlib import resources
from typing import Mapping, Sequence

import anywidget
import numpy as np
import traitlets

from nesy.checks import one_of
from nesy.rules.drawing import antecedent_shapes
from nesy.rules.patches import FeatureLayout
from nesy.rules.ruleset import Rule, activation_matrix, as_numpy
from nesy.widgets.encoding import image_data_url
from nesy.widgets.esm import bundle

__all__ = ["RulesExplorer", "dataset_entry", "ESM_PATH"]

ESM_PATH = resources.files("nesy.widgets").joinpath("rules.mjs")


def dataset_entry(images, features, labels, predictions, rules: Sequence[Rule], layout: FeatureLayout,
                  class_names: Sequence[str], sample_ids=None) -> dict:
    """One dataset's embedded data (and, kept in Python only, its features and rules).

    images: uint8 [N, H, W(, 3)]; features: [N, D] rule features; labels, predictions: int [N].
    Only the rules that some of the N samples activate are embedded.
    """
    images = as_numpy(images, "images", np.asarray(images).ndim if not hasattr(images, "dim") else images.dim())
    feats = as_numpy(features, "features", 2, np.float64)
    n = len(feats)
    if len(images) != n or len(labels) != n or len(predictions) != n:
        raise ValueError(f"images, features, labels and predictions must have the same length, got "
                         f"{len(images)}, {n}, {len(labels)}, {len(predictions)}")
    act = activation_matrix(list(rules), feats)                       # (R, N)
    used = np.flatnonzero(act.any(axis=1))
    index = {int(r): k for k, r in enumerate(used)}
    embedded_rules = [{
        "id": int(r), "cls": int(rules[r].output_class), "class_name": str(class_names[rules[r].output_class]),
        "covering": int(rules[r].covering_size), "fidelity": float(rules[r].fidelity),
        "shapes": antecedent_shapes(rules[r], layout, class_names),
    } for r in used]
    samples = [{
        "id": int(sample_ids[i]) if sample_ids is not None else i,
        "image": image_data_url(images[i]), "label": str(class_names[int(labels[i])]),
        "prediction": str(class_names[int(predictions[i])]),
        "activated": [index[int(r)] for r in np.flatnonzero(act[:, i])],
    } for i in range(n)]
    return {
        "samples": samples, "rules": embedded_rules, "height": layout.height, "width": layout.width,
        "_features": feats, "_rules": [rules[r] for r in used],
    }


class RulesExplorer(anywidget.AnyWidget):
    """Explore a ruleset's activated rules on test samples.

    Parameters
    ----------
    datasets : mapping of name to :func:`dataset_entry` output
    dataset : str, optional
        Initially shown dataset (default the first).
    sample : int
        Initially shown sample.

    Synced traits: data (per dataset: samples, rules, height, width), dataset, sample, rule
    (index into the dataset's embedded rules, -1 for none) and activated (the current
    sample's activated rule indices).
    """

    _esm = traitlets.Unicode(bundle(ESM_PATH)).tag(sync=True)
    data = traitlets.Dict().tag(sync=True)
    dataset = traitlets.Unicode("").tag(sync=True)
    sample = traitlets.Int(0).tag(sync=True)
    rule = traitlets.Int(-1).tag(sync=True)
    activated = traitlets.List(traitlets.Int()).tag(sync=True)

    def __init__(self, datasets: Mapping[str, dict], dataset: str | None = None, sample: int = 0, **kwargs):
        if not datasets:
            raise ValueError("datasets must name at least one dataset")
        self._python = {name: {"features": d["_features"], "rules": d["_rules"]} for name, d in datasets.items()}
        public = {name: {k: v for k, v in d.items() if not k.startswith("_")} for name, d in datasets.items()}
        dataset = next(iter(public)) if dataset is None else dataset
        one_of("dataset", dataset, public)
        super().__init__(data=public, dataset=dataset, sample=int(sample), **kwargs)
        self._refresh()

    def activated_rules(self, dataset: str, sample: int) -> list[int]:
        """Indices (into the embedded rules) of the rules sample ``sample`` activates, computed in Python."""
        one_of("dataset", dataset, self._python)
        feats = self._python[dataset]["features"]
        if not 0 <= sample < len(feats):
            raise ValueError(f"sample must be in [0, {len(feats)}), got {sample!r}")
        return [k for k, r in enumerate(self._python[dataset]["rules"]) if bool(r.holds(feats[sample : sample + 1])[0])]

    @traitlets.observe("dataset", "sample")
    def _on_change(self, change):
        self._refresh()

    def _refresh(self):
        n = len(self.data[self.dataset]["samples"])
        if not 0 <= self.sample < n:
            self.sample = min(max(self.sample, 0), n - 1)
            return
        self.activated = self.activated_rules(self.dataset, self.sample)
        self.rule = self.activated[0] if self.activated else -1
