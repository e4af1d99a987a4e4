"""Vi-C agreement (the paper's Algorithm 1) and the no-re-generation baseline (Table 1).

Algorithm 1 runs every class's Vi-SATNet ``s_l`` on the masked feature vectors, classifies
each completed map with the backbone's classifier ``C`` and records ``l`` when ``C``
predicts ``l`` from ``s_l``'s completion. The paper does not say what happens when no class
or several classes agree. Here, with ``p_l = softmax(C(s_l(V_I)))[l]`` (the probability ``C``
gives class ``l`` on ``s_l``'s completion):

* exactly one class agrees: that class (Algorithm 1 as written);
* several agree: the agreeing class with the largest ``p_l``;
* none agrees: the class with the largest ``p_l`` over all classes.

Both fallbacks are counted (:class:`Agreement`), so a reader sees how often they decide.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from nesy.satnet.train import feature_map
from nesy.satnet.vectors import uniform_vector, unit_vectors


@dataclass
class Agreement:
    """Result of :func:`vi_c_agreement` for B images.

    pred : (B,) int64, the predicted class.
    agreeing : (B,) int64, how many classes agreed (Algorithm 1's recorded labels).
    probs : (B, L) float, ``p_l`` for every class l.
    """

    pred: torch.Tensor
    agreeing: torch.Tensor
    probs: torch.Tensor

    @property
    def none(self) -> int:
        return int((self.agreeing == 0).sum())

    @property
    def several(self) -> int:
        return int((self.agreeing > 1).sum())


def decide(agree: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
    """The decision rule above: ``agree (B, L)`` bool, ``probs (B, L)`` -> ``(B,)`` classes."""
    any_agree = agree.any(1, keepdim=True)
    score = torch.where(agree | ~any_agree, probs, torch.full_like(probs, -1.0))
    return score.argmax(1)


def _as_heads(classifiers) -> dict[str, nn.Module]:
    """A single ``C`` or a mapping ``name -> C`` as a non-empty dict (a single one is named "C")."""
    heads = {"C": classifiers} if isinstance(classifiers, nn.Module) else dict(classifiers)
    if not heads or not all(isinstance(c, nn.Module) for c in heads.values()):
        raise TypeError("classifiers must be an nn.Module or a non-empty mapping of names to nn.Modules")
    return heads


@torch.no_grad()
def vi_c_agreements(layers: Sequence[nn.Module], classifiers: Mapping[str, nn.Module], vectors: torch.Tensor,
                    mask: torch.Tensor, height: int, width: int, batch_size: int = 128) -> dict[str, Agreement]:
    """Algorithm 1 with several classifiers over the same completions.

    Each Vi-SATNet completes the batch once; every ``C`` of `classifiers` classifies that
    completion, so the heads are compared on identical re-generated maps.

    Parameters
    ----------
    layers : L Vi-SATNets, ``layers[l]`` trained on class l.
    classifiers : name -> C, each a feature map ``(B, K, H, W)`` -> logits ``(B, L)`` over the same
        L classes.
    vectors : (B, n, k) feature vectors; mask : (B, n) bool, True = missing.
    height, width : the feature map's H, W (n = H * W).

    Returns
    -------
    dict name -> :class:`Agreement`, in the order of `classifiers`.
    """
    heads = _as_heads(classifiers)
    if vectors.shape[0] != mask.shape[0]:
        raise ValueError(f"vectors and mask must have the same batch size; got {vectors.shape[0]}, {mask.shape[0]}")
    probs = {name: [] for name in heads}
    agree = {name: [] for name in heads}
    for i in range(0, vectors.shape[0], batch_size):
        x, mk = vectors[i:i + batch_size], mask[i:i + batch_size]
        p_row, a_row = {name: [] for name in heads}, {name: [] for name in heads}
        for label, layer in enumerate(layers):
            completed = feature_map(layer(x, mk), height, width)  # (b, K, H, W), computed once for every C
            for name, classifier in heads.items():
                p = classifier(completed).softmax(1)  # (b, L)
                p_row[name].append(p[:, label])
                a_row[name].append(p.argmax(1) == label)
        for name in heads:
            probs[name].append(torch.stack(p_row[name], 1))
            agree[name].append(torch.stack(a_row[name], 1))
    out = {}
    for name in heads:
        probs_t, agree_t = torch.cat(probs[name]), torch.cat(agree[name])
        out[name] = Agreement(pred=decide(agree_t, probs_t), agreeing=agree_t.sum(1), probs=probs_t)
    return out


def vi_c_agreement(layers: Sequence[nn.Module], classifier: nn.Module, vectors: torch.Tensor, mask: torch.Tensor,
                   height: int, width: int, batch_size: int = 128) -> Agreement:
    """Algorithm 1 over a batch with one ``C`` (:func:`vi_c_agreements` with a single head).

    Parameters
    ----------
    layers : L Vi-SATNets, ``layers[l]`` trained on class l.
    classifier : C, feature map ``(B, K, H, W)`` -> logits ``(B, L)`` over the same L classes.
    vectors : (B, n, k) feature vectors; mask : (B, n) bool, True = missing.
    height, width : the feature map's H, W (n = H * W).
    """
    return vi_c_agreements(layers, {"C": classifier}, vectors, mask, height, width, batch_size)["C"]


@torch.no_grad()
def masked_baseline(classifier: nn.Module, vectors: torch.Tensor, mask: torch.Tensor, height: int,
                    width: int, normalise: bool = True) -> torch.Tensor:
    """Table 1's "without re-generation": the masked vectors set to the uniform unit vector and
    the map classified by C. Returns ``(B,)`` classes.

    normalise : the unmasked vectors normalised, as Vi-SATNet's inputs are (True), or left raw,
        as C may have been trained (False; the uniform vector then has unit length among raw
        vectors of the backbone's own scale).
    """
    v = unit_vectors(vectors)[0] if normalise else vectors
    v = torch.where(mask[..., None], uniform_vector(v.shape[-1], v.dtype), v)
    return classifier(feature_map(v, height, width)).argmax(1)


def mask_sweep(layers: Sequence[nn.Module], classifiers: nn.Module | Mapping[str, nn.Module], vectors: torch.Tensor,
               labels: torch.Tensor, height: int, width: int, ratios: Sequence[float], masks: int, seed: int = 0,
               on_progress=None) -> list[dict]:
    """Table 1: accuracy with and without re-generation for every mask ratio and every ``C``.

    For each ratio, `masks` rounds; in each round every image gets its own random mask of
    ``round(ratio * n)`` positions (:func:`nesy.satnet.random_masks`), the same for every
    ``C``; the Vi-SATNets run once per round (:func:`vi_c_agreements`).

    classifiers : one C (named ``"C"``) or a mapping name -> C.

    Returns one row per (C, ratio), C by C in the given order, then ratio by ratio: ``head``
    (the name), ``mask_ratio`` (%), ``without_mean``, ``without_std`` (the baseline with the
    unmasked vectors normalised), ``without_raw_mean``, ``without_raw_std`` (the same with the
    unmasked vectors raw), ``with_mean``, ``with_std`` (Algorithm 1) (accuracy in %, std over
    the rounds, ddof=1; 0 for one round), ``none_agree`` and ``several_agree`` (images decided
    by a fallback, summed over rounds).
    on_progress: optional callable(done, total) after every round.
    """
    from nesy.satnet.train import random_masks

    heads = _as_heads(classifiers)
    if masks < 1:
        raise ValueError(f"masks must be >= 1; got {masks}")
    gen = torch.Generator().manual_seed(seed)
    n = vectors.shape[1]
    rows = {name: [] for name in heads}
    done = 0

    def pct(pred):
        return 100.0 * float((pred == labels).float().mean())

    def std(t):
        return float(t.std()) if len(t) > 1 else 0.0

    for ratio in ratios:
        acc = {name: {"without": [], "without_raw": [], "with": []} for name in heads}
        none = {name: 0 for name in heads}
        several = {name: 0 for name in heads}
        for _ in range(masks):
            mask = random_masks(vectors.shape[0], n, ratio, gen)
            agreements = vi_c_agreements(layers, heads, vectors, mask, height, width)
            for name, classifier in heads.items():
                acc[name]["without"].append(pct(masked_baseline(classifier, vectors, mask, height, width)))
                acc[name]["without_raw"].append(pct(masked_baseline(classifier, vectors, mask, height, width,
                                                                    normalise=False)))
                acc[name]["with"].append(pct(agreements[name].pred))
                none[name] += agreements[name].none
                several[name] += agreements[name].several
            done += 1
            if on_progress is not None:
                on_progress(done, len(ratios) * masks)
        for name in heads:
            row = {"head": name, "mask_ratio": round(100 * ratio)}
            for column, values in acc[name].items():
                t = torch.tensor(values, dtype=torch.float64)
                row |= {f"{column}_mean": float(t.mean()), f"{column}_std": std(t)}
            rows[name].append(row | {"none_agree": none[name], "several_agree": several[name]})
    return [row for name in heads for row in rows[name]]
