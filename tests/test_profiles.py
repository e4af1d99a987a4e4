"""The `paper` and `long` profiles cannot rot: each is dry-run with the smoke profile's sizes
(its own model, solver and data choices kept), and `paper` without internet stops before any
cell with one message naming what is missing."""
from __future__ import annotations

import json
import os
from unittest import mock

import pytest

from nesy import preflight
from nesy.book import runner
from nesy.params import load_profile, profiles, schema

LADDER = ("paper", "long")


def _is_size(spec: dict) -> bool:
    """A number (or list of numbers) with a range: a size, a count or a rate, not a mode."""
    if spec["type"] == "list":
        spec = spec["items"]
    return spec["type"] in ("int", "float") and "choices" not in spec


def tiny(chapter: str, profile: str) -> dict:
    """``profile``'s parameters with every size taken from the smoke profile."""
    specs, values, smoke = schema(chapter), load_profile(chapter, profile), load_profile(chapter, "smoke")
    return {name: smoke[name] if _is_size(specs[name]) else value for name, value in values.items() if name != "profile"}


CASES = [(c, p) for c in runner.chapters() for p in LADDER if p in profiles(c)]


def test_every_chapter_has_the_whole_ladder():
    for chapter in runner.chapters():
        assert {"smoke", "default", "long", "paper"} <= set(profiles(chapter)), chapter


@pytest.mark.slow
@pytest.mark.parametrize("chapter,profile", CASES, ids=[f"{c}-{p}" for c, p in CASES])
def test_profile_dry_run(chapter, profile, tmp_path):
    """Run the chapter at ``profile`` with smoke sizes. When that is exactly the smoke run, the
    smoke book already runs it; otherwise it runs here (random weights for what needs internet)."""
    values = tiny(chapter, profile)
    smoke = {k: v for k, v in load_profile(chapter, "smoke").items() if k != "profile"}
    if values == smoke:
        pytest.skip(f"{profile} differs from smoke only in sizes: the smoke book runs this code path")
    env = {"NESY_BOOK_DIR": str(tmp_path), preflight.RANDOM_WEIGHTS_ENV: "1"}
    with mock.patch.dict(os.environ, env):
        run = runner.run_chapter(chapter, profile, values)
    results = json.loads((tmp_path / "results" / f"{chapter}.json").read_text())
    assert run.action == "execute" and results["profile"] == profile
    assert {k: results["parameters"][k] for k in values} == values


@pytest.mark.integration
def test_paper_profile_offline_fails_before_any_cell(tmp_path, monkeypatch):
    """Without the weights and without download.pytorch.org, `paper` stops at once, naming the
    parameter, the file, where it goes and the offline choice."""
    monkeypatch.setenv("NESY_BOOK_DIR", str(tmp_path))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv(preflight.RANDOM_WEIGHTS_ENV, raising=False)
    monkeypatch.setattr(preflight, "_reachable", lambda host, timeout_s=3.0: False)
    needing = [c for c in runner.chapters() if preflight.needs(c, load_profile(c, "paper"))]
    assert set(needing) == {"vi_satnet", "smug", "patch_rules"}
    for chapter in needing:
        with pytest.raises(preflight.MissingResource) as caught:
            runner.run_chapter(chapter, "paper")
        message = str(caught.value)
        assert "nothing was executed" in message and "download.pytorch.org" in message
        assert str(tmp_path / "torch" / "hub" / "checkpoints") in message and "(the default profile's stand-in)" in message
        assert not (tmp_path / f"{chapter}.ipynb").exists() and not list(tmp_path.glob(".stage-*"))
    with pytest.raises(preflight.MissingResource, match=r"backbone=vgg19 needs torchvision's VGG19_Weights \(vgg19-"):
        runner.run_chapter("vi_satnet", "paper")


def test_weights_in_the_hub_folder_or_a_reachable_host_pass(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(preflight, "_reachable", lambda host, timeout_s=3.0: False)
    parameters = load_profile("smug", "paper")
    with pytest.raises(preflight.MissingResource, match="model=googlenet"):
        preflight.check("smug", parameters)
    file, _ = preflight._torchvision_weights("GoogLeNet_Weights")
    file.parent.mkdir(parents=True)
    file.write_bytes(b"")
    preflight.check("smug", parameters)
    file.unlink()
    monkeypatch.setattr(preflight, "_reachable", lambda host, timeout_s=3.0: True)
    preflight.check("smug", parameters)
    preflight.check("smug", load_profile("smug", "default"))  # the stand-in needs nothing


def test_random_weights_cannot_write_the_repository_book(monkeypatch):
    from nesy import paths

    monkeypatch.delenv("NESY_BOOK_DIR", raising=False)
    monkeypatch.setenv(preflight.RANDOM_WEIGHTS_ENV, "1")
    with pytest.raises(preflight.MissingResource, match="cannot write the repository's book"):
        preflight.check("ltn_crash", load_profile("ltn_crash", "smoke"))
    assert paths.book_dir() == paths.REPO / "book"


def test_schema_needs_must_name_choices(tmp_path, monkeypatch):
    from nesy import params

    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "schema.yaml").write_text("m: {type: str, choices: [a, b], needs: {c: torchvision:VGG19_Weights}}\n")
    monkeypatch.setattr(params, "PARAMS", tmp_path)
    with pytest.raises(params.ParameterError, match="needs: must map some of its choices"):
        params.schema("x")
