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
    assert first == second
