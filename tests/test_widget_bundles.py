"""Every widget's _esm is one self-contained ES module (its view with the DOM helpers and, for
the logic-query explorer, the language inlined) that loads in node and exports render."""
import shutil
import subprocess

import pytest

from nesy.widgets import esm, logic_query, msf, rules, smug

VIEWS = {"smug": smug.ESM_PATH, "msf": msf.ESM_PATH, "rules": rules.ESM_PATH, "logic_query": logic_query.ESM_PATH}


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_bundle_has_the_dom_helpers_and_no_imports(name):
    text = esm.bundle(VIEWS[name])
    assert "// ---- widgets/dom.mjs" in text and text.rstrip().endswith("export default { render };")
    assert not any(line.startswith("import ") for line in text.splitlines())


@pytest.mark.integration
@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
@pytest.mark.parametrize("name", sorted(VIEWS))
def test_bundle_loads_in_node(name, tmp_path):
    path = tmp_path / f"{name}.mjs"
    path.write_text(esm.bundle(VIEWS[name]), encoding="utf-8")
    script = f"const m = await import({str(path.as_uri())!r}); console.log(typeof m.default.render);"
    out = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "function", out.stderr
