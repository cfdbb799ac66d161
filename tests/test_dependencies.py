"""The declared dependency ranges are the same everywhere they are declared (pyproject.toml, environment.yml,
binder/environment.yml); the floors themselves are proven by CI's lowest-direct install (.ci/run)."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parent.parent
CONDA_NAMES = {"redis": "redis-py", "matplotlib": "matplotlib-base"}  # conda-forge's names for the same packages


def pyproject_ranges() -> dict[str, SpecifierSet]:
    """Package → version range, for the dependencies installed outside a browser (from the installed metadata)."""
    ranges = {}
    for text in importlib.metadata.requires("course_helpers") or []:
        requirement = Requirement(text)
        if requirement.marker and not requirement.marker.evaluate({"sys_platform": "linux", "extra": ""}):
            continue  # the browser's variant of a dependency, or an extra
        name = requirement.name.lower()
        ranges[CONDA_NAMES.get(name, name)] = requirement.specifier
    return ranges


def conda_ranges(path: Path) -> dict[str, SpecifierSet]:
    """Package → version range from a conda environment file's dependency list."""
    ranges = {}
    for line in path.read_text().splitlines():
        found = re.match(r"\s+-\s+([A-Za-z0-9_.-]+)([<>=!,.0-9]*)\s*$", line)
        if found and not re.match(r"=[^=]", found.group(2)):  # conda's own pins (python=3.11) are not ranges
            ranges[found.group(1).lower()] = SpecifierSet(found.group(2))
    return ranges


@pytest.mark.parametrize("environment", ["environment.yml", "binder/environment.yml"])
def test_conda_environments_declare_the_same_ranges_as_pyproject(environment):
    declared = conda_ranges(ROOT / environment)
    assert "fakeredis" in pyproject_ranges() and "redis-py" in declared
    for name, version in pyproject_ranges().items():
        assert declared.get(name) == version, f"{environment}: {name}{declared.get(name, ' missing')} vs {version}"
