"""Shared fixtures: a book built from a smoke run of the chapters, in a temporary folder."""
import os
from unittest import mock

import pytest


@pytest.fixture(scope="session")
def smoke_book(tmp_path_factory):
    """Run every chapter at its ``smoke`` profile into a temporary book and build the HTML.

    Returns the book folder (``<book>/_build/html`` holds the site).
    """
    from nesy.book import build, runner

    book = tmp_path_factory.mktemp("book")
    with mock.patch.dict(os.environ, {"NESY_BOOK_DIR": str(book)}):
        for chapter in runner.chapters():
            runner.run_chapter(chapter, "smoke")
        build.build(book)
    return book
