"""The claim ledger: every check kind passes and fails on results made for it, references
resolve (or say what is missing), ledgers are validated, and the pages generated from the
verdicts (claims cell, claim roles, intro status) follow the results they are built from."""
import copy
import json

import nbformat
import pytest

from nesy import claims, paths
from nesy.book import build, pages, runner

RESULTS = {
    "parameters": {"n_images": 30, "gamma": 0.9},
    "numbers": {"win_smug": 40.0, "win_gradcam": 35.0, "win_ig": 2.0, "sparsity": 17.0, "flag_off": False, "missing": None},
    "tables": {
        "sweep": [
            {"k": 500, "gamma": 0.0, "blocks": 10},
            {"k": 1000, "gamma": 0.0, "blocks": 14},
            {"k": 3000, "gamma": 0.0, "blocks": 30},
            {"k": 500, "gamma": 0.9, "blocks": 50},
        ],
        "accuracy": [
            {"mask": 10, "with": 98.0, "without": 97.0},
            {"mask": 50, "with": 97.0, "without": 12.0},
            {"mask": 90, "with": 80.0, "without": 10.0},
        ],
    },
    "comparisons": [
        {"table": "imagenet", "variant": None, "rows": [{"key": "SMUG_win", "ours": 40.0}, {"key": "IG_win", "ours": None}]},
        {"table": "queries", "variant": "LTN model", "rows": [{"key": "q1", "ours": 0.02}]},
    ],
}


def claim(check, **extra):
    return {"id": "c", "claim": "a claim", "where": "Table 1", "paper": "40.9", "check": check, **extra}


def verdict(check, results=RESULTS, **extra):
    entry = claim(check, **extra)
    claims._validate_claim("test", entry, set())
    return claims.check_claim(entry, results)


def worse(results, **numbers):
    changed = copy.deepcopy(results)
    changed["numbers"].update(numbers)
    return changed


# Each check kind: (check, a change of the results that makes it fail).
CASES = {
    "within": ({"within": {"value": "numbers.win_smug", "target": 40.9, "tolerance": 2}}, {"win_smug": 30.0}),
    "bound": ({"bound": {"value": "numbers.sparsity", "at_most": 20}}, {"sparsity": 43.0}),
    "bound_strict": ({"bound": {"value": "numbers.sparsity", "above": 10, "below": 20}}, {"sparsity": 20.0}),
    "order": ({"order": {"values": ["numbers.win_smug", "numbers.win_gradcam", "numbers.win_ig"]}}, {"win_ig": 36.0}),
    "order_margin": ({"order": {"values": ["numbers.win_smug", "numbers.win_gradcam"], "margin": 4}}, {"win_gradcam": 37.0}),
    "best": ({"best": {"value": "numbers.win_smug", "among": ["numbers.win_gradcam", "numbers.win_ig"]}}, {"win_gradcam": 41.0}),
    "best_lowest": ({"best": {"value": "numbers.win_ig", "among": ["numbers.win_smug"], "direction": "lowest"}}, {"win_ig": 50.0}),
    "trend_list": ({"trend": {"series": ["numbers.win_ig", "numbers.sparsity", "numbers.win_smug"]}}, {"sparsity": 50.0}),
    "every": ({"every": {"values": ["numbers.win_smug", "numbers.win_gradcam"], "at_least": 30}}, {"win_gradcam": 29.0}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_check_kind_holds_and_fails(name):
    check, change = CASES[name]
    assert verdict(check).verdict == claims.HOLDS
    failed = verdict(check, worse(RESULTS, **change), why="only {parameters[n_images]} images")
    assert failed.verdict == claims.FAILS and failed.why == "only 30 images"


def test_trend_over_a_table_series_and_its_tolerance():
    series = {"table": "sweep", "column": "blocks", "rows": {"gamma": 0.0}}
    assert verdict({"trend": {"series": series}}).ours == "10.00 → 14.00 → 30.00"
    assert verdict({"trend": {"series": series, "direction": "decreasing"}}).verdict == claims.FAILS
    dipping = copy.deepcopy(RESULTS)
    dipping["tables"]["sweep"][1]["blocks"] = 9
    assert verdict({"trend": {"series": series}}, dipping).verdict == claims.FAILS
    assert verdict({"trend": {"series": series, "tolerance": 1.5}}, dipping).verdict == claims.HOLDS
    flat = copy.deepcopy(RESULTS)
    for row in flat["tables"]["sweep"]:
        row["blocks"] = 5
    assert verdict({"trend": {"series": series}}, flat).verdict == claims.FAILS  # no change is no trend


def test_every_and_dominates_over_table_columns():
    with_ = {"table": "accuracy", "column": "with"}
    without = {"table": "accuracy", "column": "without"}
    labels = ["10 %", "50 %", "90 %"]
    assert verdict({"every": {"values": with_, "at_least": 80, "labels": labels}}).verdict == claims.HOLDS
    failed = verdict({"every": {"values": with_, "above": 80, "labels": labels}})
    assert failed.verdict == claims.FAILS and "90 %: 80.00" in failed.ours
    assert verdict({"dominates": {"values": with_, "over": without}}).verdict == claims.HOLDS
    failed = verdict({"dominates": {"values": with_, "over": without, "margin": 5, "labels": labels}})
    assert failed.verdict == claims.FAILS and "10 %" in failed.ours


def test_references_to_tables_comparisons_and_parameters():
    cell = {"table": "accuracy", "column": "without", "row": {"mask": 50}}
    assert claims.resolve(RESULTS, cell) == 12.0
    assert claims.resolve(RESULTS, "compared.imagenet.SMUG_win") == 40.0
    assert claims.resolve(RESULTS, "compared.queries(LTN model).q1") == 0.02
    assert claims.resolve(RESULTS, "parameters.gamma") == 0.9
    assert claims.resolve(RESULTS, {"table": "sweep", "column": "k", "rows": {"gamma": 0.9}}) == [500]


@pytest.mark.parametrize(
    "ref, said",
    [
        ("numbers.nowhere", "no numbers.nowhere"),
        ("numbers.missing", "numbers.missing is empty"),
        ("compared.imagenet.IG_win", "compared.imagenet.IG_win is empty"),
        ({"table": "accuracy", "column": "neither"}, "no column 'neither'"),
        ("compared.queries(MSE).q1", "no comparison row"),
        ({"table": "accuracy", "column": "with", "row": {"mask": 20}}, "0 rows"),
        ({"table": "nowhere", "column": "x"}, "no table 'nowhere'"),
    ],
)
def test_a_value_the_run_lacks_is_not_measured_and_named(ref, said):
    found = verdict({"bound": {"value": ref, "at_least": 0}})
    assert found.verdict == claims.UNMEASURED and said in found.why and found.ours == "–"


def test_unmeasured_and_requires_give_the_reason():
    assert verdict({"unmeasured": "needs the BeerAdvocate data"}).why == "needs the BeerAdvocate data"
    gated = verdict({"bound": {"value": "numbers.win_smug", "at_least": 0}},
                    requires={"value": "numbers.flag_off", "reason": "no reviews here"})
    assert gated.verdict == claims.UNMEASURED and gated.why == "no reviews here"


@pytest.mark.parametrize(
    "entry, said",
    [
        (claim({"nearly": {}}), "check kind must be one of"),
        (claim({"within": {"value": "numbers.a", "target": 1}}), "missing ['tolerance']"),
        (claim({"bound": {"value": "numbers.a", "at_least": 1, "soon": 2}}), "unknown ['soon']"),
        (claim({"within": {"value": "numbers.a", "target": 1, "tolerance": 1}}, colour="red"), "unknown fields"),
        ({"id": "c", "claim": "x", "where": "y", "check": {"unmeasured": "z"}}, "'paper' is required"),
        (claim({"unmeasured": ""}), "unmeasured takes the reason"),
        (claim({"bound": {"value": "numbers.a", "at_least": 1, "format": "d"}}), "format must be a format spec"),
        (claim({"bound": {"value": "numbers.a", "at_least": 1}}, requires={"value": "numbers.a"}), "requires takes"),
    ],
)
def test_malformed_claims_are_rejected_with_the_field_named(entry, said):
    with pytest.raises(claims.LedgerError, match="claim 'c'") as error:
        claims._validate_claim("test", entry, set())
    assert said in str(error.value)


def test_a_bad_reference_or_bound_is_a_ledger_error_not_a_verdict():
    with pytest.raises(claims.LedgerError, match="must start with"):
        verdict({"bound": {"value": "results.win", "at_least": 1}})
    with pytest.raises(claims.LedgerError, match="needs at_least"):
        verdict({"bound": {"value": "numbers.win_smug"}})


def test_ids_are_unique():
    seen = set()
    claims._validate_claim("test", claim({"unmeasured": "x"}), seen)
    with pytest.raises(claims.LedgerError, match="used twice"):
        claims._validate_claim("test", claim({"unmeasured": "x"}), seen)


@pytest.mark.parametrize("chapter", runner.chapters())
def test_every_chapter_has_a_valid_ledger_with_its_paper_citation(chapter):
    ledger = claims.ledger(chapter)
    assert ledger, f"{chapter} has no claims"
    paper = claims.paper_values(chapter)["paper"]
    assert {"title", "short", "cite"} <= set(paper)
    bib = "\n".join(path.read_text() for path in paths.REFERENCES.glob("*.bib"))
    assert "{" + paper["cite"] + "," in bib


def test_markdown_table_and_status():
    found = [
        claims.Verdict("a", "x | y", "T1", "1", "2", claims.HOLDS, ""),
        claims.Verdict("b", "z", "T2", "1", "5", claims.FAILS, "smaller scale"),
        claims.Verdict("c", "w", "T3", "1", "–", claims.UNMEASURED, "no data"),
    ]
    table = claims.markdown_table(found)
    assert "x \\| y *(T1)*" in table and "| **fails** |" in table and "smaller scale" in table
    assert claims.status(found) == "1 of 3 claims hold; 1 fail; 1 not measured here"
    assert claims.status(None) == "not run in this build"


# --- pages generated from the verdicts ---------------------------------------------------


def _as_good_as_the_paper(results: dict, offset: float) -> dict:
    """A copy of ``results`` with every compared value set to the paper's plus ``offset``."""
    changed = copy.deepcopy(results)
    for comparison in changed["comparisons"]:
        for row in comparison["rows"]:
            row["ours"] = row["paper"] + offset
    return changed


def test_claim_roles_are_filled_and_refilled_from_their_source(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("Win rate: {claim}`c`."), nbformat.v4.new_code_cell("1")]
    path = tmp_path / "x.ipynb"
    nbformat.write(notebook, path)
    holding = [claims.Verdict("c", "x", "T1", "1", "40.00", claims.HOLDS, "")]
    pages.render_notebook(path, "x", holding)
    first = nbformat.read(path, as_version=4)
    assert first.cells[0].source == "Win rate: **holds** (ours: 40.00)."
    assert "nesy-claims" in first.cells[-1].metadata["tags"] and "1 of 1 hold" in first.cells[-1].source
    failing = [claims.Verdict("c", "x", "T1", "1", "3.00", claims.FAILS, "small")]
    pages.render_notebook(path, "x", failing)
    second = nbformat.read(path, as_version=4)
    assert second.cells[0].source == "Win rate: **does not hold** (ours: 3.00)."
    assert len(second.cells) == 3 and "0 of 1 hold" in second.cells[-1].source  # replaced, not appended
    with pytest.raises(KeyError, match="nowhere"):
        pages.fill_roles("{claim}`nowhere`", {}, "x")


def test_closing_cell_says_how_to_rerun_from_the_results(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("1")]
    path = tmp_path / "smug.ipynb"
    nbformat.write(notebook, path)
    verdicts = [claims.Verdict("c", "x", "T1", "1", "40.00", claims.HOLDS, "")]
    pages.render_notebook(path, "smug", verdicts, {"profile": "smoke", "wall_time_s": {"total": 93.0}})
    closing = nbformat.read(path, as_version=4).cells[-1].source
    assert "make chapter C=smug PROFILE=smoke" in closing and "**1.6 min**" in closing
    assert "`default`" in closing and "`paper`" in closing
    pages.render_notebook(path, "smug", verdicts, {"profile": "default", "wall_time_s": {"total": 600.0}})
    closing = nbformat.read(path, as_version=4).cells[-1].source
    assert "PROFILE=default" in closing and "**10.0 min**" in closing and "smoke" not in closing.split("Profiles")[0]


@pytest.mark.slow
def test_pages_follow_the_results_they_are_built_from(smoke_book, tmp_path, monkeypatch):
    """A book assembled from a results file with other numbers keeps no stale judgement: the
    claims cell, the intro's status and the scoreboard's counts all change with the numbers."""
    book = tmp_path / "book"
    (book / "results").mkdir(parents=True)
    monkeypatch.setattr(build, "toc_pages", lambda: ["intro", "ltn_crash"])
    monkeypatch.setattr(runner, "chapters", lambda: ["ltn_crash"])
    monkeypatch.setattr(build.assets, "vendor", lambda book: book / "vendor")
    original = json.loads((smoke_book / "results" / "ltn_crash.json").read_text())
    nbformat.write(nbformat.read(smoke_book / "ltn_crash.ipynb", as_version=4), book / "ltn_crash.ipynb")

    shown = {}
    for name, offset in (("paper-like", 0.0), ("far off", -1000.0)):
        results = _as_good_as_the_paper(original, offset)
        (book / "results" / "ltn_crash.json").write_text(json.dumps(results))
        build.assemble(book)
        expected = claims.evaluate("ltn_crash", results)
        cell = nbformat.read(book / "ltn_crash.ipynb", as_version=4).cells[-1]
        intro = (book / "intro.md").read_text()
        assert claims.status(expected) in intro and pages.STATUS_MARKER not in intro
        assert claims.markdown_table(expected) in cell.source
        n = claims.counts(expected)
        assert f"| {len(expected)} | {n[claims.HOLDS]} | {n[claims.FAILS]} |" in (book / "scoreboard.md").read_text()
        shown[name] = (n, cell.source, intro)
    assert shown["paper-like"][0] != shown["far off"][0], "the ledger's checks must depend on the numbers"
    assert shown["paper-like"][1] != shown["far off"][1] and shown["paper-like"][2] != shown["far off"][2]
    assert shown["far off"][0][claims.HOLDS] < shown["paper-like"][0][claims.HOLDS]


@pytest.mark.slow
@pytest.mark.parametrize("chapter", runner.chapters())
def test_every_reference_of_a_ledger_resolves_in_the_smoke_run(smoke_book, chapter):
    """A claim is never "not measured" because its reference has a typo or names something the
    chapter does not record (a smoke run may leave a value empty: that is not structural)."""
    results = json.loads((smoke_book / "results" / f"{chapter}.json").read_text())
    for entry in claims.ledger(chapter):
        found = claims.check_claim(entry, results)
        (kind, _), = entry["check"].items()
        structural = ("recorded no", "no table", "no comparison row", "rows of table", "no row of table")
        if found.verdict == claims.UNMEASURED and kind != "unmeasured" and any(s in found.why for s in structural):
            pytest.fail(f"{chapter}: claim {entry['id']!r} is not measured in the smoke run: {found.why}")


@pytest.mark.slow
def test_built_pages_show_the_claims(smoke_book):
    html = smoke_book / "_build" / "html"
    intro = (html / "intro.html").read_text()
    for chapter in runner.chapters():
        page = (html / f"{chapter}.html").read_text()
        assert 'id="claims"' in page and "verdict" in page
        assert claims.status(claims.evaluate_file(chapter, smoke_book)) in intro
    assert (html / "bibliography.html").exists()


def test_a_why_text_names_a_value_an_older_run_did_not_record():
    found = verdict({"bound": {"value": "numbers.sparsity", "at_most": 5}},
                    why="{numbers[sparsity]:.0f} % at gamma {parameters[gamma]}, {numbers[newer]:.1f} blocks")
    assert found.why == "17 % at gamma 0.9, [numbers.newer: not recorded by this run] blocks"
    with pytest.raises(claims.LedgerError, match="not a valid format string"):
        verdict({"bound": {"value": "numbers.sparsity", "at_most": 5}}, why="{numbers[sparsity]:.q}")
