"""Per-class Vi-SATNet training: masks, the cosine loss, feature-vector layout, learning."""
import pytest
import torch

from nesy import satnet


def test_feature_vectors_follow_eq1_and_invert():
    fmap = torch.arange(2 * 3 * 2 * 4, dtype=torch.float32).reshape(2, 3, 2, 4)  # (N, K, H, W)
    v = satnet.feature_vectors(fmap)
    assert v.shape == (2, 8, 3)
    # position i is row i // W, column i % W
    assert torch.equal(v[1, 5], fmap[1, :, 5 // 4, 5 % 4])
    assert torch.equal(satnet.feature_map(v, 2, 4), fmap)
    with pytest.raises(ValueError, match="vectors"):
        satnet.feature_map(v, 3, 4)


def test_random_masks_have_exact_counts_and_are_seeded():
    g = torch.Generator().manual_seed(0)
    m = satnet.random_masks(50, 49, 0.4, g)
    assert m.dtype == torch.bool and (m.sum(1) == round(0.4 * 49)).all()
    assert torch.equal(m, satnet.random_masks(50, 49, 0.4, torch.Generator().manual_seed(0)))
    assert not torch.equal(m[0], m[1])
    assert satnet.random_masks(3, 10, 1.0, g).all() and not satnet.random_masks(3, 10, 0.0, g).any()
    with pytest.raises(ValueError, match="ratio"):
        satnet.random_masks(1, 4, 1.5, g)


def test_cosine_loss_by_hand():
    target = torch.tensor([[[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]]])
    output = torch.tensor([[[0.0, 1.0], [0.0, 1.0], [1.0, 0.0]]])
    # masked: 0 (orthogonal: loss 1) and 1 (same direction: 0); 2 has a zero target and is skipped
    mask = torch.tensor([[True, True, True]])
    assert satnet.cosine_loss(output, target, mask).item() == pytest.approx(0.5)
    assert satnet.cosine_loss(output, target, torch.tensor([[False, True, False]])).item() == pytest.approx(0.0)
    assert satnet.cosine_loss(output, target, torch.zeros(1, 3, dtype=torch.bool)).item() == 0.0


def _structured(N, n, k, seed):
    """Vectors with a shared structure: each image is one of two prototypes plus noise."""
    g = torch.Generator().manual_seed(seed)
    protos = torch.randn(2, n, k, generator=g)
    which = torch.randint(0, 2, (N,), generator=g)
    return protos[which] + 0.1 * torch.randn(N, n, k, generator=g)


def test_training_lowers_the_validation_loss_and_is_reproducible():
    train, val = _structured(64, 9, 6, 0), _structured(16, 9, 6, 1)
    kw = dict(m=24, epochs=6, batch_size=8, mask_ratio=0.4, seed=3)
    layer, history = satnet.train_visatnet(train, val, **kw)
    assert len(history.train) == len(history.val) == 6
    assert history.val[-1] < history.val[0] - 0.05, history.val
    _, again = satnet.train_visatnet(train, val, **kw)
    assert again.train == history.train and again.val == history.val
    with pytest.raises(ValueError, match="train and val"):
        satnet.train_visatnet(train, val[:, :4], m=4, epochs=1)


def test_known_mean_completion_by_hand():
    x = torch.tensor([[[2.0, 0.0], [0.0, 3.0], [5.0, 5.0]]])
    mask = torch.tensor([[False, False, True]])
    out = satnet.known_mean_completion(x, mask)
    r = 2 ** -0.5
    assert torch.allclose(out, torch.tensor([[[1.0, 0.0], [0.0, 1.0], [r, r]]]))


def test_known_mean_loss_by_hand_and_seeded():
    # one image, one masked position of three: masking (1, 1) leaves e0 + e1, its direction, so the
    # loss is 0; masking e0 leaves e1 + (1, 1)/sqrt(2), at cos 0.38268 to e0 (likewise for e1)
    one = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]])
    losses = {round(satnet.known_mean_loss(one, 1 / 3, seed), 5) for seed in range(12)}
    assert losses == {0.0, round(1 - 0.38268343, 5)}
    x = one.repeat(4, 1, 1)
    masks = satnet.random_masks(4, 3, 1 / 3, torch.Generator().manual_seed(5))
    expected = float(satnet.cosine_loss(satnet.known_mean_completion(x, masks), x, masks).mean())
    assert satnet.known_mean_loss(x, 1 / 3, 5) == expected
