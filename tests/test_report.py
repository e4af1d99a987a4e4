"""Results files: comparisons with the paper, JSON that is reproducible, the scoreboard."""
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from nesy import paths, report
from nesy.book import scoreboard


@pytest.fixture()
def book(tmp_path, monkeypatch):
    monkeypatch.setenv("NESY_BOOK_DIR", str(tmp_path))
    return tmp_path


def test_compare_marks_rows_outside_tolerance(book):
    results = report.ChapterResults("ltn_crash", {"profile": "smoke", "seed": 0})
    ours = {row["key"]: row["paper"] for row in report.paper_values("ltn_crash")["tables"]["validation_accuracy"]["rows"]}
    ours["Crash_accuracy"] -= 3.0
    ours["sce_accuracy"] += 0.5  # within the 1.0 tolerance
    frame = results.compare("validation_accuracy", ours, "smaller scale", variant="MSE")
    crash = frame[frame.quantity.str.startswith("Crash")].iloc[0]
    assert crash.difference == pytest.approx(-3.0) and crash.note == "smaller scale"
    small_car = frame[frame.quantity.str.startswith("Small car detection")].iloc[0]
    assert small_car.note == "within 1"
    assert results.comparisons[0]["title"].endswith("(MSE)")


def test_compare_requires_every_paper_row(book):
    results = report.ChapterResults("ltn_crash", {})
    with pytest.raises(KeyError, match="q2"):
        results.compare("queries", {"q1": 0.0}, "reason")


def test_save_writes_plain_json_with_nan_as_null(book):
    results = report.ChapterResults("ltn_crash", {"profile": "smoke", "seed": 7})
    with results.stage("work"):
        results.number("nan_number", float("nan"))
    results.table("rows", [{"a": 1, "b": float("inf")}])
    figure = plt.figure()
    results.figure(figure, "empty", "an empty figure")
    path = results.save()
    data = json.loads(path.read_text())
    assert data["seed"] == 7 and data["profile"] == "smoke"
    assert data["numbers"]["nan_number"] is None and data["tables"]["rows"] == [{"a": 1, "b": None}]
    assert set(data["wall_time_s"]) == {"work", "total"}
    assert "torch" in data["versions"] and (book / "figures/ltn_crash/empty.png").exists()
    assert not list(path.parent.glob(".*.part"))  # no temporary files left behind


def test_scoreboard_lists_every_comparison(book):
    results = report.ChapterResults("ltn_crash", {"profile": "smoke", "seed": 0})
    results.compare("queries", {"q1": 0.02, "q2": 0.5, "q3_crossing": 0.55, "q4_crossing": None}, "scale")
    results.save()
    page = scoreboard.write(book).read_text()
    assert "Convolutional Logic Tensor Networks" in page
    assert "| Q2: forall Im, sco or bco or to => Crash | 0.26 | 0.50 | 0.24 | scale |" in page
    assert "| Q1: forall Im, not oe => Crash | 0.01 | 0.02 | 0.01 | within 0.05 |" in page
    assert "| – | – |" in page  # the missing Q4 crossing is shown as a dash, not a number


def test_scoreboard_shows_a_bound_as_the_chapters_tables_do(book):
    """A paper row that is a bound reads "≥ 97" on the scoreboard, as report.paper_text writes it."""
    results = report.ChapterResults("patch_rules", {"profile": "smoke", "seed": 0})
    ours = {key: 95.0 for key in ("mnist_train", "cifar10_train", "fer2013_train")}
    ours |= {key: 93.0 for key in ("mnist_test", "cifar10_test", "fer2013_test")}
    results.compare("second_model", ours, "scale")
    results.save()
    page = scoreboard.write(book).read_text()
    assert "| MNIST train (paper: above 97) | ≥ 97 | 95.00 |" in page
    assert "| CIFAR-10 test (paper: above 92) | ≥ 92 | 93.00 |" in page


def test_scoreboard_ignores_stray_files_and_names_a_corrupt_one(book):
    from nesy import claims

    results = report.ChapterResults("ltn_crash", {"profile": "smoke", "seed": 0})
    results.compare("queries", {"q1": 0.02, "q2": 0.5, "q3_crossing": 0.55, "q4_crossing": None}, "scale")
    path = results.save()
    (book / "results" / "ltn_crash.backup.json").write_text(path.read_text())  # a stray copy
    (book / "results" / "notes.json").write_text("[]")
    assert scoreboard.write(book).read_text().count("## Convolutional Logic Tensor Networks") == 1
    path.write_text(path.read_text()[:-40])  # truncated
    with pytest.raises(claims.ResultsError, match=r"results/ltn_crash.json in the book is not valid JSON.*make chapter C=ltn_crash"):
        scoreboard.write(book)
    path.write_text(json.dumps({"chapter": "smug"}))
    with pytest.raises(claims.ResultsError, match="not the results of chapter 'ltn_crash'"):
        scoreboard.write(book)


def test_save_prints_no_machine_path(book, capsys):
    report.ChapterResults("ltn_crash", {"profile": "smoke", "seed": 0}).save()
    out = capsys.readouterr().out
    assert "results: book/results/ltn_crash.json" in out and str(book) not in out


def test_compare_takes_a_reason_per_row_and_requires_one_for_each_differing_row(book):
    results = report.ChapterResults("ltn_crash", {"profile": "smoke", "seed": 0})
    ours = {"q1": 0.5, "q2": 0.9, "q3_crossing": 0.6, "q4_crossing": None}
    frame = results.compare("queries", ours, {"q1": "generated world", "*": "fewer epochs"})
    notes = {row["key"]: row["note"] for row in results.comparisons[0]["rows"]}
    assert list(frame.note) == list(notes.values())
    assert notes["q1"] == "generated world" and notes["q2"] == "fewer epochs"
    assert notes["q4_crossing"] == "not measured in this run"
    with pytest.raises(KeyError, match="no reason is given"):
        results.compare("queries", ours, {"q1": "generated world"})


def test_bound_rows_are_compared_as_bounds(book, monkeypatch):
    table = {"title": "T", "where": "Sect. 4", "tolerance": 0.5, "rows": [
        {"key": "train", "label": "train (paper: above 97)", "paper": 97.0, "bound": "at_least"},
        {"key": "error", "label": "error (paper: at most 5)", "paper": 5.0, "bound": "at_most"},
        {"key": "point", "label": "a point value", "paper": 10.0},
    ]}
    monkeypatch.setattr(report, "paper_values", lambda chapter: {"tables": {"t": table}})
    results = report.ChapterResults("x", {})
    frame = results.compare("t", {"train": 99.0, "error": 7.0, "point": 12.0}, "smaller scale")
    rows = {row["key"]: row for row in results.comparisons[0]["rows"]}
    assert rows["train"]["agrees"] and rows["train"]["difference"] is None  # meeting a bound is no difference
    assert rows["train"]["note"] == "meets the bound (at least 97)"
    assert not rows["error"]["agrees"] and rows["error"]["difference"] == pytest.approx(2.0)
    assert not rows["point"]["agrees"] and rows["point"]["note"] == "smaller scale"
    assert list(frame.paper) == ["≥ 97", "≤ 5", 10.0]
    table["rows"][0]["bound"] = "roughly"
    with pytest.raises(ValueError, match="bound must be at_least or at_most"):
        results.compare("t", {"train": 99.0, "error": 7.0, "point": 12.0}, "x")


def test_compare_variants_records_each_and_shows_them_side_by_side(book):
    results = report.ChapterResults("ltn_crash", {"profile": "smoke", "seed": 0})
    mse = {"q1": 0.5, "q2": 0.9, "q3_crossing": 0.6, "q4_crossing": 0.4}
    ltn = {**mse, "q1": 0.2}
    frame = results.compare_variants("queries", {"MSE": (mse, "a"), "LTN": (ltn, "b")}, also={"labels": mse})
    assert [c["variant"] for c in results.comparisons] == ["MSE", "LTN"]
    assert list(frame.columns) == ["quantity", "paper", "ours, MSE", "ours, LTN", "labels", "difference", "note"]
    assert list(frame["ours, LTN"]) == [0.2, 0.9, 0.6, 0.4] and list(frame["labels"]) == list(mse.values())
    assert list(frame.note) == [row["note"] for row in results.comparisons[0]["rows"]]


SPREAD_TABLE = {"title": "T", "where": "Table 9", "tolerance": 0.5, "spread_kind": "std", "rows": [
    {"key": "train", "label": "train (paper: above 97)", "paper": 97.0, "bound": "at_least"},
    {"key": "point", "label": "a point value", "paper": 10.0, "spread": 0.004},
    {"key": "plain", "label": "a value without spread", "paper": 5.0},
    {"key": "gone", "label": "not measured", "paper": 1.0, "spread": 0.1},
]}
OURS = {"train": 99.0, "point": 12.0, "plain": 5.2, "gone": float("nan")}


@pytest.fixture()
def spread_table(book, monkeypatch):
    table = {**SPREAD_TABLE, "rows": [dict(r) for r in SPREAD_TABLE["rows"]]}
    monkeypatch.setattr(report, "paper_values", lambda chapter: {"tables": {"t": table, "queries": table}})
    return table


def _recorded(results):
    """The results JSON but its wall times and versions."""
    return {k: v for k, v in results.as_dict().items() if k not in ("wall_time_s", "versions")}


def test_plus_minus_formats_a_value_with_its_spread():
    assert report.plus_minus(98.484, 0.0149) == "98.48 ± 0.01"
    assert report.plus_minus(40.94, 1.684, digits=1, spread_digits=2) == "40.9 ± 1.68"
    assert report.plus_minus(np.float32(2.5), np.float64(0.25), 1) == "2.5 ± 0.2"  # numpy scalars, round half to even
    assert report.plus_minus(3.0, None, 0) == "3" and report.plus_minus(None, 1.0) == report.MISSING == "–"
    assert report.plus_minus_column([1.0, float("nan"), 2.0], [0.5, 0.5, float("nan")]) == ["1.00 ± 0.50", "–", "2.00"]
    with pytest.raises(ValueError, match=r"digits must be an integer >= 0, got -1"):
        report.plus_minus(1.0, 0.1, digits=-1)
    with pytest.raises(ValueError, match=r"spread must be a number >= 0 \(or None or NaN for no spread\), got 'wide'"):
        report.plus_minus(1.0, "wide")
    with pytest.raises(ValueError, match=r"spreads must have one value per mean \(2\), got 1"):
        report.plus_minus_column([1.0, 2.0], [0.1])


def test_paper_text_keeps_the_papers_decimals_of_a_spread():
    assert report.paper_text({"paper": 9.83, "spread": 0.001}) == "9.83 ± 0.001"
    assert report.paper_text({"paper": 94.23, "spread": 0.1}) == "94.23 ± 0.10"
    assert report.paper_text({"paper": 17.7, "spread": 1e-05}, 1) == "17.7 ± 0.00001"
    assert report.paper_text({"paper": 97.0, "bound": "at_least", "spread": 1.0}) == "≥ 97"
    assert report.paper_text({"paper": 5.0}) == 5.0 and report.paper_text({"paper": 5.0, "spread": None}) == 5.0


def test_compare_shows_spreads_and_records_only_the_numbers(spread_table):
    plain = report.ChapterResults("x", {"seed": 0})
    shown = report.ChapterResults("x", {"seed": 0})
    before = plain.compare("t", OURS, "smaller scale")
    frame = shown.compare("t", OURS, "smaller scale", spread={"train": 0.5, "point": 0.25, "gone": 0.1, "other": 1.0},
                          spread_kind="95% CI")
    assert _recorded(plain) == _recorded(shown)  # the spread is display only
    assert list(frame.columns) == ["quantity", "paper (± std)", "ours (± 95% CI)", "difference", "note"]
    assert list(frame["paper (± std)"]) == ["≥ 97", "10.00 ± 0.004", 5.0, "1.00 ± 0.10"]
    assert list(frame["ours (± 95% CI)"]) == ["99.00 ± 0.50", "12.00 ± 0.25", 5.2, "–"]  # plain: no spread given
    assert list(frame.note) == list(before.note) and frame.difference.equals(before.difference)
    assert list(before.columns) == ["quantity", "paper (± std)", "ours", "difference", "note"]
    assert list(before["ours"])[:3] == [99.0, 12.0, 5.2]


def test_compare_without_any_spread_keeps_its_plain_columns(spread_table):
    for row in spread_table["rows"]:
        row.pop("spread", None)
    frame = report.ChapterResults("x", {}).compare("t", OURS, "smaller scale", spread={})
    assert list(frame.columns) == ["quantity", "paper", "ours", "difference", "note"]
    assert list(frame.paper) == ["≥ 97", 10.0, 5.0, 1.0]


def test_spreads_need_their_kind_and_bad_ones_are_refused(spread_table):
    del spread_table["spread_kind"]
    results = report.ChapterResults("x", {})
    with pytest.raises(ValueError, match="paper table 't' has rows with a spread but no spread_kind"):
        results.compare("t", OURS, "smaller scale")
    spread_table["spread_kind"] = "std"
    with pytest.raises(ValueError, match="spread_kind must be a non-empty text saying what our ± is .*, got ''"):
        results.compare("t", OURS, "smaller scale", spread={"point": 0.1}, spread_kind="")
    with pytest.raises(ValueError, match="spread must be a number >= 0"):
        results.compare("t", OURS, "smaller scale", spread={"point": -0.1})
    assert results.comparisons == []  # a refused comparison is not recorded


def test_compare_variants_shows_each_variants_spread(spread_table):
    plain, shown = report.ChapterResults("x", {}), report.ChapterResults("x", {})
    variants = {"MSE": (OURS, "a"), "LTN": ({**OURS, "point": 11.0}, "b")}
    plain.compare_variants("t", variants)
    frame = shown.compare_variants("t", variants, spreads={"LTN": {"point": 0.5}}, spread_kind="std")
    assert _recorded(plain) == _recorded(shown)
    assert list(frame.columns) == ["quantity", "paper (± std)", "ours, MSE", "ours, LTN (± std)", "difference", "note"]
    assert list(frame["ours, LTN (± std)"])[:3] == [99.0, "11.00 ± 0.50", 5.2] and frame["ours, MSE"][1] == 12.0
    with pytest.raises(KeyError, match=r"spreads names variants that are not compared: \['GRU'\]"):
        shown.compare_variants("t", variants, spreads={"GRU": {"point": 0.5}})


def test_every_paper_table_with_a_spread_says_what_it_is():
    tables = {(p.stem, key): t for p in paths.PAPER_VALUES.glob("*.yaml") for key, t in report.paper_values(p.stem)["tables"].items()}
    with_spread = {name for name, t in tables.items() if any("spread" in r for r in t["rows"])}
    assert ("vi_satnet", "table1_with") in with_spread and ("smug", "imagenet") in with_spread
    assert all(isinstance(tables[n].get("spread_kind"), str) and tables[n]["spread_kind"] for n in with_spread)
    assert not [(n, r["key"]) for n, t in tables.items() for r in t["rows"] if {"paper_std", "ci"} & set(r)]  # one name
