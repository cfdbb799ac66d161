"""The package's shape: imports only downward (no cycles, even inside functions), a pinned public surface,
and no POSIX-only call on the learner's path."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from types import ModuleType

import course_helpers
from course_helpers import classroom

PACKAGE = Path(course_helpers.__file__).parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(module: str, is_package: bool, level: int, target: str | None) -> str:
    base = module.split(".") if is_package else module.split(".")[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, target] if target else base)


def import_graph() -> dict[str, set[str]]:
    """Module → the course_helpers modules it imports, at the top or inside functions."""
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                origin = _resolve(name, is_package, node.level, node.module) if node.level else node.module or ""
                # `from . import x` imports the submodule x when there is one, else a name of the package
                targets = [
                    f"{origin}.{alias.name}" if f"{origin}.{alias.name}" in modules else origin for alias in node.names
                ]
            graph[name] |= {target for target in targets if target in modules and target != name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for following in sorted(graph[node]):
            if state.get(following) == 1:
                return [*path[path.index(following) :], following]
            if following not in state and (found := visit(following)):
                return found
        state[node] = 2
        path.pop()
        return []

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return []


def test_no_import_cycles_even_inside_functions():
    graph = import_graph()
    assert graph["course_helpers._connection"], "the graph sees imports"
    cycle = _cycle(graph)
    assert not cycle, " → ".join(cycle)


# The floor of the house: modules that import no other course module (CONTRIBUTING.md names them).
LEAVES = {
    "_browser", "_embedded", "_feedback", "_framing", "_guardian", "_process_role", "_programs", "_progress",
    "_results", "_safety", "_show", "_wire",
}  # fmt: skip


def test_the_leaf_modules_import_no_other_course_module():
    graph = import_graph()
    for leaf in LEAVES:
        assert graph[f"course_helpers.{leaf}"] == set(), (
            f"{leaf} is a leaf module: it imports {graph[f'course_helpers.{leaf}']}"
        )


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) == []


PUBLIC = [
    "MARKER_KEY",
    "STATUSES",
    "Backend",
    "CheckFailed",
    "CheckResult",
    "CourseEnvironmentError",
    "CourseGuardError",
    "EmbeddedServer",
    "Exercise",
    "Hint",
    "Mutant",
    "PrivateRedis",
    "Recorder",
    "Solution",
    "Trial",
    "____",
    "backend",
    "clear",
    "connect",
    "doctor",
    "exercises",
    "free_port",
    "is_placeholder",
    "progress",
    "quiz",
    "redis_url",
    "show",
]


def test_the_public_surface_is_pinned():
    assert course_helpers.__all__ == PUBLIC
    # Every public name is in __all__; submodules (classroom, measure_*) are reached as course_helpers.<name>.
    exported = {
        name
        for name, value in vars(course_helpers).items()
        if not name.startswith("_") and (name in PUBLIC or not isinstance(value, ModuleType))
    }
    assert exported | {"____"} == set(PUBLIC)


def test_the_classroom_surface_is_its_all():
    public = {name for name in vars(classroom) if not name.startswith("_") and name != "annotations"}
    assert public == set(classroom.__all__)


POSIX_ONLY = re.compile(
    r"os\.(fork|pread|pwrite|setsid|killpg|getuid|geteuid|getpgid)\(|import fcntl|import resource|[\"']/tmp/"
    r"|[\"']/proc|signal\.SIG(KILL|STOP|CONT|CHLD|HUP|USR1|USR2)\b"
)
# Where a POSIX-only call is on purpose, behind a check that keeps other systems on another path.
ALLOWED = {
    "_fork.py": "runs only where can_fork() is True; spawn is the other way",
    "_private_server.py": "crash(), pause() and _children() are Linux/macOS tools of the production lesson",
}


def test_no_posix_only_call_outside_the_places_that_guard_it():
    offenders = [
        f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}"
        for path in PACKAGE.rglob("*.py")
        if path.name not in ALLOWED
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if POSIX_ONLY.search(line)
    ]
    assert offenders == []
    for name in ALLOWED:  # an allowance with nothing left to allow goes
        assert any(POSIX_ONLY.search(line) for line in (PACKAGE / name).read_text(encoding="utf-8").splitlines())
