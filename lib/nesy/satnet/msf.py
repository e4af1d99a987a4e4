"""Minimal significant feature sets (the paper's Sec. 3.4.1, Definitions 1-3, Algorithm 2).

For a target position ``t`` of one image, ``d(S_f)`` is the cosine similarity between the
true ``v_t`` and the vector Vi-SATNet re-generates for ``t`` when only the vectors in
``S_f`` are given (all others, and ``t`` itself, are set to the uniform unit vector, i.e.
masked). ``s_ref = d(all but t)`` (Eq. 3); a set is significant with confidence ``alpha``
when ``d(S_f) >= alpha * s_ref`` (Eq. 4).

Algorithm 2 (``FindLargestToDrop``) pops the largest candidate set from a priority queue,
drops it when the similarity stays above ``theta = alpha * s_ref`` and otherwise splits it
in halves. As printed, line 6 tests each candidate alone (``d`` given every vector not in
``current_set``), so two sets that can each be dropped alone are both dropped even if
dropping both breaks the threshold. ``cumulative=True`` (the default here) tests
``current_set`` together with everything already dropped, as Zeller's delta debugging does,
so the returned set always meets Eq. 4; ``cumulative=False`` is the literal reading. Ties in
size pop in insertion order (left half first); a failing singleton is kept.

Every query uses the layer's natural update order (deterministic), and the searches of many
(target, alpha) pairs of one image run in lockstep so their queries share a batch.
"""
from __future__ import annotations

import heapq
import itertools
from collections.abc import Generator, Sequence
from dataclasses import dataclass

import torch

from nesy.satnet.layer import ViSATNet
from nesy.satnet.vectors import unit_vectors


@dataclass(frozen=True)
class MSF:
    """One minimal significant feature set.

    target : the position t; alpha : the confidence; s_ref : Eq. 3; threshold : alpha * s_ref.
    indices : the positions in the set (sorted); similarity : d(indices) (Eq. 4's left side).
    evaluations : re-generations the search needed (s_ref and the final check excluded).
    """

    target: int
    alpha: float
    s_ref: float
    threshold: float
    indices: tuple[int, ...]
    similarity: float
    evaluations: int


@torch.no_grad()
def target_similarity(layer: ViSATNet, vectors: torch.Tensor, targets: torch.Tensor, dropped: torch.Tensor) -> torch.Tensor:
    """``d`` of Definitions 2-3 for a batch of queries on one image.

    vectors : (n, k) the image's feature vectors; targets : (Q,) int64 target positions;
    dropped : (Q, n) bool, positions removed besides the target. Returns (Q,) cosine
    similarities between the re-generated and the true target vectors.
    """
    n = vectors.shape[0]
    mask = dropped.clone()
    mask[torch.arange(len(targets)), targets] = True
    x = vectors[None].expand(len(targets), n, vectors.shape[1])
    order = torch.arange(layer.S.shape[0])
    out = layer(x, mask, order=order)
    truth, _ = unit_vectors(vectors[targets])
    return (out[torch.arange(len(targets)), targets] * truth).sum(-1)


def _search(n: int, target: int, threshold: float, cumulative: bool) -> Generator[frozenset, float, frozenset]:
    """Algorithm 2 as a coroutine: yields the set of positions to drop, receives ``d``."""
    full = tuple(i for i in range(n) if i != target)
    counter = itertools.count()
    queue = [(-len(full), next(counter), full)]
    dropped: set[int] = set()
    while queue:
        _, _, current = heapq.heappop(queue)
        query = dropped.union(current) if cumulative else set(current)
        similarity = yield frozenset(query)
        if similarity > threshold:
            dropped.update(current)
        elif len(current) > 1:
            half = len(current) // 2
            for part in (current[:half], current[half:]):
                heapq.heappush(queue, (-len(part), next(counter), part))
    return frozenset(full) - dropped


def minimal_significant_sets(layer: ViSATNet, vectors: torch.Tensor, targets: Sequence[int], alphas: Sequence[float],
                             *, cumulative: bool = True) -> list[MSF]:
    """Algorithm 2 for every (target, alpha) pair of one image.

    Parameters
    ----------
    layer : the Vi-SATNet of the image's class.
    vectors : (n, k) the image's feature vectors (raw; normalised by the layer).
    targets : positions t in 0..n-1 (a target whose vector is all zero is refused).
    alphas : confidences in [0, 1].
    cumulative : see the module docstring.

    Returns
    -------
    list of MSF, target-major (``[(t0, a0), (t0, a1), ..., (t1, a0), ...]``).
    """
    n = vectors.shape[0]
    targets = [int(t) for t in targets]
    for t in targets:
        if not 0 <= t < n:
            raise ValueError(f"targets must be positions in 0..{n - 1}; got {t}")
        if bool((vectors[t] == 0).all()):
            raise ValueError(f"targets: position {t} has an all-zero feature vector (no direction to re-generate)")
    for a in alphas:
        if not 0.0 <= a <= 1.0:
            raise ValueError(f"alphas must be in [0, 1]; got {a!r}")
    t_tensor = torch.tensor(targets, dtype=torch.int64)
    s_ref = target_similarity(layer, vectors, t_tensor, torch.zeros(len(targets), n, dtype=torch.bool)).tolist()
    pairs = [(t, float(a), s) for t, s in zip(targets, s_ref) for a in alphas]
    searches = [_search(n, t, a * s, cumulative) for t, a, s in pairs]
    pending = {i: next(g) for i, g in enumerate(searches)}
    found: dict[int, frozenset] = {}
    evaluations = [0] * len(pairs)
    while pending:
        ids = list(pending)
        dropped = torch.zeros(len(ids), n, dtype=torch.bool)
        for row, i in enumerate(ids):
            dropped[row, list(pending[i])] = True
        sims = target_similarity(layer, vectors, torch.tensor([pairs[i][0] for i in ids]), dropped).tolist()
        for i, sim in zip(ids, sims):
            evaluations[i] += 1
            try:
                pending[i] = searches[i].send(sim)
            except StopIteration as stop:
                found[i] = stop.value
                del pending[i]
    keep = torch.zeros(len(pairs), n, dtype=torch.bool)
    for i in range(len(pairs)):
        keep[i, list(found[i])] = True
    final = target_similarity(layer, vectors, torch.tensor([p[0] for p in pairs]), ~keep).tolist()
    return [MSF(target=t, alpha=a, s_ref=s, threshold=a * s, indices=tuple(sorted(found[i])), similarity=final[i],
                evaluations=evaluations[i]) for i, (t, a, s) in enumerate(pairs)]


@torch.no_grad()
def position_evidence(classifier: torch.nn.Module, fmap: torch.Tensor, label: int) -> torch.Tensor:
    """How much each feature position alone supports `label`: ``C`` applied to the map with
    every other position zeroed, minus ``C`` of the all-zero map (logit of `label`).

    fmap : (K, H, W) one image's feature map. Returns (H*W,). For a classifier that pools
    and then applies a linear layer (EfficientNet-Lite0's) this is the class activation map
    (Zhou et al. 2016) up to a constant factor; the chapter uses it to tell foreground
    (high) from background (low) positions.
    """
    K, H, W = fmap.shape
    single = torch.zeros(H * W, K, H, W, dtype=fmap.dtype)
    idx = torch.arange(H * W)
    single[idx, :, idx // W, idx % W] = fmap.flatten(1).T
    base = classifier(torch.zeros(1, K, H, W, dtype=fmap.dtype))[0, label]
    return classifier(single)[:, label] - base
