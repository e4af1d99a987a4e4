"""Chapter parameters: profiles validate, bad values fail with one clear message, and the
chapter's parameters cell holds the default profile."""
import ast

import jupytext
import pytest

from nesy import params
from nesy.book import runner
from nesy.paths import CHAPTERS


@pytest.mark.parametrize("chapter", runner.chapters())
def test_every_profile_validates(chapter):
    assert {"default", "paper"} <= set(params.profiles(chapter))
    for profile in params.profiles(chapter):
        assert params.load_profile(chapter, profile)["profile"] == profile


@pytest.mark.parametrize("chapter", runner.chapters())
def test_parameters_cell_equals_default_profile(chapter):
    notebook = jupytext.read(CHAPTERS / f"{chapter}.py")
    cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    values = {}
    for node in ast.parse(cell.source).body:
        values[node.targets[0].id] = ast.literal_eval(node.value)
    assert values == params.load_profile(chapter, "default")


@pytest.mark.parametrize(
    "change, message",
    [
        ({"n_images": -5}, "parameter 'n_images' must be an integer in \\[200, 1000000\\], got -5"),
        ({"n_images": 1.5}, "'n_images' must be an integer"),
        ({"learning_rate": "fast"}, "'learning_rate' must be a number"),
        ({"patience": True}, "'patience' must be an integer"),
        ({"validation_fraction": 0.9}, "'validation_fraction' must be a number in \\[0.05, 0.5\\], got 0.9"),
        ({"epochs": 3}, "unknown parameter 'epochs'"),
    ],
)
def test_bad_values_give_one_clear_message(change, message):
    values = {**params.load_profile("ltn_crash", "default"), **change}
    with pytest.raises(params.ParameterError, match=message):
        params.validate("ltn_crash", values)


def test_missing_parameter_is_named():
    values = params.load_profile("ltn_crash", "default")
    del values["seed"]
    with pytest.raises(params.ParameterError, match="'seed' is missing"):
        params.validate("ltn_crash", values)


def test_choices_are_listed():
    spec = {"type": "str", "choices": ["mse", "ltn"]}
    with pytest.raises(params.ParameterError, match=r"one of \['mse', 'ltn'\], got 'sgd'"):
        params._check_value("objective", "sgd", spec)


def test_unknown_profile_lists_the_profiles():
    with pytest.raises(params.ParameterError, match="no profile 'huge'.*default"):
        params.load_profile("ltn_crash", "huge")


def test_runner_rejects_bad_override_before_running(tmp_path, monkeypatch):
    monkeypatch.setenv("NESY_BOOK_DIR", str(tmp_path))
    with pytest.raises(params.ParameterError, match="'n_images'"):
        runner.run_chapter("ltn_crash", "smoke", {"n_images": 0})
    assert not any(tmp_path.iterdir())  # nothing ran, nothing written


def test_runner_rejects_unknown_chapter():
    with pytest.raises(ValueError, match="chapter must be one of"):
        runner.run_chapter("no_such_chapter")


def test_list_length_bounds_are_checked_and_named():
    values = {**params.load_profile("vi_satnet", "default"), "loss_gap_classes": []}
    with pytest.raises(params.ParameterError, match=r"'loss_gap_classes' must be a list of 1 to 10 items, each an integer in \[0, 9\], got \[\]"):
        params.validate("vi_satnet", values)
    values["loss_gap_classes"] = [0, 10]
    with pytest.raises(params.ParameterError, match="'loss_gap_classes'"):
        params.validate("vi_satnet", values)
