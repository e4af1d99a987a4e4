"""The vi_satnet chapter: the same seed gives the same results JSON (wall times aside)."""
import json
import os
from unittest import mock

import pytest

from nesy.book import runner

pytestmark = pytest.mark.slow


def _results(book, chapter):
    data = json.loads((book / "results" / f"{chapter}.json").read_text())
    data.pop("wall_time_s")
    return data


def test_same_seed_same_results(smoke_book, tmp_path):
    with mock.patch.dict(os.environ, {"NESY_BOOK_DIR": str(tmp_path)}):
        runner.run_chapter("vi_satnet", "smoke")
    first, second = _results(smoke_book, "vi_satnet"), _results(tmp_path, "vi_satnet")
    assert first["numbers"] and first["tables"]["table1_imagenette"]
    # the head ablation: both heads on the same masks, and the main rows are the flatten head's
    heads = first["tables"]["table1_imagenette_heads"]
    assert [r["head"] for r in heads] == ["flatten"] * 10 + ["pooled"] * 10
    main = [{k: v for k, v in r.items() if k != "head"} for r in heads[:10]]
    assert main == first["tables"]["table1_imagenette"]
    assert [r["C"] for r in first["tables"]["imagenette_C_accuracy"]][:2] == ["flatten", "pooled"]
    # the feature-layer ablation trains both maps alike; the loss gap has its three settings per class
    assert [(r["feature_layer"], r["K"]) for r in first["tables"]["imagenette_layer_ablation"]] == [("head", 1280), ("blocks", 320)]
    assert [r["setting"] for r in first["tables"]["imagenette_loss_gap"]] == [
        "this chapter", "paper's schedule", "Wang et al.'s settings"]
    assert first["numbers"]["imagenette_feature_shape"] == [320, 7, 7]
    assert first == second
