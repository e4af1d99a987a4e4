"""The chapter's data and backbones: the Imagenette loader, the last-feature-map split, LeNet-5."""
import pytest
import torch

from nesy import data, models
from nesy.data.loader_imagenette import CLASS_NAMES, IMAGENET_INDEX, WNIDS

pytestmark = pytest.mark.integration


def test_imagenette_val_subset_is_class_ordered_and_cached(real_data):
    d = real_data(data.imagenette, "val", per_class=3, progress=False)
    assert d.images.shape == (30, 224, 224, 3) and d.images.dtype == torch.uint8
    assert d.labels.tolist() == [c for c in range(10) for _ in range(3)]
    assert all(f.startswith(WNIDS[int(y)] + "/") for f, y in zip(d.files, d.labels))
    again = real_data(data.imagenette, "val", per_class=3, progress=False)
    assert torch.equal(again.images, d.images)


def test_imagenette_bad_arguments():
    with pytest.raises(ValueError, match="split"):
        data.imagenette("test")
    with pytest.raises(ValueError, match="per_class"):
        data.imagenette("val", per_class=0)


def test_imagenette_classes_match_imagenet_indices(real_data):
    val = real_data(data.imagenet_val_boxes, progress=False)
    assert [val.wnids.index(w) for w in WNIDS] == list(IMAGENET_INDEX)
    assert all(name.split()[0].lower() in val.class_names[i].lower() for name, i in zip(CLASS_NAMES, IMAGENET_INDEX))


def test_last_feature_split_recomposes_the_network(real_data):
    net = models.efficientnet_lite0()
    x = models.preprocess(real_data(data.imagenette, "val", per_class=1, progress=False).images[:4], 224)
    extractor, classifier = models.last_feature_split(net)
    with torch.no_grad():
        f = extractor(x)
        assert f.shape == (4, 1280, 7, 7)
        assert torch.allclose(classifier(f), net(x), atol=1e-4)
        _, ten = models.last_feature_split(net, IMAGENET_INDEX)
        assert torch.allclose(ten(f), net(x)[:, list(IMAGENET_INDEX)], atol=1e-4)
        assert (ten(f).argmax(1) == torch.arange(4)).float().mean() >= 0.75  # real weights recognise them
    with pytest.raises(ValueError, match="model"):
        models.last_feature_split(_named("other"))


def test_feature_split_before_the_head_conv_recomposes_the_network(real_data):
    net = models.efficientnet_lite0()
    x = models.preprocess(real_data(data.imagenette, "val", per_class=1, progress=False).images[:2], 224)
    head_extractor, _ = models.last_feature_split(net)
    extractor, classifier = models.last_feature_split(net, IMAGENET_INDEX, layer="blocks")
    with torch.no_grad():
        f = extractor(x)
        assert f.shape == (2, 320, 7, 7) and (f < 0).any()  # a linear projection: signed
        assert torch.allclose(classifier(f), net(x)[:, list(IMAGENET_INDEX)], atol=1e-4)
        assert torch.allclose(net.head.last(f), head_extractor(x), atol=1e-5)
    with pytest.raises(ValueError, match="layer must be one of"):
        models.last_feature_split(net, layer="pool5")


class _named:
    def __init__(self, name):
        self.name = name


def test_lenet5_shapes_and_training_is_seeded(real_data):
    net = models.LeNet5()
    x = torch.rand(2, 1, 28, 28)
    assert net.features(x).shape == (2, 16, 5, 5) and net(x).shape == (2, 10)
    images, labels = real_data(data.mnist, "test")
    a = models.train_lenet5(images[:512], labels[:512], epochs=1, batch_size=64, seed=1, progress=False)
    b = models.train_lenet5(images[:512], labels[:512], epochs=1, batch_size=64, seed=1, progress=False)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    with pytest.raises(ValueError, match="epochs"):
        models.train_lenet5(images[:8], labels[:8], epochs=0)
