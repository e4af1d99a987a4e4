"""The CIFAR-10 and FER2013 loaders: shapes, the fixed order, and clear errors."""
import pytest
import torch

from nesy import data
from nesy.data.errors import DataUnavailableError
from nesy.data.loader_cifar10 import CLASSES
from nesy.data.loader_fer2013 import EMOTIONS, HAPPY


def test_cifar10_from_the_mirror_in_class_order():
    x, y = data.cifar10("test")
    assert x.shape == (10_000, 32, 32, 3) and x.dtype == torch.uint8
    assert torch.equal(torch.bincount(y), torch.full((10,), 1000))
    assert torch.all(y[1:] >= y[:-1])             # sorted by class, then file name
    assert len(CLASSES) == 10 and x.float().std() > 30
    with pytest.raises(ValueError, match="split"):
        data.cifar10("validation")


def test_fer2013_from_the_mirror_with_the_kaggle_label_order():
    x, y = data.fer2013("test")
    assert x.shape == (7_178, 48, 48) and x.dtype == torch.uint8
    assert torch.all(y[1:] >= y[:-1])
    assert EMOTIONS[HAPPY] == "happy" and int((y == HAPPY).sum()) == 1774
    with pytest.raises(ValueError, match="split"):
        data.fer2013("val")


def test_fer2013_without_any_copy_says_where_to_put_the_kaggle_file(tmp_path, monkeypatch):
    monkeypatch.setenv("NESY_DATA_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("NESY_DATA_MIRROR", str(tmp_path / "no-mirror"))
    with pytest.raises(DataUnavailableError) as info:
        data.fer2013("train")
    message = str(info.value)
    assert "kaggle.com" in message and str(tmp_path / "cache" / "fer2013" / "fer2013.csv") in message
