"""The Conv-LTN article's questions and analyses (nesy.logic.article), the crash world's helpers
the chapter calls, and its figures (nesy.plots.ltn_crash)."""
import matplotlib
import numpy as np
import pytest
import torch

from nesy import params
from nesy.logic import article, crash_world
from nesy.logic import query as fol
from nesy.plots import ltn_crash as figures

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def world():
    return crash_world.generate(3000, seed=1)


def test_readings_of_the_questions():
    assert article.guarded("q4") == "forall Im where to(Im) and td(Im) < t: Crash(Im)"
    assert article.literal("q3").startswith("∀ Im (sco(e(Im))") and "∀ t" not in article.literal("q3")
    assert article.literal("q1", "∧") == "∀ Im ¬(oe(e(Im))) ∧ Crash()"
    for key in article.QUESTIONS:  # every reading parses over the chapter's symbols
        for form in (article.guarded, article.literal):
            fol.parse(form(key), article.SYMBOLS["predicates"], article.SYMBOLS["functions"])
    assert [row["question"] for row in article.questions_table()] == ["Q1", "Q2", "Q3", "Q4"]


def test_a_perfect_model_answers_as_the_world_was_drawn(world):
    truth = crash_world.truth_outputs(world)
    assert not any(torch.isnan(v).any() for v in truth.values())
    thresholds = np.linspace(0, 1, 101)
    answers, rows = article.answer({"labels": truth}, thresholds)
    assert answers["labels"]["q1"] == 0.0  # no obstruction, no crash
    assert len(rows) == 2 * len(thresholds)
    crossings = article.vehicle_crossings({"labels": truth}, thresholds)
    for row in crossings:  # all crash below the critical distance; the share then falls, crossing 0.5 by 2x
        assert row["critical distance"] < row["labels"] <= 2 * row["critical distance"] + 0.05
    assert answers["labels"]["q4_crossing"] == pytest.approx(crossings[2]["labels"])


def test_operator_readings_and_reasons(world):
    truth = crash_world.truth_outputs(world)
    rows = article.operator_readings(truth, {"q1": 0.0, "q3": 0.6})
    assert [r["reading"] for r in rows] == [label for label, _, _ in article.READINGS]
    assert rows[0]["Q1"] == 0.0 and 0.0 <= rows[3]["Q3"] <= 1.0  # a literal implication is true where oe holds
    reasons = article.accuracy_reasons("MSE objective", 4, 1200, patience=0)
    assert "4 epochs on 1200 training images (the article trains until" in reasons["*"]
    assert "until the loss plateaus" not in article.accuracy_reasons("x", 4, 1200, patience=2)["*"]
    perfect = {"q1": 0.0, "q2": 0.26, "q3_crossing": 0.6, "q4_crossing": 0.42}
    assert "the labels give 0.26" in article.query_reasons(perfect, 3)["q2"]
    queries = article.widget_queries()
    assert queries[2]["query"] == article.guarded("q3") and len({q["label"] for q in queries}) == len(queries)


def test_world_helpers(world):
    shares = crash_world.prevalence(world)
    assert list(shares) == [n for n in world.labels if n in crash_world.PREDICATES + ("Crash",)]
    assert all(0.0 < v < 1.0 for v in shares.values())
    crash = int(np.flatnonzero(world.labels["Crash"].numpy() == 1)[0])
    assert crash_world.describe(world, crash).startswith("CRASH: ")


def test_figures_draw(world):
    indices = figures.example_indices(world)
    assert [int(world.labels["Crash"][i]) for i in indices] == [1, 0, 0, 1]
    outputs = {"mse": crash_world.truth_outputs(world), "ltn": crash_world.truth_outputs(world)}
    rows = [{"source": "labels", "query": q, "t": t, "truth": 1 - t} for q in ("Q3", "Q4") for t in (0.0, 0.5, 1.0)]
    for figure in (figures.examples(world, indices), figures.distances(world, outputs),
                   figures.query_curves(rows, article.ARTICLE_CROSSINGS),
                   figures.training_curves([{"objective": "MSE", "epoch": e, "loss": 1 / e, "which": "x"} for e in (1, 2)])):
        assert figure.axes
        matplotlib.pyplot.close(figure)


def test_parameters_are_read_from_the_chapter_namespace():
    smoke = params.load_profile("ltn_crash", "smoke")
    values = {"unrelated": 1, "profile": "smoke", **{k: v for k, v in smoke.items() if k != "profile"}}
    checked = params.from_namespace("ltn_crash", values)
    assert list(checked) == list(values)[1:]  # the parameters only, in the namespace's order
    del values["seed"]
    with pytest.raises(params.ParameterError, match="'seed' is missing from the chapter's parameters cell"):
        params.from_namespace("ltn_crash", values)
