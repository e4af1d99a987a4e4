"""The book's figures: one look (:func:`use_book_style`) and one module of figure functions per
paper (``nesy.plots.<chapter>``). Each figure function takes the run's data (tensors, frames),
draws one matplotlib figure and returns it; the chapter records it with
``results.figure(fig, name, caption)`` and shows it.
"""
from __future__ import annotations

import seaborn as sns

__all__ = ["use_book_style"]


def use_book_style() -> None:
    """Seaborn's white grid at notebook scale: the style of every figure in the book."""
    sns.set_theme(style="whitegrid", context="notebook")
