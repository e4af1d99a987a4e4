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


def grid_distances(target: int, positions: Sequence[int], width: int) -> list[int]:
    """Chebyshev distance of each of `positions` from `target` on a grid of width `width`.

    Positions index an ``H x W`` grid row-major (``position = row * width + col``); the distance
    of ``p`` is ``max(|row_p - row_t|, |col_p - col_t|)``, so the 8 cells around the target are
    at distance 1. Returns one int per position, in the order given.
    """
    if width < 1:
        raise ValueError(f"width must be a positive grid width; got {width!r}")
    row, col = divmod(int(target), width)
    return [max(abs(int(p) // width - row), abs(int(p) % width - col)) for p in positions]


def member_distances(found: MSF, width: int) -> list[int]:
    """Chebyshev grid distance of each member of `found` from its target (:func:`grid_distances`).

    The 8 cells around the target are at distance 1: the "neighbouring" vectors of the paper's
    Figures 4a/4b. found : one MSF; width : W, the grid width (>= 1). Returns one int per
    member, in the order of ``found.indices`` (sorted positions); an empty MSF gives ``[]``.
    """
    return grid_distances(found.target, found.indices, width)


def far_member_summary(msfs: Sequence[MSF], width: int, near: int = 1) -> list[dict]:
    """One row per MSF: how far its members lie from the target (Case study 1, Figure 4).

    msfs : MSFs (e.g. every target of one image at one alpha); width : W, the grid width;
    near : the largest distance counted as "neighbouring" (1: the 8 surrounding cells).

    Returns a list of dicts (one per MSF, in the order given) with ``target``, ``alpha``,
    ``s_ref``, ``size`` (number of members), ``max_distance`` (the farthest member's
    :func:`member_distances`, ``None`` for an empty MSF) and ``far_members`` (members farther
    than `near`; 0 for an empty MSF).
    """
    if near < 0:
        raise ValueError(f"near must be a distance >= 0; got {near!r}")
    rows = []
    for found in msfs:
        distances = member_distances(found, width)
        rows.append({"target": found.target, "alpha": found.alpha, "s_ref": found.s_ref, "size": len(distances),
                     "max_distance": max(distances) if distances else None,
                     "far_members": sum(d > near for d in distances)})
    return rows


def member_distance_histogram(msfs: Sequence[MSF], height: int, width: int) -> list[dict]:
    """How far MSF members lie from their targets, against chance (Case study 1, Figure 4).

    msfs : the MSFs to count (e.g. every target with s_ref > 0 and a non-empty set); height,
    width : the grid. Returns one row per distance 1 .. max(H, W) - 1: ``distance``, ``members``
    (count), ``share of members``, ``share of members by chance`` (the expected share if every
    MSF kept its size and drew its members uniformly from the other ``H*W - 1`` cells) and
    ``MSFs with their farthest member here``. Shares are 0 when there is no member.
    """
    cells = height * width
    distances = range(1, max(height, width))
    members = {d: 0 for d in distances}
    chance = {d: 0.0 for d in distances}
    farthest = {d: 0 for d in distances}
    total = 0
    for found in msfs:
        own = member_distances(found, width)
        if not own:
            continue
        total += len(own)
        for d in own:
            members[d] += 1
        farthest[max(own)] += 1
        others = grid_distances(found.target, [p for p in range(cells) if p != found.target], width)
        for d in others:  # each other cell holds a member with probability size / (cells - 1)
            chance[d] += len(own) / (cells - 1)
    return [{"distance": d, "members": members[d], "share of members": members[d] / total if total else 0.0,
             "share of members by chance": chance[d] / total if total else 0.0,
             "MSFs with their farthest member here": farthest[d]} for d in distances]
