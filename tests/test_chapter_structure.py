"""Chapters read as narrative, parameters and calls: no code cell longer than
MAX_CELL_LINES lines of code, no function longer than MAX_FUNCTION_LINES (the algorithms,
analyses and figures live in lib/nesy, where they are tested)."""
import ast
import re

import pytest

from nesy import paths

MAX_CELL_LINES = 15
MAX_FUNCTION_LINES = 6
CHAPTERS = sorted(p.stem for p in paths.CHAPTERS.glob("*.py"))


def code_cells(chapter: str) -> list[str]:
    """The chapter's code cells but its parameters cell: that one declares every knob, one
    assignment a line as papermill reads it, however many knobs the paper has."""
    text = (paths.CHAPTERS / f"{chapter}.py").read_text(encoding="utf-8")
    headers = re.findall(r"^# %%.*$", text, flags=re.M)
    bodies = re.split(r"^# %%.*$", text, flags=re.M)[1:]
    return [body for header, body in zip(headers, bodies) if "[markdown]" not in header and '"parameters"' not in header]


def code_lines(cell: str) -> int:
    return sum(1 for line in cell.splitlines() if line.strip() and not line.lstrip().startswith("#"))


def long_functions(cell: str) -> list[tuple[str, int]]:
    return [(node.name, node.end_lineno - node.lineno + 1) for node in ast.walk(ast.parse(cell))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_is_narrative_and_calls(chapter):
    cells = code_cells(chapter)
    long_cells = [(i, code_lines(c), c.strip().splitlines()[0]) for i, c in enumerate(cells) if code_lines(c) > MAX_CELL_LINES]
    functions = [f for c in cells for f in long_functions(c)]
    assert not long_cells, f"{chapter}: code cells over {MAX_CELL_LINES} lines (index, lines, first line): {long_cells}"
    assert not functions, f"{chapter}: functions over {MAX_FUNCTION_LINES} lines: {functions}"


def test_the_checks_see_long_cells_and_functions():
    cell = "def f(x):\n" + "    x += 1\n" * 6 + "    return x\n" + "y = 1\n" * 10
    assert code_lines(cell) == 18 and long_functions(cell) == [("f", 8)]
    assert code_lines("# a comment\n\nx = 1\n") == 1
