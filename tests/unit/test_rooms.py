"""The rooms of DESIGN §7 hold: the pages never reach into the JSON resources, and the
application reaches into the pages only where the factory registers them."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_page_imports_a_json_resource() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(name for name in imported_modules(path) if name.startswith("api.resources"))
        for path in (ROOT / "web").rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_application_imports_the_pages_only_in_its_factory() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "api").rglob("*.py")
        if any(name == "web" or name.startswith("web.") for name in imported_modules(path))
    ]
    assert offenders == ["api/__init__.py"]


def test_the_domain_imports_neither_flask_nor_the_application() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            name for name in imported_modules(path) if name.split(".")[0] in {"flask", "api", "web"}
        )
        for path in (ROOT / "feedback").rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}
