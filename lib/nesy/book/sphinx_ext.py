"""A Sphinx extension for the book's HTML.

Jupyter Book 1 registers sphinx-thebe's inline configuration script twice, so every page
declared ``const THEBE_JS_URL`` twice and the browser reported a script error on load.
This drops repeated scripts (same file, or same inline body) from each page, keeping the
first occurrence and the order.
"""
from __future__ import annotations


def _key(script) -> tuple:
    """What makes two script tags the same: file and attributes (an inline body is an
    attribute); the priority is left out, it only orders them."""
    filename = getattr(script, "filename", script) or ""  # inline scripts come as "" or None
    return (str(filename), tuple(sorted(getattr(script, "attributes", {}).items())))


def _drop_repeated_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        key = _key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _drop_repeated_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
