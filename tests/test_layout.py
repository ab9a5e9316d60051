"""The layout: one package per domain, each importing only from the packages before it in the data
flow, no import circle between modules, and Dagster imported only by the Dagster definitions.

Read from the source (every import statement, function-level ones included), so a circle that
Python happens to survive at import time still fails here."""

import ast
import subprocess
import sys
from pathlib import Path

import ledger_pipeline

ROOT = Path(ledger_pipeline.__file__).parent
# In data-flow order: a package may import from the packages before it (and itself), never after.
LAYERS = ["platform", "ledger", "audit", "statements", "reconciliation", "alerting", "defs"]
TOP = {"cli", "definitions", "first_start"}  # the entry points, which may import anything
DAGSTER_USERS = {"defs", "definitions", "cli", "first_start"}  # cli reads the Dagster instance that holds anchors


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in ROOT.rglob("*.py")}


def imports(name: str, path: Path) -> set[str]:
    """The ledger_pipeline modules this one imports, and the top-level names of other imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module
            for alias in node.names:
                found.add(f"{source}.{alias.name}" if f"{source}.{alias.name}" in MODULES else source)
    return found


GRAPH = {name: {i for i in imports(name, path) if i in MODULES} for name, path in MODULES.items()}
EXTERNAL = {name: {i.split(".")[0] for i in imports(name, path) if not i.startswith("ledger_pipeline")}
            for name, path in MODULES.items()}


def domain(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_every_package_is_a_named_layer_with_a_docstring():
    folders = {path.parent for path in ROOT.rglob("*.py")}
    assert all((folder / "__init__.py").exists() for folder in folders)
    packages = {name for name, path in MODULES.items() if path.name == "__init__.py" and name.count(".") == 1}
    assert {domain(p) for p in packages} <= set(LAYERS)
    for name, path in MODULES.items():
        if path.name == "__init__.py":
            assert ast.get_docstring(ast.parse(path.read_text())), f"{name} says nothing of what it holds"


def test_each_package_imports_only_the_packages_before_it():
    wrong = []
    for name, targets in GRAPH.items():
        if domain(name) in TOP:
            continue
        for target in targets:
            if domain(target) in TOP or LAYERS.index(domain(target)) > LAYERS.index(domain(name)):
                wrong.append(f"{name} -> {target}")
    assert not wrong


def circles(graph: dict[str, set[str]]) -> list[str]:
    found = []
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = "open"
        for target in sorted(graph[name]):
            if state.get(target) == "open":
                found.append(" -> ".join(trail[trail.index(target):] + [target]))
            elif target not in state:
                visit(target, trail + [target])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    return found


def test_no_module_imports_itself_through_others():
    assert not circles(GRAPH)


def test_the_checks_see_what_they_look_for():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a -> b -> c -> a"]
    assert {"ledger_pipeline.ledger.fx", "ledger_pipeline.ledger.posting"} <= GRAPH["ledger_pipeline.ledger.demo"]
    assert "ledger_pipeline.platform.embedded" in GRAPH["ledger_pipeline.platform.db"]  # imported in a function


def test_the_command_line_starts_without_dagster():
    loaded = subprocess.run([sys.executable, "-c", "import sys, ledger_pipeline.cli; print(sorted(sys.modules))"],
                            capture_output=True, text=True, check=True).stdout
    assert "'ledger_pipeline.cli'" in loaded and "'dagster'" not in loaded


def test_only_the_dagster_definitions_import_dagster():
    users = {name for name, found in EXTERNAL.items() if found & {"dagster", "dagster_celery", "dagster_k8s"}}
    assert users and {domain(name) for name in users} <= DAGSTER_USERS
