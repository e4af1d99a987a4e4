"""The CIFAR-10 and FER2013 loaders: shapes, the fixed order, and clear errors."""
import pytest
import torch

from nesy import data
from nesy.data.errors import DataUnavailableError
from nesy.data.loader_cifar10 import CLASSES
from nesy.data.loader_fer2013 import EMOTIONS, HAPPY

pytestmark = pytest.mark.integration


def test_cifar10_from_the_mirror_in_class_order(real_data):
    x, y = real_data(data.cifar10, "test")
    assert x.shape == (10_000, 32, 32, 3) and x.dtype == torch.uint8
    assert torch.equal(torch.bincount(y), torch.full((10,), 1000))
    assert torch.all(y[1:] >= y[:-1])             # sorted by class, then file name
    assert len(CLASSES) == 10 and x.float().std() > 30
    with pytest.raises(ValueError, match="split"):
        data.cifar10("validation")


def test_fer2013_from_the_mirror_with_the_kaggle_label_order(real_data):
    x, y = real_data(data.fer2013, "test")
    assert x.shape == (7_178, 48, 48) and x.dtype == torch.uint8
    assert torch.all(y[1:] >= y[:-1])
    assert EMOTIONS[HAPPY] == "happy" and int((y == HAPPY).sum()) == 1774
    with pytest.raises(ValueError, match="split"):
        data.fer2013("val")


def test_fer2013_usages_split_the_test_set_and_name_the_allowed_values(real_data):
    public, y_public = real_data(data.fer2013, "test", usage="PublicTest")
    private, _ = real_data(data.fer2013, "test", usage="PrivateTest")
    assert len(public) == len(private) == 3589 and len(y_public) == 3589
    whole, _ = real_data(data.fer2013, "test")
    assert torch.equal(torch.sort(torch.cat([public, private]).flatten(1).sum(1).float())[0],
                       torch.sort(whole.flatten(1).sum(1).float())[0])
    with pytest.raises(ValueError, match="PublicTest"):
        data.fer2013("test", usage="Training")


def test_fer2013_usages_read_a_split_once_and_match_the_one_usage_loader(real_data):
    usages = real_data(data.fer2013_usages, "test")
    assert list(usages) == ["PublicTest", "PrivateTest"]
    for usage, (images, labels) in usages.items():
        one_x, one_y = data.fer2013("test", usage=usage)
        assert torch.equal(images, one_x) and torch.equal(labels, one_y)
    assert list(real_data(data.fer2013_usages, "train")) == ["Training"]
    with pytest.raises(ValueError, match="split"):
        data.fer2013_usages("val")


def test_fer2013_without_any_copy_says_where_to_put_the_kaggle_file(tmp_path, monkeypatch):
    monkeypatch.setenv("NESY_DATA_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("NESY_DATA_MIRROR", str(tmp_path / "no-mirror"))
    with pytest.raises(DataUnavailableError) as info:
        data.fer2013("train")
    message = str(info.value)
    assert "kaggle.com" in message and str(tmp_path / "cache" / "fer2013" / "fer2013.csv") in message


def test_sharpness_is_lower_for_a_blurred_copy():
    g = torch.Generator().manual_seed(0)
    sharp = (torch.rand(4, 16, 16, generator=g) * 255).to(torch.uint8)
    blurred = torch.nn.functional.avg_pool2d(sharp.float()[:, None], 3, 1, 1)[:, 0].to(torch.uint8)
    assert torch.all(data.sharpness(blurred) < data.sharpness(sharp) / 2)
    assert data.sharpness(torch.zeros(2, 5, 5, 3, dtype=torch.uint8)).tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="images"):
        data.sharpness(torch.zeros(0, 4, 4, dtype=torch.uint8))
