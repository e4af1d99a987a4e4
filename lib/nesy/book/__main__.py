"""Command line of the book pipeline.

    python -m nesy.book run ltn_crash --profile paper [--set n_images=2000 ...]
    python -m nesy.book build
    python -m nesy.book all --profile default
"""
from __future__ import annotations

import argparse
import sys
import time

from nesy import claims
from nesy.book import build, runner
from nesy.params import ParameterError, parse_value


def _overrides(pairs: list[str]) -> dict:
    values = {}
    for pair in pairs:
        if "=" not in pair:
            raise ParameterError(f"--set takes name=value, got {pair!r}")
        name, text = pair.split("=", 1)
        values[name] = parse_value(name, text)
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nesy.book", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="execute one chapter with a profile")
    run.add_argument("chapter")
    run.add_argument("--profile", default="default")
    run.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="override one parameter")
    commands.add_parser("build", help="build the HTML book from the executed chapters")
    every = commands.add_parser("all", help="execute every chapter, then build")
    every.add_argument("--profile", default="default")
    arguments = parser.parse_args(argv)

    try:
        if arguments.command == "run":
            runner.run_chapter(arguments.chapter, arguments.profile, _overrides(arguments.set))
        elif arguments.command == "build":
            build.build()
        else:
            start, times = time.perf_counter(), {}
            for chapter in runner.chapters():
                chapter_start = time.perf_counter()
                runner.run_chapter(chapter, arguments.profile)
                times[chapter] = time.perf_counter() - chapter_start
            index = build.build()
            print("\nTime per chapter:")
            for chapter, seconds in times.items():
                print(f"  {chapter:<16} {seconds / 60:5.1f} min")
            print(f"Book built in {(time.perf_counter() - start) / 60:.1f} min: {index}")
    except (ParameterError, runner.ChapterFailed, build.BuildFailed, claims.ResultsError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
