"""The Beer Reviews loader: a clear error without the data, correct parsing with it."""
import gzip
import json

import pytest

from nesy import data


def test_absent_data_names_the_folder_and_files(tmp_path):
    with pytest.raises(data.DataUnavailableError, match="reviews.aspect1.train.txt.gz") as error:
        data.beer_reviews("train", root=tmp_path)
    assert str(tmp_path) in str(error.value) and "NESY_BEER_REVIEWS" in str(error.value)


def test_parses_reviews_and_annotations(tmp_path):
    with gzip.open(tmp_path / "reviews.aspect1.heldout.txt.gz", "wt") as f:
        f.write("0.8 0.6 0.7 0.9 1.0\tpours a hazy gold . smells of citrus\n0.2 0.4 0.3 0.1 0.0\tflat and sour\n")
    (tmp_path / "annotations.json").write_text(json.dumps({"x": ["smells", "of", "citrus"], "y": [0.5, 0.7, 0.6, 0.6, 0.6], "0": [], "1": [[0, 3]], "2": []}) + "\n")
    held = data.beer_reviews("heldout", root=tmp_path)
    assert len(held) == 2 and held.tokens[1] == ["flat", "and", "sour"] and held.targets() == [0.6, 0.4]
    notes = data.beer_reviews("annotations", "aroma", root=tmp_path)
    assert notes.rationales == [[(0, 3)]] and notes.targets() == [0.7]


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="split"):
        data.beer_reviews("dev", root=tmp_path)
    with pytest.raises(ValueError, match="aspect"):
        data.beer_reviews("train", "smell", root=tmp_path)
