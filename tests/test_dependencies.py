"""Dependencies point one way (architecture invariant 12): connections ← ingestion ← audiences,
with the demo, the emulator and the benchmark outside the apps. Read from every module's own
imports (``ast``), so an import hidden inside a function counts too."""

import ast
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["connections", "ingestion", "audiences"]  # each may import only those before it
PROJECT = {*LAYERS, "primer_sf", "demo", "emulator", "bench", "scripts", "tests"}
PRODUCTION = [*LAYERS, "primer_sf"]
# The pages and the admin of a lower layer compose the layers above it (a connection's page
# shows its syncs and queues one): they are the UI, above every app's models and services.
UI_MODULES = {"connections.views", "connections.admin"}
# The emulator's own packages (requirements-emulator.txt) and what sits outside the apps.
NOT_IN_PRODUCTION = {"werkzeug", "waitress", "lark", "emulator", "demo", "bench", "tests"}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    target: str  # the imported module, dotted
    line: int
    in_function: bool

    def __str__(self) -> str:
        where = "inside a function" if self.in_function else "at module level"
        return f"{self.module}:{self.line} imports {self.target} ({where})"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _target(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _imports(path: Path) -> list[Import]:
    return _parse(path.read_text(), _module_name(path), is_package=path.name == "__init__.py")


def _parse(source: str, module: str, *, is_package: bool = False) -> list[Import]:
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                found.extend(Import(module, a.name, child.lineno, inside) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                target = _target(child, module, is_package)
                found.append(Import(module, target, child.lineno, inside))
            visit(child, inside)

    visit(ast.parse(source), False)
    return found


def _all_imports(*packages: str) -> list[Import]:
    return [
        imported
        for package in packages
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
        for imported in _imports(path)
    ]


def _top(dotted: str) -> str:
    return dotted.split(".")[0]


def _upward(imports: list[Import]) -> list[str]:
    """Imports of a layer above the importing module's own (the UI modules excepted)."""
    wrong = []
    for i in imports:
        layer = _top(i.module)
        above = LAYERS[LAYERS.index(layer) + 1 :] if layer in LAYERS else []
        if _top(i.target) in above and i.module not in UI_MODULES:
            wrong.append(str(i))
    return wrong


def _crossing_in_functions(imports: list[Import]) -> list[str]:
    """Imports inside a function that reach another of the project's packages."""
    return [
        str(i)
        for i in imports
        if i.in_function and _top(i.target) in PROJECT and _top(i.target) != _top(i.module)
    ]


# What connections/services/authorization.py did before the signals (the checks must see it).
HIDDEN_CYCLE = """
from connections.models import Connection

def _enqueue_first_sync(connection):
    from ingestion.services import runs
    return runs

def _check_same_org(reconnecting, org_id):
    if reconnecting:
        from .health import connection_mark_problem
"""


def test_the_checks_see_an_import_hidden_in_a_function():
    imports = _parse(HIDDEN_CYCLE, "connections.services.authorization")
    assert _upward(imports) == [
        "connections.services.authorization:5 imports ingestion.services (inside a function)"
    ]
    assert _crossing_in_functions(imports) == _upward(imports)
    assert imports[-1].target == "connections.services.health"  # relative, same app: allowed


@pytest.mark.parametrize("layer", LAYERS)
def test_no_layer_imports_one_above_it(layer):
    wrong = _upward(_all_imports(layer))
    assert not wrong, "\n".join(wrong)


def test_the_ui_modules_exempted_above_do_compose_layers():
    """Keeps the exemption honest: each listed module does import a layer above its own."""
    imports = _all_imports(*LAYERS)
    for name in UI_MODULES:
        mine = [i for i in imports if i.module == name]
        assert _upward([replace(i, module=f"{name}_as_non_ui") for i in mine]), name


def test_no_function_level_import_crosses_apps():
    """An import inside a function that reaches another app is how a cycle hides; the
    dependency goes at the top of the module or, upwards, becomes a signal."""
    wrong = _crossing_in_functions(_all_imports(*PRODUCTION, "demo"))
    assert not wrong, "\n".join(wrong)


def test_production_code_imports_nothing_of_the_emulator_or_its_packages():
    wrong = [str(i) for i in _all_imports(*PRODUCTION) if _top(i.target) in NOT_IN_PRODUCTION]
    assert not wrong, "\n".join(wrong)


def test_the_emulator_packages_are_not_production_requirements():
    production = (ROOT / "requirements.txt").read_text().lower()
    emulator = (ROOT / "requirements-emulator.txt").read_text().lower()
    for package in ("werkzeug", "waitress", "lark"):
        assert f"\n{package}==" not in production
        assert f"\n{package}==" in emulator
    assert "-r requirements-emulator.txt" in (ROOT / "requirements-dev.txt").read_text()
