"""Algorithm 2 (minimal significant feature sets) and effective receptive fields."""
import pytest
import torch
from torch import nn

from nesy import satnet
from nesy.satnet.msf import _search


def _run(search, d):
    """Drive the Algorithm-2 coroutine with a similarity function d(dropped set)."""
    queries = []
    try:
        q = next(search)
        while True:
            queries.append(q)
            q = search.send(d(q))
    except StopIteration as stop:
        return stop.value, queries


def test_search_keeps_exactly_the_needed_positions():
    # d stays high iff positions 2 and 5 are both kept
    d = lambda dropped: 1.0 if not ({2, 5} & dropped) else 0.0
    kept, queries = _run(_search(8, 0, 0.5, cumulative=True), d)
    assert kept == {2, 5}
    assert queries[0] == frozenset(range(1, 8))  # first the whole full_set (largest first)


def test_cumulative_returns_a_significant_set_literal_may_not():
    # either 1 or 2 suffices alone, losing both breaks the threshold
    d = lambda dropped: 0.0 if {1, 2} <= dropped else 1.0
    kept, _ = _run(_search(4, 0, 0.5, cumulative=True), d)
    assert d(frozenset({1, 2, 3}) - kept) > 0.5 and len(kept) == 1
    literal, _ = _run(_search(4, 0, 0.5, cumulative=False), d)
    assert literal == frozenset()  # the literal reading drops both: not significant


def test_minimal_significant_sets_on_a_layer():
    torch.manual_seed(0)
    layer = satnet.ViSATNet(9, 16, 5, seed=0)
    v = torch.rand(9, 5)
    found = satnet.minimal_significant_sets(layer, v, [0, 4], [0.5, 0.99])
    assert [(f.target, f.alpha) for f in found] == [(0, 0.5), (0, 0.99), (4, 0.5), (4, 0.99)]
    for f in found:
        assert f.target not in f.indices and f.threshold == pytest.approx(f.alpha * f.s_ref)
        assert f.similarity >= f.threshold - 1e-5  # cumulative search: Eq. 4 holds
    # s_ref is the similarity with every other vector given
    s = satnet.target_similarity(layer, v, torch.tensor([0]), torch.zeros(1, 9, dtype=torch.bool))
    assert found[0].s_ref == pytest.approx(float(s))
    with pytest.raises(ValueError, match="targets"):
        satnet.minimal_significant_sets(layer, v, [9], [0.9])
    with pytest.raises(ValueError, match="alphas"):
        satnet.minimal_significant_sets(layer, v, [0], [1.5])


def test_erf_of_a_local_network_is_local_and_outlined():
    net = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.AvgPool2d(4))  # 16x16 -> 4x4, RF ~ 6 px
    maps = satnet.effective_receptive_fields(net, torch.rand(2, 1, 16, 16))
    assert maps.shape == (2, 16, 16, 16)
    # position (1, 2) (index 6) only sees pixels near rows 4..7, cols 8..11
    assert maps[0, 6, :3].sum() == 0 and maps[0, 6, 4:8, 8:12].sum() > 0
    cx, cy, rx, ry = satnet.erf_outlines(maps, smooth=1)[0, 6].tolist()
    assert 8 <= cx <= 11 and 4 <= cy <= 7 and 0 < rx < 6 and 0 < ry < 6


def test_position_evidence_is_the_class_activation_map_for_pool_linear():
    fc = nn.Linear(3, 2)
    clf = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), fc)
    fmap = torch.rand(3, 2, 2)
    e = satnet.position_evidence(clf, fmap, 1)
    cam = (fc.weight[1] @ fmap.flatten(1)) / 4
    assert torch.allclose(e, cam, atol=1e-6)


def test_msf_explorer_embeds_results_and_adds_an_alpha_live():
    from nesy.widgets.msf import MSFExplorer

    layer = satnet.ViSATNet(4, 8, 3, seed=0)
    v = torch.rand(4, 3)
    found = satnet.minimal_significant_sets(layer, v, range(4), [0.9])
    images = torch.zeros(1, 8, 8, 3, dtype=torch.uint8)
    outlines = torch.ones(1, 4, 4)
    explorer = MSFExplorer(images, ["x"], (2, 2), outlines, [0.9], [[found]], layers=[layer], vectors=[v], target=3)
    assert explorer.shown()["indices"] == list(found[3].indices)
    explorer.add_alpha(0.5)
    assert explorer.alphas == [0.9, 0.5] and explorer.alpha_index == 1
    again = satnet.minimal_significant_sets(layer, v, [3], [0.5])[0]
    assert explorer.shown()["indices"] == list(again.indices)
    with pytest.raises(ValueError, match="same images"):
        MSFExplorer(images, ["x", "y"], (2, 2), outlines, [0.9], [[found]])
    with pytest.raises(ValueError, match="add_alpha"):
        MSFExplorer(images, ["x"], (2, 2), outlines, [0.9], [[found]]).add_alpha(0.5)
