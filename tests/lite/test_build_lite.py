"""scripts/build_lite.py's decisions, without building a site: markers, the lock file, the kernel's settings."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def build_lite() -> Any:
    """scripts/build_lite.py as a module."""
    spec = importlib.util.spec_from_file_location("build_lite_under_test", ROOT / "scripts" / "build_lite.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _wheel(
    folder: Path, name: str, version: str, requires: list[str] | None = None, modules: tuple[str, ...] = ()
) -> Path:
    path = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        metadata = [f"Name: {name}", f"Version: {version}", *(f"Requires-Dist: {line}" for line in requires or [])]
        archive.writestr(f"{name}-{version}.dist-info/METADATA", "\n".join(metadata) + "\n")
        archive.writestr(f"{name}-{version}.dist-info/RECORD", "")
        for module in modules:
            archive.writestr(f"{module}/__init__.py", "")
    return path


def test_installing_the_course_in_a_browser_pulls_no_jupyterlab_ipykernel_or_lua(build_lite, tmp_path):
    tomllib = pytest.importorskip("tomllib")
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    wheel = _wheel(tmp_path, "course_helpers", "0.1.0", dependencies)
    in_browser = build_lite.browser_requirements(wheel)
    assert {"redis", "fakeredis", "ipywidgets", "platformdirs"} <= set(in_browser)
    assert not {"jupyterlab", "ipykernel", "lupa"} & set(in_browser)
    lua = [line for line in dependencies if line.startswith("fakeredis[lua]")]
    assert lua and all("sys_platform != 'emscripten'" in line for line in lua), "on a computer, Lua stays"


PYODIDE_LOCK = {
    "info": {"python": "3.14.2", "arch": "wasm32"},
    "packages": {
        "ipython": {
            "name": "ipython",
            "version": "9.0",
            "file_name": "ipython-9.0-py3-none-any.whl",
            "sha256": "cdn-hash",
            "depends": ["traitlets"],
            "imports": ["IPython"],
            "install_dir": "site",
            "package_type": "package",
        },
        "pandas": {
            "name": "pandas",
            "version": "3.0",
            "file_name": "pandas-3.0-cp314-cp314-pyemscripten_2026_0_wasm32.whl",
            "sha256": "cdn-hash",
            "depends": [],
            "imports": ["pandas"],
            "install_dir": "site",
            "package_type": "package",
        },
    },
}


def test_the_lock_serves_local_wheels_with_their_hashes_and_the_rest_from_the_cdn(build_lite, tmp_path):
    site = tmp_path / "site"
    ours = _wheel(tmp_path, "course_helpers", "0.1.0", modules=("course_helpers",))
    ipython = _wheel(tmp_path, "ipython", "9.0", modules=("IPython",))
    packages = {
        "course-helpers": build_lite.Package("course-helpers", "0.1.0", ["ipython"], ours, "piplite"),
        "ipython": build_lite.Package("ipython", "9.0", ["traitlets"], ipython, "pyodide"),
    }
    lock = build_lite.write_lock(PYODIDE_LOCK, packages, site)
    written = json.loads((site / "static/pyodide/pyodide-lock.json").read_text())
    assert written == lock
    entries = lock["packages"]
    assert entries["pandas"]["file_name"] == build_lite.PYODIDE_CDN + PYODIDE_LOCK["packages"]["pandas"]["file_name"]
    assert entries["pandas"]["sha256"] == "cdn-hash"
    assert entries["course-helpers"]["file_name"] == f"../../pypi/{ours.name}"  # one copy, in the piplite index
    assert entries["course-helpers"]["sha256"] == hashlib.sha256(ours.read_bytes()).hexdigest()
    assert entries["course-helpers"]["imports"] == ["course_helpers"]
    assert entries["ipython"]["file_name"] == ipython.name and (site / "static/pyodide" / ipython.name).exists()
    assert entries["ipython"]["sha256"] == hashlib.sha256(ipython.read_bytes()).hexdigest() != "cdn-hash"
    assert entries["ipython"]["depends"] == ["traitlets"]  # Pyodide's own dependency list is kept


@pytest.mark.parametrize("self_host", [False, True])
def test_the_kernel_loads_pyodide_from_the_cdn_or_the_site_and_always_the_sites_lock(build_lite, tmp_path, self_host):
    config: dict[str, Any] = {"jupyter-config-data": {"litePluginSettings": {}}}
    plugin = "@jupyterlite/pyodide-kernel-extension:kernel"
    lite_settings = json.loads((ROOT / "lite" / "jupyter-lite.json").read_text())["jupyter-config-data"]
    config["jupyter-config-data"]["litePluginSettings"][plugin] = lite_settings["litePluginSettings"][plugin]
    (tmp_path / "jupyter-lite.json").write_text(json.dumps(config))
    names = lite_settings["litePluginSettings"][plugin]["loadPyodideOptions"]["packages"]
    lock = {"packages": {name: {} for name in names}}
    assert build_lite.configure(tmp_path, self_host, lock) == names
    settings = json.loads((tmp_path / "jupyter-lite.json").read_text())["jupyter-config-data"]["litePluginSettings"]
    kernel = settings[plugin]
    assert kernel["pyodideUrl"] == "./static/pyodide/course-pyodide.js"  # the site's loader, in both cases
    runtime = "./pyodide.mjs" if self_host else build_lite.PYODIDE_CDN + "pyodide.mjs"
    loader = (tmp_path / "static/pyodide/course-pyodide.js").read_text()
    assert f'import {{ loadPyodide as loadRuntime }} from "{runtime}";' in loader
    assert f'new URL("{runtime}", import.meta.url)' in loader  # Pyodide's files: where the runtime is
    assert kernel["loadPyodideOptions"]["lockFileURL"] == "./static/pyodide/pyodide-lock.json"
    # The kernel's start loads only what the kernel needs; a lesson's first import loads the course and the rest.
    assert {"ipykernel", "ipython", "jedi", "pyodide-kernel"} <= set(names)
    assert not {"course-helpers", "pandas", "matplotlib"} & set(names)


def test_a_slimmed_wheel_lacks_the_dropped_folders_but_the_kept_ones_in_its_files_and_its_record(build_lite, tmp_path):
    wheel = tmp_path / "pkg-1.0-py3-none-any.whl"
    files = ["pkg/__init__.py", "pkg/stubs/django/a.pyi", "pkg/stubs/redis/b.pyi", "pkg/stubsmore.py"]
    record_name = "pkg-1.0.dist-info/RECORD"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name in files:
            archive.writestr(name, "")
        archive.writestr(record_name, "".join(f"{name},sha256=x,0\n" for name in files) + f"{record_name},,\n")
    slimming = build_lite.Slimming(dropped=("pkg/stubs/",), kept=("pkg/stubs/redis/",))
    slim = build_lite.slim_wheel(wheel, slimming, tmp_path / "slim")
    with zipfile.ZipFile(slim) as archive:
        kept = archive.namelist()
        record = archive.read(record_name).decode().splitlines()
    assert kept == ["pkg/__init__.py", "pkg/stubs/redis/b.pyi", "pkg/stubsmore.py", record_name]
    assert [line.split(",")[0] for line in record] == kept
    assert build_lite.slim_wheel(wheel, slimming, tmp_path / "slim") == slim  # cached by content and slimming
    keep_nothing = build_lite.slim_wheel(wheel, build_lite.Slimming(dropped=("pkg/stubs/",)), tmp_path / "slim")
    assert keep_nothing != slim and "pkg/stubs/redis/b.pyi" not in zipfile.ZipFile(keep_nothing).namelist()


def test_a_preloaded_name_missing_from_the_lock_stops_the_build(build_lite, tmp_path):
    config = {
        "jupyter-config-data": {
            "litePluginSettings": {
                "@jupyterlite/pyodide-kernel-extension:kernel": {"loadPyodideOptions": {"packages": ["nowhere"]}}
            }
        }
    }
    (tmp_path / "jupyter-lite.json").write_text(json.dumps(config))
    with pytest.raises(SystemExit, match="nowhere"):
        build_lite.configure(tmp_path, False, {"packages": {}})
