"""Every widget's ``_esm``: its view module with the modules it imports inlined into one ES
module (the static book has no module server): the DOM helpers (``dom.mjs``) and, for the
logic-query explorer, the query language (``lib/nesy/logic/query/*.mjs`` and its spec).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

__all__ = ["bundle"]

# a one-line static import of a relative module: `import {...} from "./x.mjs";`,
# `import NAME from "./x.json" with { type: "json" };` or `export * from "./x.mjs";`
_IMPORT = re.compile(r'^(?:import\s+(?P<what>[^;]+?)\s+from|export\s+\*\s+from)\s+"(?P<path>\.\.?/[^"]+)"'
                     r'(?:\s+with\s+\{\s*type:\s*"json"\s*\})?;[ \t]*(?:\n|\Z)', re.M)


def bundle(entry) -> str:
    """One ES module: ``entry`` with its relative imports inlined, dependencies first.

    Each module is included once; an imported ``.json`` becomes ``const NAME = {...};``. The
    modules share one scope, so their top-level names must differ (node or a browser
    refuses the bundle otherwise). Any other ``import`` raises ``ValueError``.
    """
    seen: set[Path] = set()
    parts: list[str] = []

    def visit(path: Path):
        path = path.resolve()
        if path in seen:
            return
        seen.add(path)

        def inline(m: re.Match) -> str:
            dep = path.parent / m["path"]
            if dep.suffix == ".json":
                value = json.loads(dep.read_text(encoding="utf-8"))
                return f"const {m['what']} = {json.dumps(value, ensure_ascii=False)};\n"
            visit(dep)
            return ""

        text = _IMPORT.sub(inline, path.read_text(encoding="utf-8"))
        if re.search(r"^\s*(?:import\b|export\s.*\bfrom\b)", text, re.M):
            raise ValueError(f"{path}: only one-line relative imports can be bundled")
        parts.append(f"// ---- {path.parent.name}/{path.name}\n{text.strip()}\n")

    visit(Path(str(entry)))
    return "\n".join(parts)
