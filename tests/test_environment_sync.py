"""environment.yml (conda users) lists exactly pyproject.toml's dependencies and the Makefile's torch pins."""
import re
import tomllib

import yaml
from packaging.requirements import Requirement

from nesy.paths import REPO


def _normalised(requirements):
    return {Requirement(r).name.lower(): str(Requirement(r).specifier) for r in requirements}


def test_environment_yml_matches_pyproject_and_makefile():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        wanted += extra
    wanted = _normalised(wanted)
    torch_pins = _normalised(re.search(r"^TORCH := (.+)$", (REPO / "Makefile").read_text(), re.M).group(1).split())
    wanted.update(torch_pins)  # the Makefile pins torch exactly; pyproject only bounds it

    environment = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_section = next(item["pip"] for item in environment["dependencies"] if isinstance(item, dict))
    assert _normalised(pip_section) == wanted
