"""Front-end files the book serves itself, never from a CDN: require.js, the widget manager
(``@jupyter-widgets/html-manager``'s ``embed-amd.js``), anywidget's front-end module and
MathJax 3. They come from the npm packages in ``node_modules`` (``npm ci``) and from the
anywidget wheel, and are copied into ``book/vendor`` (served as ``_static/``)."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

from nesy import paths

NODE_MODULES = paths.REPO / "node_modules"
MATHJAX_PARTS = ("tex-mml-chtml.js", "input", "output/chtml", "ui", "a11y", "adaptors")

# Loaded between require.js and embed-amd.js: maps the AMD module "anywidget" to the copy
# served beside this script, and the widget manager's modules to this script's folder.
# embed-amd.js defines them all inline (nothing is fetched through these paths), but each
# bundle fetches its icon fonts relative to its own module's URL, and which bundle asks
# first varies from load to load: with every @jupyter-widgets module resolving to one
# folder, the fonts are needed, and copied, once. Paths are derived from this script's own
# URL, so pages in any folder (and books under a sub-path) resolve them.
REQUIRE_PATHS_JS = """\
(function () {
  var base = document.currentScript.src.replace(/[^/]*$/, "");
  var here = base.replace(/\\/$/, "");
  require.config({
    paths: {
      anywidget: base + "anywidget/index",
      "@jupyter-widgets": here,
      "@jupyter-widgets/html-manager/dist": here,
    },
  });
})();
"""
FONT_SUFFIXES = (".woff2", ".woff", ".ttf", ".eot", ".svg")


def _anywidget_module() -> Path:
    for prefix in (Path(sys.prefix), Path(sys.base_prefix)):
        candidate = prefix / "share/jupyter/nbextensions/anywidget/index.js"
        if candidate.exists():
            return candidate
    raise FileNotFoundError("anywidget's front-end module was not found: pip install anywidget")


def _copy(source: Path, target: Path) -> None:
    if not source.exists():
        raise FileNotFoundError(f"{source} is missing: run `npm ci` in {paths.REPO} (make does it)")
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True)
    else:
        shutil.copy2(source, target)


def vendor(book: Path | None = None) -> Path:
    """Copy the front-end files into ``<book>/vendor``; returns that folder."""
    target = (book or paths.book_dir()) / "vendor"
    if target.exists():
        shutil.rmtree(target)
    _copy(NODE_MODULES / "requirejs/require.js", target / "require.js")
    _copy(NODE_MODULES / "@jupyter-widgets/html-manager/dist/embed-amd.js", target / "embed-amd.js")
    _copy(_anywidget_module(), target / "anywidget/index.js")
    (target / "require-paths.js").write_text(REQUIRE_PATHS_JS)
    for font in (NODE_MODULES / "@jupyter-widgets/html-manager/dist").iterdir():
        if font.suffix in FONT_SUFFIXES:
            _copy(font, target / font.name)
    for part in MATHJAX_PARTS:
        _copy(NODE_MODULES / "mathjax/es5" / part, target / "mathjax" / part)
    return target
