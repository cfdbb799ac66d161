"""Build the course to run in a browser with nothing installed: `python tasks.py lite` (or `make lite`).

The site (JupyterLite, into build/lite) holds the lesson notebooks and runs Python in the browser with Pyodide.
At kernel start it preloads, from one lock file, only the kernel's own packages: the kernel is ready sooner. A
lesson's first `import course_helpers` then loads, from the same lock file, course_helpers with the pure-Python
wheels it needs (redis, fakeredis without Lua, ipywidgets for quizzes...) and pandas and matplotlib from Pyodide's
distribution. The same wheels are in the site's piplite index, so `%pip install` finds them too. The kernel
loads Pyodide through the site's loader (lite/course-pyodide.js), which has it read the site's standard library
(with bytecode added, as the wheels have) and keeps imports off the browser's file drive.

Pyodide itself comes from its CDN by default: the published site stays small. With --self-host-pyodide, the
Pyodide core (the npm package `pyodide`) and the pure wheels the kernel needs are copied into the site, which
then starts with no network at all; only pandas and matplotlib (which need Pyodide's full distribution) are
still fetched from the CDN, and lessons without them work when that fails.

Everything fetched is cached under build/ (npm's pyodide in build/node, wheels in build/lite-cache).
"""

from __future__ import annotations

import argparse
import contextlib
import email.parser
import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"
OUTPUT = BUILD / "lite"
CACHE = BUILD / "lite-cache"
NODE_PREFIX = BUILD / "node"
LITE_CONFIG = ROOT / "lite" / "jupyter-lite.json"
# A .js file, not .mjs: every web server sends .js as JavaScript, which a browser needs to import it as a module.
LOADER = ROOT / "lite" / "course-pyodide.js"
LOADER_RUNTIME_MARK = "PYODIDE_RUNTIME_URL"

PYODIDE_VERSION = "314.0.7"  # the runtime and its lock file must be the same release, CDN or self-hosted
PYODIDE_CDN = f"https://cdn.jsdelivr.net/pyodide/v{PYODIDE_VERSION}/full/"
PYODIDE_CORE_FILES = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm")  # the runtime, without its stdlib
STDLIB = "python_stdlib.zip"  # Pyodide's standard library: the site always serves it, with bytecode added
SITE_PYODIDE = "static/pyodide"  # where the lock file (and, self-hosted, the runtime) lives in the site

# What the JupyterLite kernel installs one by one at start (unless preloaded), and what the lessons import first.
KERNEL_PACKAGES = ("micropip", "piplite", "ipykernel", "comm", "pyodide-kernel", "jedi", "ipython")
COURSE_PACKAGES = ("course-helpers",)
FROM_FULL_DISTRIBUTION = ("pandas", "matplotlib")  # binary wheels: only Pyodide's full distribution has them


@dataclass(frozen=True)
class Slimming:
    """Files a self-hosted wheel is served without: those under a dropped folder, unless under a kept one."""

    dropped: tuple[str, ...]
    kept: tuple[str, ...] = ()

    def drops(self, name: str) -> bool:
        """True for a file (or RECORD line) that the slimmed wheel goes without."""
        return name.startswith(self.dropped) and not name.startswith(self.kept)


_JEDI_THIRD_PARTY = "jedi/third_party/typeshed/third_party/"
_IN_A_TAB = (  # jedi's stubs of packages that a browser tab of the course has
    "2and3/redis/",
    "2and3/typing_extensions.pyi",
    "2and3/mypy_extensions.pyi",
    "2and3/decorator.pyi",
    "2and3/dateutil/",
    "2and3/pytz/",
    "3/six/",
    "3/filelock/",
)
# Fewer files to unpack make the kernel start sooner: unpacking the whole of jedi takes 0.6 s.
SLIMMED = {
    # jedi's type stubs for Django and for third-party packages that a browser tab of the course does not have
    # (1,066 of its 1,964 files). Its stubs of the standard library stay, and so do those of the packages there.
    "jedi": Slimming(
        dropped=("jedi/third_party/django-stubs/", _JEDI_THIRD_PARTY),
        kept=tuple(_JEDI_THIRD_PARTY + name for name in _IN_A_TAB),
    ),
}


@dataclass
class Package:
    """One entry of the lock file the site's kernel loads from, and the local wheel behind it (if any)."""

    name: str
    version: str
    depends: list[str]
    wheel: Path | None = None  # None: served from the CDN, as Pyodide's own lock file says
    # Where the site serves the wheel: "piplite" (its piplite index, pypi/) or "pyodide" (beside the lock file).
    place: str = "piplite"


def canonical(name: str) -> str:
    """PEP 503 normalised name: Foo_Bar.baz -> foo-bar-baz."""
    return "-".join(name.replace("_", "-").replace(".", "-").lower().split("-"))


def log(message: str) -> None:
    """One line of progress."""
    print(f"[lite] {message}", flush=True)


def run(*command: str | Path, cwd: Path = ROOT) -> None:
    """Run a command; stop the build with its output when it fails."""
    words = [str(word) for word in command]
    done = subprocess.run(words, cwd=cwd, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"{' '.join(words)} failed ({done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}")


# -- Pyodide -------------------------------------------------------------------------------------------------
def ensure_pyodide(prefix: Path = NODE_PREFIX) -> Path:
    """The npm package `pyodide` (its core runtime and its full distribution's lock file), installed if missing."""
    package = prefix / "node_modules" / "pyodide"
    manifest = package / "package.json"
    if manifest.exists() and json.loads(manifest.read_text())["version"] == PYODIDE_VERSION:
        return package
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("npm is needed once, to fetch Pyodide's runtime: install Node.js (apt-get install nodejs npm).")
    log(f"npm install pyodide@{PYODIDE_VERSION} into {prefix.relative_to(ROOT)}")
    prefix.mkdir(parents=True, exist_ok=True)
    run(npm, "install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", prefix, f"pyodide@{PYODIDE_VERSION}")
    return package


# -- wheels --------------------------------------------------------------------------------------------------
def wheel_metadata(wheel: Path) -> email.message.Message:
    """The METADATA of a wheel."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(entry for entry in archive.namelist() if entry.endswith(".dist-info/METADATA"))
        return email.parser.Parser().parsestr(archive.read(name).decode())


def wheel_imports(wheel: Path) -> list[str]:
    """The top-level modules a wheel installs (what `import` names)."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        top_level = next((entry for entry in names if entry.endswith(".dist-info/top_level.txt")), None)
        if top_level:
            return [line.strip() for line in archive.read(top_level).decode().splitlines() if line.strip()]
    tops = {entry.split("/")[0] for entry in names if not entry.split("/")[0].endswith((".dist-info", ".data"))}
    return sorted(top.removesuffix(".py") for top in tops if top.endswith(".py") or "." not in top)


def browser_requirements(wheel: Path) -> list[str]:
    """The canonical names a wheel requires in Pyodide (markers evaluated for sys_platform emscripten)."""
    from packaging.requirements import Requirement

    version = ".".join(PYODIDE_PYTHON.split(".")[:2])
    environment = {
        "sys_platform": "emscripten",
        "platform_system": "Emscripten",
        "os_name": "posix",
        "python_version": version,
        "python_full_version": PYODIDE_PYTHON,
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "platform_machine": "wasm32",
        "extra": "",
    }
    names = []
    for text in wheel_metadata(wheel).get_all("Requires-Dist") or []:
        requirement = Requirement(text)
        if requirement.marker is None or requirement.marker.evaluate(environment):
            names.append(canonical(requirement.name))
    return names


PYODIDE_PYTHON = "3.14.2"  # replaced by the lock file's own "python" when it is read


def _course_sources() -> list[Path]:
    files = [ROOT / "pyproject.toml", ROOT / "README.md"]
    files += [
        path for path in (ROOT / "course_helpers").rglob("*") if path.is_file() and "__pycache__" not in path.parts
    ]
    return sorted(files)


def build_course_wheel(into: Path) -> Path:
    """A wheel of course_helpers, built by its own build backend from a clean copy of the sources.

    Cached by the sources' content: an unchanged course is not built again (and its bytecode not made again).
    """
    digest = hashlib.sha256()
    for path in _course_sources():
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    folder = into / digest.hexdigest()[:16]
    built = next(folder.glob("course_helpers-*.whl"), None)
    if built is not None:
        return built
    for old in into.glob("*/course_helpers-*.whl"):
        shutil.rmtree(old.parent)
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "src"
        for path in _course_sources():
            # A clean copy: a stale build/lib or a deleted module must never end up in the wheel.
            (source / path.relative_to(ROOT)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, source / path.relative_to(ROOT))
        run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", Path(scratch) / "wheel", source)
        folder.mkdir(parents=True)
        wheel = next((Path(scratch) / "wheel").glob("course_helpers-*.whl"))
        return Path(shutil.move(str(wheel), folder / wheel.name))


def download_wheels(pins: dict[str, str], into: Path) -> dict[str, Path]:
    """Pure-Python wheels for Pyodide's Python from PyPI (pins: name -> version), cached in into."""
    into.mkdir(parents=True, exist_ok=True)

    def cached(name: str, version: str) -> Path | None:
        for wheel in into.glob("*.whl"):
            wheel_name, wheel_version = wheel.name.split("-")[:2]
            if canonical(wheel_name) == name and wheel_version == version:
                return wheel
        return None

    missing = [f"{name}=={version}" for name, version in pins.items() if cached(name, version) is None]
    if missing:
        log(f"downloading {len(missing)} wheels: {' '.join(missing)}")
        python = ".".join(PYODIDE_PYTHON.split(".")[:2])
        run(
            sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
            "--python-version", python, "--platform", "any", "-d", into, *missing,
        )  # fmt: skip
    found = {name: cached(name, version) for name, version in pins.items()}
    absent = [name for name, wheel in found.items() if wheel is None]
    if absent:
        sys.exit(f"No pure-Python wheel was found for {', '.join(absent)}; the browser cannot install those.")
    return {name: wheel for name, wheel in found.items() if wheel is not None}


def kernel_extension_wheels() -> dict[str, Path]:
    """The wheels the JupyterLite Pyodide kernel ships (piplite, pyodide-kernel, an ipykernel shim...)."""
    import jupyterlite_pyodide_kernel  # noqa: F401 - fails with a clear ImportError when the extra is missing

    share = Path(sys.prefix) / "share/jupyter/labextensions/@jupyterlite/pyodide-kernel-extension/static/pypi"
    wheels: dict[str, Path] = {}
    for wheel in sorted(share.glob("*.whl")):  # widgetsnbextension 3.6.999 and 4.0.999: the newest wins
        wheels[canonical(wheel.name.split("-")[0])] = wheel
    return wheels


def resolve(lock: dict[str, Any], self_host: bool) -> dict[str, Package]:
    """Every package the preloaded names need, by name: from Pyodide's lock, the kernel extension or PyPI."""
    pyodide_packages: dict[str, Any] = {canonical(name): spec for name, spec in lock["packages"].items()}
    kernel_wheels = kernel_extension_wheels()
    own = {"course-helpers": build_course_wheel(CACHE / "course")}
    packages: dict[str, Package] = {}
    self_hosted: dict[str, str] = {}
    wanted = [*KERNEL_PACKAGES, *COURSE_PACKAGES]
    while wanted:
        name = canonical(wanted.pop())
        if name in packages or name in FROM_FULL_DISTRIBUTION:
            # pandas and matplotlib come from Pyodide's own lock entries (the CDN), never from a local wheel
            continue
        if name in kernel_wheels:
            wheel = kernel_wheels[name]
            package = Package(name, wheel.name.split("-")[1], browser_requirements(wheel), wheel, "pyodide")
        elif name in own:
            package = Package(name, own[name].name.split("-")[1], browser_requirements(own[name]), own[name])
        elif name in pyodide_packages:
            spec = pyodide_packages[name]
            package = Package(name, spec["version"], [canonical(dep) for dep in spec["depends"]], None, "pyodide")
            if self_host and spec["file_name"].endswith("-none-any.whl"):
                self_hosted[name] = spec["version"]
        else:
            try:
                version = importlib.metadata.version(name)  # the version the CPython tests run with
            except importlib.metadata.PackageNotFoundError:
                sys.exit(f"{name} is needed in the browser, but it is neither in Pyodide nor installed here.")
            wheel = download_wheels({name: version}, CACHE / "wheels")[name]
            package = Package(name, version, browser_requirements(wheel), wheel)
        if name not in COURSE_PACKAGES:
            # The kernel's packages must not pull pandas and matplotlib into its start; course_helpers lists them,
            # so a lesson's first import loads them with it (where they cannot be fetched, the rest still loads).
            package.depends = [dep for dep in package.depends if dep not in FROM_FULL_DISTRIBUTION]
        packages[name] = package
        wanted += package.depends
    for name, wheel in download_wheels(self_hosted, CACHE / "wheels").items():
        packages[name].wheel = slim_wheel(wheel, SLIMMED[name], CACHE / "slim") if name in SLIMMED else wheel
    return packages


def slim_wheel(wheel: Path, slimming: Slimming, into: Path) -> Path:
    """A copy of wheel without the files slimming drops (and their RECORD lines), cached by content and slimming."""
    key = hashlib.sha256(sha256(wheel).encode() + repr(slimming).encode()).hexdigest()
    slim = into / key[:16] / wheel.name
    if slim.exists():
        return slim
    slim.parent.mkdir(parents=True, exist_ok=True)
    partial = slim.with_name(slim.name + ".partial")
    with zipfile.ZipFile(wheel) as source, zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if slimming.drops(info.filename):
                continue
            data = source.read(info)
            if info.filename.endswith(".dist-info/RECORD"):
                lines = data.decode().splitlines()
                data = "".join(f"{line}\n" for line in lines if not slimming.drops(line)).encode()
            target.writestr(info, data)
    return Path(shutil.move(str(partial), slim))


def compile_archives(archives: list[Path], pyodide: Path) -> dict[Path, Path]:
    """Each archive (a wheel, or Pyodide's standard library) with bytecode for Pyodide's Python added
    (scripts/pycompile.mjs), cached by content.

    Without it, a browser tab compiles every module it imports: the standard library and IPython then take 2.5 s.
    """
    compiled: dict[Path, Path] = {}
    todo: list[Path] = []
    for archive in archives:
        compiled[archive] = CACHE / "compiled" / sha256(archive)[:16] / archive.name
        if not compiled[archive].exists():
            todo.append(archive)
    if todo:
        log(f"adding bytecode to {len(todo)} archives: {', '.join(archive.name for archive in todo)}")
        with tempfile.TemporaryDirectory() as scratch:
            source, target = Path(scratch) / "in", Path(scratch) / "out"
            source.mkdir()
            target.mkdir()
            for archive in todo:
                shutil.copy(archive, source / archive.name)
            run(node(), ROOT / "scripts" / "pycompile.mjs", pyodide, source, target, *(a.name for a in todo))
            for archive in todo:
                compiled[archive].parent.mkdir(parents=True, exist_ok=True)
                shutil.move(str(target / archive.name), compiled[archive])
    return compiled


def node() -> str:
    """The node program (Pyodide runs in it at build time, to compile bytecode for its own Python)."""
    found = shutil.which("node")
    if found is None:
        sys.exit("Node.js is needed to build the in-browser site: install it (apt-get install nodejs npm).")
    return found


ENGINE_PACKAGES = ("redis", "fakeredis", "sortedcontainers", "platformdirs", "cloudpickle", "filelock")


def engine_wheels() -> list[Path]:
    """The wheels that run the course's engine (checks, the in-process Redis) in bare Pyodide: course_helpers
    from the working tree, and the pure-Python packages it imports, as the browser site ships them."""
    with cache_lock():
        pyodide = ensure_pyodide()
        lock = read_lock(pyodide)
        in_pyodide = {canonical(name): spec["version"] for name, spec in lock["packages"].items()}
        pins = {name: in_pyodide.get(name) or importlib.metadata.version(name) for name in ENGINE_PACKAGES}
        downloaded = download_wheels(pins, CACHE / "wheels")
        wheels = [build_course_wheel(CACHE / "course"), *(downloaded[name] for name in ENGINE_PACKAGES)]
        compiled = compile_archives(wheels, pyodide)
    return [compiled[wheel] for wheel in wheels]


@contextlib.contextmanager
def cache_lock() -> Iterator[None]:
    """One build at a time in build/lite-cache and build/node (parallel test workers, a `make lite` beside them)."""
    import filelock

    CACHE.mkdir(parents=True, exist_ok=True)
    with filelock.FileLock(str(CACHE / ".lock"), timeout=900):
        yield


def read_lock(pyodide: Path) -> dict[str, Any]:
    """Pyodide's lock file; also sets the Python version that wheels are chosen for."""
    global PYODIDE_PYTHON
    lock: dict[str, Any] = json.loads((pyodide / "pyodide-lock.json").read_text(encoding="utf-8"))
    PYODIDE_PYTHON = lock["info"]["python"]
    return lock


# -- the lock file -------------------------------------------------------------------------------------------
def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_lock(lock: dict[str, Any], packages: dict[str, Package], site: Path) -> dict[str, Any]:
    """Pyodide's lock file, extended with the course's packages, as site/static/pyodide/pyodide-lock.json.

    Relative file names are resolved by Pyodide against the lock file's folder; whatever the site does not hold
    points at the CDN, with the hashes Pyodide published.
    """
    folder = site / SITE_PYODIDE
    folder.mkdir(parents=True, exist_ok=True)
    entries: dict[str, Any] = {
        name: {**spec, "file_name": PYODIDE_CDN + spec["file_name"]} for name, spec in lock["packages"].items()
    }
    by_canonical = {canonical(name): name for name in entries}
    for name, package in packages.items():
        if package.wheel is None:
            continue
        if package.place == "pyodide":
            shutil.copy(package.wheel, folder / package.wheel.name)
            url = package.wheel.name
        else:
            url = f"../../pypi/{package.wheel.name}"  # the piplite index: one copy serves both
        key = by_canonical.get(name, name)
        previous = entries.get(key, {})
        entries[key] = {
            **previous,
            "name": previous.get("name", name),
            "version": package.version,
            "file_name": url,
            "install_dir": "site",
            "sha256": sha256(package.wheel),
            "package_type": "package",
            "imports": previous.get("imports") or wheel_imports(package.wheel),
            "depends": previous["depends"] if previous else package.depends,
            "unvendored_tests": False,
        }
    extended = {**lock, "packages": dict(sorted(entries.items()))}
    (folder / "pyodide-lock.json").write_text(json.dumps(extended, indent=1), encoding="utf-8")
    return extended


def self_host_core(pyodide: Path, site: Path) -> None:
    """Copy Pyodide's core runtime into the site, beside the lock file."""
    for name in PYODIDE_CORE_FILES:
        shutil.copy(pyodide / name, site / SITE_PYODIDE / name)


def serve_stdlib(stdlib: Path, site: Path) -> None:
    """Pyodide's standard library with bytecode, beside the lock file, where the site's loader has Pyodide read it
    (the CDN's has none: Python starts, and the kernel imports IPython, 2.5 s sooner with it)."""
    shutil.copy(stdlib, site / SITE_PYODIDE / STDLIB)


def loader_text(runtime: str) -> str:
    """The site's Pyodide loader (lite/course-pyodide.js), importing the runtime from the URL runtime."""
    return LOADER.read_text().replace(LOADER_RUNTIME_MARK, runtime)


def write_loader(site: Path, self_host: bool) -> str:
    """The site's Pyodide loader beside the lock file and the stdlib, importing the runtime from the site or from
    the CDN; returns its URL as the kernel's settings give it."""
    runtime = "./pyodide.mjs" if self_host else PYODIDE_CDN + "pyodide.mjs"
    folder = site / SITE_PYODIDE
    folder.mkdir(parents=True, exist_ok=True)
    (folder / LOADER.name).write_text(loader_text(runtime), encoding="utf-8")
    return f"./{SITE_PYODIDE}/{LOADER.name}"


def configure(site: Path, self_host: bool, lock: dict[str, Any]) -> list[str]:
    """Point the site's kernel at its Pyodide and lock file; returns the names it preloads."""
    config_path = site / "jupyter-lite.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    plugin = "@jupyterlite/pyodide-kernel-extension:kernel"
    settings = config["jupyter-config-data"].setdefault("litePluginSettings", {}).setdefault(plugin, {})
    settings["pyodideUrl"] = write_loader(site, self_host)
    options = settings.setdefault("loadPyodideOptions", {})
    options["lockFileURL"] = f"./{SITE_PYODIDE}/pyodide-lock.json"
    preload = list(options.get("packages", []))
    known = {canonical(name) for name in lock["packages"]}
    unknown = [name for name in preload if canonical(name) not in known]
    if unknown:
        sys.exit(f"lite/jupyter-lite.json preloads {unknown}, which the lock file does not have.")
    config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    return preload


# -- the site ------------------------------------------------------------------------------------------------
def lesson_notebooks() -> list[Path]:
    """The lessons, in course order (notebooks/NN-*.ipynb; not the instructor's)."""
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))


def folder_size(folder: Path) -> int:
    """Bytes in a folder, recursively."""
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def build(output: Path = OUTPUT, self_host: bool = False) -> dict[str, float]:
    """Build the site into output; returns measurements (seconds, megabytes)."""
    started = time.perf_counter()
    try:
        import jupyterlite_core  # noqa: F401
    except ImportError:
        sys.exit(
            "The in-browser build needs jupyterlite-core and jupyterlite-pyodide-kernel: install them with "
            "`.venv/bin/pip install -e '.[lite]'`, then run this again."
        )
    with cache_lock():
        pyodide = ensure_pyodide()
        lock = read_lock(pyodide)
        packages = resolve(lock, self_host)
        archives = [package.wheel for package in packages.values() if package.wheel]
        compiled = compile_archives([*archives, pyodide / STDLIB], pyodide)
    for package in packages.values():
        package.wheel = compiled[package.wheel] if package.wheel else None
    piplite = [package.wheel for package in packages.values() if package.wheel and package.place == "piplite"]
    prepared = time.perf_counter()

    shutil.rmtree(output, ignore_errors=True)
    with tempfile.TemporaryDirectory() as stage:  # jupyter lite keeps its state (.jupyterlite.doit.db) there
        shutil.copy(LITE_CONFIG, Path(stage) / "jupyter-lite.json")
        command: list[str | Path] = [sys.executable, "-m", "jupyter", "lite", "build", "--lite-dir", stage]
        command += ["--output-dir", output, "--no-sourcemaps"]
        for notebook in lesson_notebooks():
            command += ["--contents", notebook]
        for wheel in piplite:
            command += ["--piplite-wheels", wheel]
        run(*command, cwd=Path(stage))

    extended = write_lock(lock, packages, output)
    serve_stdlib(compiled[pyodide / STDLIB], output)
    if self_host:
        self_host_core(pyodide, output)
    preload = configure(output, self_host, extended)
    finished = time.perf_counter()
    figures = {
        "prepare_seconds": round(prepared - started, 1),
        "site_seconds": round(finished - prepared, 1),
        "megabytes": round(folder_size(output) / 1e6, 1),
    }
    log(
        f"built {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output}: "
        f"{len(lesson_notebooks())} notebooks, {len(piplite)} wheels in its piplite index, preloading "
        f"{', '.join(preload)}; Pyodide {PYODIDE_VERSION} {'self-hosted' if self_host else 'from its CDN'}; "
        f"{figures['megabytes']} MB; wheels ready in {figures['prepare_seconds']} s, site in "
        f"{figures['site_seconds']} s."
    )
    return figures


def main(argv: list[str] | None = None) -> int:
    """Command line: build the site."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where to build the site (default build/lite)")
    parser.add_argument(
        "--self-host-pyodide",
        action="store_true",
        help="copy Pyodide's core and the kernel's wheels into the site: it then starts with no network",
    )
    args = parser.parse_args(argv)
    build(args.output.resolve(), self_host=args.self_host_pyodide or bool(os.environ.get("LITE_SELF_HOST")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
