"""Command line of the book pipeline.

    python -m nesy.book run ltn_crash --profile paper [--set n_images=2000 ...] [--force]
    python -m nesy.book build [--chapters ltn_crash smug]
    python -m nesy.book all --profile default [--chapters ltn_crash smug] [--force]
    python -m nesy.book status --profile default     # what `all` would execute, and why

A chapter is executed only when something its run depends on changed (nesy.book.reuse);
--force executes it anyway.
"""
from __future__ import annotations

import argparse
import sys
import time

from nesy import claims, paths
from nesy.book import build, reuse, runner
from nesy.params import ParameterError, parse_value


def _overrides(pairs: list[str]) -> dict:
    values = {}
    for pair in pairs:
        if "=" not in pair:
            raise ParameterError(f"--set takes name=value, got {pair!r}")
        name, text = pair.split("=", 1)
        values[name] = parse_value(name, text)
    return values


def _summary(runs: list[runner.ChapterRun], total: float, index) -> None:
    """The end-of-build table: per chapter what was done and how long it took."""
    print("\nChapter        done             time", file=sys.stderr)
    for run in runs:
        print(f"  {run.chapter:<12} {run.action:<14} {run.seconds / 60:5.1f} min", file=sys.stderr)
    reused = sum(run.action != reuse.EXECUTE for run in runs)
    print(f"Book built in {total / 60:.1f} min ({len(runs) - reused} executed, {reused} reused): {paths.shown(index)}")


def _status(profile: str, chapters: list[str]) -> int:
    """Print what ``all`` would do per chapter; 1 when any chapter would execute."""
    from nesy.params import load_profile

    book, executes = paths.book_dir(), 0
    for chapter in chapters:
        decision = reuse.decide(book, chapter, reuse.fingerprint(chapter, load_profile(chapter, profile)))
        executes += decision.action == reuse.EXECUTE
        print(f"{chapter:<12} {decision.action:<14} {decision.reason}")
    return 1 if executes else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nesy.book", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="execute one chapter with a profile")
    run.add_argument("chapter")
    run.add_argument("--profile", default="default")
    run.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="override one parameter")
    run.add_argument("--force", action="store_true", help="execute even if the book holds an up-to-date run")
    html = commands.add_parser("build", help="build the HTML book from the executed chapters")
    html.add_argument("--chapters", nargs="+", metavar="CHAPTER", help="only these (default: every chapter run)")
    every = commands.add_parser("all", help="execute every chapter (or --chapters), then build")
    every.add_argument("--profile", default="default")
    every.add_argument("--chapters", nargs="+", metavar="CHAPTER", help="a partial book of these chapters")
    every.add_argument("--force", action="store_true", help="execute every chapter, even up-to-date ones")
    status = commands.add_parser("status", help="say which chapters `all` would execute and why (exit 1 if any)")
    status.add_argument("--profile", default="default")
    status.add_argument("--chapters", nargs="+", metavar="CHAPTER")
    arguments = parser.parse_args(argv)

    try:
        chosen = getattr(arguments, "chapters", None)
        if chosen is not None:
            chosen = runner.chosen_chapters(chosen)
        if arguments.command == "run":
            runner.run_chapter(arguments.chapter, arguments.profile, _overrides(arguments.set), force=arguments.force)
        elif arguments.command == "build":
            build.build(chapters=chosen)
        elif arguments.command == "status":
            return _status(arguments.profile, chosen or runner.chapters())
        else:
            start = time.perf_counter()
            runs = [runner.run_chapter(c, arguments.profile, force=arguments.force) for c in chosen or runner.chapters()]
            index = build.build(chapters=chosen)
            _summary(runs, time.perf_counter() - start, index)
    except (ParameterError, runner.ChapterFailed, build.BuildFailed, claims.ResultsError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
