"""Parts of the pages that are generated at build time from the results files.

- Each executed chapter notebook gets (or has replaced) a last cell, tagged
  ``nesy-claims``, holding its claims table: every headline claim of the paper with the
  verdict that :mod:`nesy.claims` computes from ``results/<chapter>.json``.
- Inline ``{claim}`ID``` in a chapter's Markdown cells becomes that claim's verdict and
  our value (the cell's original text is kept in its metadata, so rebuilding with other
  results re-renders it).
- The intro's chapter table (the line ``<!-- nesy:chapter-status -->`` in
  ``chapters/intro.md``) lists the chapters of this build with their claim counts.

So no verdict is typed into prose: rebuilding after a rerun changes every one of them.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Mapping, Sequence

import nbformat

from nesy import claims
from nesy.data.atomic import atomic_write
from nesy.report import paper_values

CLAIMS_TAG = "nesy-claims"
SOURCE_KEY = "nesy_source"  # cell metadata: a Markdown cell's text before {claim} roles were filled in
STATUS_MARKER = "<!-- nesy:chapter-status -->"
CLAIM_ROLE = re.compile(r"\{claim\}`([^`]+)`")
VERDICT_WORDS = {claims.HOLDS: "holds", claims.FAILS: "does not hold", claims.UNMEASURED: "is not measured here"}


def claims_markdown(chapter: str, verdicts: Sequence[claims.Verdict]) -> str:
    """The chapter's closing "Claims" section."""
    n = claims.counts(verdicts)
    return "\n".join([
        "## Claims",
        "",
        f"Each headline claim of the paper, checked against this run's results "
        f"(`results/{chapter}.json`) by the claim ledger in `lib/nesy/paper_values/{chapter}.yaml`; "
        f"the verdicts are computed when the book is built, never typed. "
        f"In this run **{n[claims.HOLDS]} of {len(verdicts)} hold**, {n[claims.FAILS]} fail and "
        f"{n[claims.UNMEASURED]} are not measured here.",
        "",
        claims.markdown_table(verdicts),
        "",
    ])


def rerun_markdown(chapter: str, results: Mapping) -> str:
    """How to re-run the chapter, with the profile and wall time of the run this page shows."""
    from nesy.params import profiles

    profile = results.get("profile", "default")
    minutes = float(results.get("wall_time_s", {}).get("total", float("nan"))) / 60
    others = ", ".join(f"`{p}`" for p in profiles(chapter))
    return "\n".join([
        "## Re-running this chapter",
        "",
        f"This page shows a run at the `{profile}` profile, which took **{minutes:.1f} min** "
        f"(the results file records the machine's package versions). To run it again and rebuild the page:",
        "",
        "```bash",
        f"make chapter C={chapter} PROFILE={profile}",
        "```",
        "",
        f"Profiles of this chapter: {others} (`chapters/params/{chapter}/`); `--set name=value` "
        f"overrides one parameter (`python -m nesy.book run {chapter} --profile {profile} --set ...`).",
        "",
    ])


def _inline(verdict: claims.Verdict) -> str:
    text = f"**{VERDICT_WORDS[verdict.verdict]}**"
    return text + (f" (ours: {verdict.ours})" if verdict.verdict != claims.UNMEASURED else f" ({verdict.why})")


def fill_roles(source: str, verdicts: Mapping[str, claims.Verdict], chapter: str) -> str:
    """``source`` with every ``{claim}`ID``` replaced by that claim's verdict."""
    def one(match: re.Match) -> str:
        claim_id = match.group(1).strip()
        if claim_id not in verdicts:
            raise KeyError(f"chapter {chapter!r} cites {{claim}}`{claim_id}`, which its ledger does not have; ids: {sorted(verdicts)}")
        return _inline(verdicts[claim_id])

    return CLAIM_ROLE.sub(one, source)


def render_notebook(path: Path, chapter: str, verdicts: Sequence[claims.Verdict], results: Mapping | None = None) -> None:
    """Write the claims cell (with, given the run's ``results``, how to re-run the chapter) and
    fill the claim roles of the executed notebook at ``path``."""
    notebook = nbformat.read(path, as_version=4)
    by_id = {v.id: v for v in verdicts}
    cells = [cell for cell in notebook.cells if CLAIMS_TAG not in cell.metadata.get("tags", [])]
    for cell in cells:
        if cell.cell_type != "markdown":
            continue
        original = cell.metadata.get(SOURCE_KEY, cell.source)
        if CLAIM_ROLE.search(original):
            cell.metadata[SOURCE_KEY] = original
            cell.source = fill_roles(original, by_id, chapter)
    closing = claims_markdown(chapter, verdicts) + ("\n" + rerun_markdown(chapter, results) if results else "")
    table = nbformat.v4.new_markdown_cell(closing, id=CLAIMS_TAG)  # a fixed id: same results, same bytes
    table.metadata["tags"] = [CLAIMS_TAG]
    notebook.cells = cells + [table]
    atomic_write(path, nbformat.writes(notebook).encode())


def status_table(chapters: Sequence[str], verdicts: Mapping[str, Sequence[claims.Verdict] | None]) -> str:
    """The intro's table: chapter, paper, claims verdict counts, stand-ins of this book."""
    lines = ["| chapter | paper | claims (this build) | stand-ins here |", "|---|---|---|---|"]
    for chapter in chapters:
        paper = paper_values(chapter)["paper"]
        found = verdicts.get(chapter)
        name = f"[{paper['short']}]({chapter}.ipynb)" if found is not None else paper["short"]
        cite = f" {{cite:p}}`{paper['cite']}`" if paper.get("cite") else ""
        lines.append(f"| {name} | *{paper['title']}*{cite} | {claims.status(found)} | {paper.get('stand_ins', '–')} |")
    return "\n".join(lines)


def partial_note(chapters: Sequence[str], all_chapters: Sequence[str]) -> str:
    """A sentence saying which chapters a partial build holds ("" when it holds them all)."""
    left_out = [c for c in all_chapters if c not in chapters]
    if not left_out:
        return ""
    return (f"This build holds {len(chapters)} of the {len(all_chapters)} chapters "
            f"({', '.join(f'`{c}`' for c in chapters)}); left out: {', '.join(f'`{c}`' for c in left_out)}. "
            f"`make book` builds them all.")


def render_intro(path: Path, chapters: Sequence[str], verdicts: Mapping[str, Sequence[claims.Verdict] | None],
                 all_chapters: Sequence[str] | None = None) -> None:
    """Replace the status marker in the copied intro page with the generated table of the
    ``chapters`` built (and, for a partial build, the sentence saying which are left out)."""
    text = path.read_text()
    if STATUS_MARKER not in text:
        raise ValueError(f"{path.name} has no {STATUS_MARKER} line for the generated chapter table")
    note = partial_note(chapters, all_chapters or chapters)
    table = status_table(chapters, verdicts) + (f"\n\n{note}" if note else "")
    atomic_write(path, text.replace(STATUS_MARKER, table).encode())
