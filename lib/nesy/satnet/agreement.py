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

from collections.abc import Sequence
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


@torch.no_grad()
def vi_c_agreement(layers: Sequence[nn.Module], classifier: nn.Module, vectors: torch.Tensor, mask: torch.Tensor,
                   height: int, width: int, batch_size: int = 128) -> Agreement:
    """Algorithm 1 over a batch.

    Parameters
    ----------
    layers : L Vi-SATNets, ``layers[l]`` trained on class l.
    classifier : C, feature map ``(B, K, H, W)`` -> logits ``(B, L)`` over the same L classes.
    vectors : (B, n, k) feature vectors; mask : (B, n) bool, True = missing.
    height, width : the feature map's H, W (n = H * W).
    """
    if vectors.shape[0] != mask.shape[0]:
        raise ValueError(f"vectors and mask must have the same batch size; got {vectors.shape[0]}, {mask.shape[0]}")
    probs = []
    agree = []
    for i in range(0, vectors.shape[0], batch_size):
        x, mk = vectors[i:i + batch_size], mask[i:i + batch_size]
        p_row, a_row = [], []
        for label, layer in enumerate(layers):
            p = classifier(feature_map(layer(x, mk), height, width)).softmax(1)  # (b, L)
            p_row.append(p[:, label])
            a_row.append(p.argmax(1) == label)
        probs.append(torch.stack(p_row, 1))
        agree.append(torch.stack(a_row, 1))
    probs_t, agree_t = torch.cat(probs), torch.cat(agree)
    return Agreement(pred=decide(agree_t, probs_t), agreeing=agree_t.sum(1), probs=probs_t)


@torch.no_grad()
def masked_baseline(classifier: nn.Module, vectors: torch.Tensor, mask: torch.Tensor, height: int,
                    width: int) -> torch.Tensor:
    """Table 1's "without re-generation": the masked vectors set to the uniform unit vector, the
    others normalised as Vi-SATNet's inputs are, classified by C. Returns ``(B,)`` classes."""
    v, _ = unit_vectors(vectors)
    v = torch.where(mask[..., None], uniform_vector(v.shape[-1], v.dtype), v)
    return classifier(feature_map(v, height, width)).argmax(1)


def mask_sweep(layers: Sequence[nn.Module], classifier: nn.Module, vectors: torch.Tensor, labels: torch.Tensor,
               height: int, width: int, ratios: Sequence[float], masks: int, seed: int = 0, progress=None) -> list[dict]:
    """Table 1: accuracy with and without re-generation for every mask ratio.

    For each ratio, `masks` rounds; in each round every image gets its own random mask of
    ``round(ratio * n)`` positions (:func:`nesy.satnet.random_masks`). Returns one row per
    ratio: ``mask_ratio`` (%), ``without_mean``, ``without_std``, ``with_mean``, ``with_std``
    (accuracy in %, std over the rounds, ddof=1; 0 for one round), ``none_agree`` and
    ``several_agree`` (images decided by a fallback, summed over rounds).
    progress: optional callable(done, total) after every round.
    """
    from nesy.satnet.train import random_masks

    if masks < 1:
        raise ValueError(f"masks must be >= 1; got {masks}")
    gen = torch.Generator().manual_seed(seed)
    n = vectors.shape[1]
    rows, done = [], 0
    for ratio in ratios:
        without, with_, none, several = [], [], 0, 0
        for _ in range(masks):
            mask = random_masks(vectors.shape[0], n, ratio, gen)
            without.append(100.0 * float((masked_baseline(classifier, vectors, mask, height, width) == labels).float().mean()))
            result = vi_c_agreement(layers, classifier, vectors, mask, height, width)
            with_.append(100.0 * float((result.pred == labels).float().mean()))
            none, several = none + result.none, several + result.several
            done += 1
            if progress is not None:
                progress(done, len(ratios) * masks)
        w, r = torch.tensor(without, dtype=torch.float64), torch.tensor(with_, dtype=torch.float64)
        std = (lambda t: float(t.std()) if len(t) > 1 else 0.0)
        rows.append({"mask_ratio": round(100 * ratio), "without_mean": float(w.mean()), "without_std": std(w),
                     "with_mean": float(r.mean()), "with_std": std(r), "none_agree": none, "several_agree": several})
    return rows
