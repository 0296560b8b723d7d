"""The shape ARCHITECTURE.md asks of the code, checked on every run:

- a capability uses another only through its ``services`` module;
- ``app/core`` and ``tenants`` import no capability;
- no capability imports another inside a function (to dodge a cycle), and
  the capabilities' services depend on each other without a cycle;
- every capability package has the same files where it needs them.
"""
import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"
NOT_CAPABILITIES = {"core", "translations", "__pycache__"}
CAPABILITIES = sorted(p.name for p in APP.iterdir() if p.is_dir() and p.name not in NOT_CAPABILITIES)


def _modules(folder: Path):
    for path in sorted(folder.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imports(tree):
    """(module imported, names, inside a function?) for each app import."""
    in_function = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if inner is not node:
                    in_function.add(id(inner))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, [a.name for a in node.names], id(node) in in_function, node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, [], id(node) in in_function, node.lineno


def _target(module: str, names: list[str]) -> tuple[str, str] | None:
    """(capability, module of it) an import reaches, or None."""
    parts = module.split(".")
    if parts[0] != "app" or len(parts) < 2 or parts[1] not in CAPABILITIES:
        return None
    if len(parts) >= 3:
        return parts[1], parts[2]
    return parts[1], ",".join(names)  # from app.records import services


def _owner(path: Path) -> str | None:
    relative = path.relative_to(ROOT).parts
    return relative[1] if relative[0] == "app" and len(relative) > 2 else None


def test_capabilities_use_each_other_only_through_services():
    wrong = []
    for path, tree in _modules(APP):
        owner = _owner(path)
        for module, names, _inside, line in _imports(tree):
            target = _target(module, names)
            if target is None or target[0] == owner:
                continue
            capability, used = target
            if path.name == "__init__.py" and path.parent == APP:
                continue  # create_app registers every package
            if set(used.split(",")) - {"services"}:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports app.{capability}.{used}")
    assert wrong == []


def test_core_and_tenancy_know_no_capability():
    wrong = []
    for folder in (APP / "core", ROOT / "tenants"):
        for path, tree in _modules(folder):
            for module, names, _inside, line in _imports(tree):
                if _target(module, names) is not None:
                    wrong.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert wrong == []


def test_no_capability_is_imported_inside_a_function():
    wrong = []
    for path, tree in _modules(APP):
        owner = _owner(path)
        for module, names, inside, line in _imports(tree):
            target = _target(module, names)
            if inside and target is not None and target[0] != owner and path.parent != APP:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports app.{target[0]} inside a function")
    assert wrong == []


def test_services_depend_on_each_other_without_a_cycle():
    uses: dict[str, set[str]] = defaultdict(set)
    for capability in CAPABILITIES:
        for path, tree in _modules(APP / capability):
            if path.name in ("views.py",) or path.name.endswith("_views.py"):
                continue  # views compose several capabilities; nothing imports them
            for module, names, _inside, _line in _imports(tree):
                target = _target(module, names)
                if target is not None and target[0] != capability:
                    uses[capability].add(target[0])
    seen, stack = set(), []

    def visit(node):
        if node in stack:
            raise AssertionError("cycle: " + " -> ".join([*stack[stack.index(node):], node]))
        if node in seen:
            return
        stack.append(node)
        for other in sorted(uses[node]):
            visit(other)
        stack.pop()
        seen.add(node)

    for capability in CAPABILITIES:
        visit(capability)


def test_every_capability_has_services_and_registers_itself():
    missing = []
    for capability in CAPABILITIES:
        folder = APP / capability
        init = (folder / "__init__.py").read_text(encoding="utf-8")
        if "def register(" not in init:
            missing.append(f"app/{capability}/__init__.py has no register(app)")
        if (folder / "views.py").exists() and not (folder / "services.py").exists():
            missing.append(f"app/{capability} has views but no services.py")
    assert missing == []
