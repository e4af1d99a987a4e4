"""Vi-C agreement (Algorithm 1) with its documented fallbacks, the baseline and the sweep."""
import torch
from torch import nn

from nesy import satnet


def test_decide_single_several_none():
    probs = torch.tensor([[0.2, 0.9, 0.1], [0.6, 0.7, 0.1], [0.3, 0.2, 0.5]])
    agree = torch.tensor([[True, False, False],   # one agrees: it wins although p is lower elsewhere
                          [True, True, False],    # several: the larger p among them
                          [False, False, False]])  # none: the largest p overall
    assert satnet.decide(agree, probs).tolist() == [0, 1, 2]


class _Fixed(nn.Module):
    """A stand-in Vi-SATNet that writes a fixed vector into every masked position."""

    def __init__(self, vector):
        super().__init__()
        self.vector = vector

    def forward(self, x, mask):
        v, _ = satnet.unit_vectors(x)
        return torch.where(mask[..., None], self.vector, v)


class _Channel(nn.Module):
    """C: mean over positions, logits = the first L channels."""

    def forward(self, fmap):
        return fmap.mean((2, 3))[:, :2]


def test_agreement_uses_each_class_layer_and_counts_fallbacks():
    layers = [_Fixed(torch.tensor([1.0, 0.0])), _Fixed(torch.tensor([0.0, 1.0]))]
    x = torch.tensor([[[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [1.0, 0.0]]])  # (1, n=4, k=2)
    mask = torch.tensor([[True, True, True, False]])
    result = satnet.vi_c_agreement(layers, _Channel(), x, mask, 2, 2)
    # layer 0 fills channel 0 -> C says 0 (agrees); layer 1 fills channel 1 (3 of 4) -> C says 1 (agrees)
    assert result.agreeing.tolist() == [2] and result.several == 1 and result.none == 0
    assert result.pred.tolist() == [0]  # p_0 = softmax([1, 0])[0] > p_1 = softmax([.25, .75])[1]
    base = satnet.masked_baseline(_Channel(), x, mask, 2, 2)
    assert base.tolist() == [0]


def test_mask_sweep_rows_and_extremes():
    layers = [_Fixed(torch.tensor([1.0, 0.0])), _Fixed(torch.tensor([0.0, 1.0]))]
    x = torch.tensor([[[1.0, 0.0]] * 4, [[0.0, 1.0]] * 4])
    labels = torch.tensor([0, 1])
    rows = satnet.mask_sweep(layers, _Channel(), x, labels, 2, 2, [0.25, 1.0], masks=3, seed=0)
    assert [r["mask_ratio"] for r in rows] == [25, 100]
    assert rows[0]["without_mean"] == 100.0 and rows[0]["with_mean"] == 100.0
    # fully masked: the baseline sees only uniform vectors (a tie: argmax 0), so 50%
    assert rows[1]["without_mean"] == 50.0 and rows[1]["without_std"] == 0.0
    assert rows[0]["head"] == "C" and rows[0]["without_raw_mean"] == 100.0


class _Counting(nn.Module):
    """Wraps a layer and counts its calls."""

    def __init__(self, layer):
        super().__init__()
        self.layer, self.calls = layer, 0

    def forward(self, x, mask):
        self.calls += 1
        return self.layer(x, mask)


class _Position(nn.Module):
    """C that reads one position: logits = the vector at position 3 (first 2 channels)."""

    def forward(self, fmap):
        return fmap.flatten(2)[:, :2, 3]


def test_several_heads_share_the_completions():
    layers = [_Counting(_Fixed(torch.tensor([1.0, 0.0]))), _Counting(_Fixed(torch.tensor([0.0, 1.0])))]
    x = torch.tensor([[[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [1.0, 0.0]]])
    mask = torch.tensor([[True, True, True, False]])
    both = satnet.vi_c_agreements(layers, {"mean": _Channel(), "position": _Position()}, x, mask, 2, 2)
    assert list(both) == ["mean", "position"] and [layer.calls for layer in layers] == [1, 1]
    single = satnet.vi_c_agreement(layers, _Channel(), x, mask, 2, 2)
    assert torch.equal(single.pred, both["mean"].pred) and torch.equal(single.probs, both["mean"].probs)
    # position 3 is known (channel 0) whatever the layer writes: only class 0 agrees
    assert both["position"].agreeing.tolist() == [1] and both["position"].pred.tolist() == [0]


def test_baseline_raw_keeps_the_scale_of_the_known_vectors():
    x = torch.tensor([[[0.0, 10.0], [0.0, 10.0], [0.0, 10.0], [0.0, 10.0]]])
    mask = torch.tensor([[True, True, True, False]])
    # C: logit 0 = mean channel 0 - mean channel 1 / 2, logit 1 = 0. Normalised: three uniform
    # vectors (0.71, 0.71) and (0, 1): 0.53 - 0.39 > 0. Raw: the known (0, 10) dominates: 0.53 - 1.52 < 0.
    class _Diff(nn.Module):
        def forward(self, fmap):
            m = fmap.mean((2, 3))
            return torch.stack([m[:, 0] - 0.5 * m[:, 1], torch.zeros(len(m))], 1)

    assert satnet.masked_baseline(_Diff(), x, mask, 2, 2).tolist() == [0]
    assert satnet.masked_baseline(_Diff(), x, mask, 2, 2, normalise=False).tolist() == [1]


def test_mask_sweep_over_heads():
    layers = [_Counting(_Fixed(torch.tensor([1.0, 0.0]))), _Counting(_Fixed(torch.tensor([0.0, 1.0])))]
    x = torch.tensor([[[1.0, 0.0]] * 4, [[0.0, 1.0]] * 4])
    labels = torch.tensor([0, 1])
    rows = satnet.mask_sweep(layers, {"mean": _Channel(), "position": _Position()}, x, labels, 2, 2, [0.25, 1.0],
                             masks=2, seed=0)
    assert [(r["head"], r["mask_ratio"]) for r in rows] == [("mean", 25), ("mean", 100), ("position", 25),
                                                           ("position", 100)]
    assert [layer.calls for layer in layers] == [4, 4]  # 2 ratios x 2 masks, once for both heads
    single = satnet.mask_sweep(layers, _Channel(), x, labels, 2, 2, [0.25, 1.0], masks=2, seed=0)
    assert [{**r, "head": "mean"} for r in single] == rows[:2]
