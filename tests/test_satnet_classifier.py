"""The VGG-like classifier C on feature maps: shapes, determinism, and that it reads positions."""
import pytest
import torch

from nesy import satnet


def _maps(n=24, k=3, h=2, w=2, seed=0):
    """Two classes told apart by WHERE channel 0 is high (top row vs bottom row), not by its mean."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, k, h, w, generator=g) * 0.1
    y = torch.arange(n) % 2
    x[y == 0, 0, 0, :] += 1.0
    x[y == 1, 0, 1, :] += 1.0
    return x, y


def test_flatten_classifier_shapes_and_errors():
    c = satnet.FlattenClassifier(3, 2, 2, classes=5, hidden=7)
    assert c(torch.rand(4, 3, 2, 2)).shape == (4, 5)
    assert c.net[1].weight.shape == (7, 12)  # one column per (channel, position)
    with pytest.raises(ValueError, match=r"fmap must be \(N, 3, 2, 2\)"):
        c(torch.rand(4, 3, 3, 3))
    with pytest.raises(ValueError, match="hidden must be an int >= 1"):
        satnet.FlattenClassifier(3, 2, 2, classes=5, hidden=0)
    with pytest.raises(ValueError, match="head must be one of"):
        satnet.train_classifier(torch.rand(4, 3, 2, 2), torch.zeros(4, dtype=torch.long), head="conv")


def test_training_is_deterministic_and_leaves_the_global_rng_alone():
    x, y = _maps()
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = satnet.train_classifier(x, y, hidden=8, epochs=3, batch_size=8, seed=5)
    after = torch.rand(1)
    b = satnet.train_classifier(x, y, hidden=8, epochs=3, batch_size=8, seed=5)
    c = satnet.train_classifier(x, y, hidden=8, epochs=3, batch_size=8, seed=6)
    assert torch.equal(before, after)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))
    assert not any(p.requires_grad for p in a.parameters()) and not a.training


def test_flatten_reads_positions_where_pooled_cannot():
    x, y = _maps()
    flat = satnet.train_classifier(x, y, head="flatten", hidden=16, dropout=0.0, epochs=60, batch_size=8, learning_rate=1e-2)
    pooled = satnet.train_classifier(x, y, head="pooled", epochs=60, batch_size=8, learning_rate=1e-2)
    assert satnet.classifier_accuracy(flat, x, y) == 100.0
    swapped = x.flip(2)  # top and bottom rows exchanged: the same per-channel means
    with torch.no_grad():
        assert torch.allclose(pooled(swapped), pooled(x), atol=1e-6)  # pooling ignores where
        assert not torch.allclose(flat(swapped), flat(x), atol=1e-3)
    assert satnet.classifier_accuracy(flat, swapped, y) == 0.0  # it read the positions
    assert satnet.classifier_accuracy(pooled, x, y) <= 75.0  # the means alone barely tell the classes apart


def test_unit_training_and_accuracy_normalise_every_position():
    x, y = _maps()
    unit = satnet.normalise_positions(x)
    assert torch.allclose(unit.norm(dim=1), torch.ones(x.shape[0], 2, 2))
    a = satnet.train_classifier(x, y, hidden=8, epochs=2, batch_size=8, unit=True, seed=1)
    b = satnet.train_classifier(unit, y, hidden=8, epochs=2, batch_size=8, unit=False, seed=1)
    assert all(torch.allclose(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert satnet.classifier_accuracy(a, x, y, unit=True) == satnet.classifier_accuracy(a, unit, y)
