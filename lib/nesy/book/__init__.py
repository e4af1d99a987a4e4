"""The book pipeline: run chapters (jupytext -> papermill), vendor the front-end files,
write the scoreboard, build the HTML with Jupyter Book 1. CLI: ``python -m nesy.book``."""
