"""Every table a chapter styles with ``report.show`` reaches the page: Jupyter displays only a
cell's last expression, so a ``report.show(...)`` statement earlier in a cell must be wrapped in
``display(...)``."""
import ast
from pathlib import Path

import pytest

CHAPTERS = sorted(Path(__file__).resolve().parents[1].joinpath("chapters").glob("*.py"))


def _code_cells(source: str):
    for cell in source.split("\n# %%"):
        header, _, body = cell.partition("\n")
        if "[markdown]" not in header:
            yield body


def _is_report_show(node: ast.stmt) -> bool:
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Attribute) and node.value.func.attr == "show"
            and isinstance(node.value.func.value, ast.Name) and node.value.func.value.id == "report")


def _hidden_shows(body: str) -> list[int]:
    tree = ast.parse(body)
    hidden = []
    for parent in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            statements = getattr(parent, field, None)
            if not isinstance(statements, list):
                continue
            last_of_cell = parent is tree and field == "body"
            for i, node in enumerate(statements):
                if _is_report_show(node) and not (last_of_cell and i == len(statements) - 1):
                    hidden.append(node.lineno)
    return hidden


def test_the_checker_finds_a_hidden_table():
    assert _hidden_shows("report.show(a)\nx = 1\n") == [1]
    assert _hidden_shows("if x:\n    report.show(a)\n") == [2]
    assert _hidden_shows("x = 1\nreport.show(a)\n") == []
    assert _hidden_shows("display(report.show(a))\nx = 1\n") == []


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_every_styled_table_is_displayed(chapter):
    hidden = [(i, line) for i, body in enumerate(_code_cells(chapter.read_text())) for line in _hidden_shows(body)]
    assert not hidden, f"{chapter.name}: report.show(...) not displayed (code cell, line): {hidden}"
