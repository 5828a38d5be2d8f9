"""The dependency rule: web -> engine -> libraries, never back. The engine imports no Flask and no web."""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parent.parent / "engine"
# Jinja2 is allowed: the engine renders task instructions with its sandbox; it is not the web layer.
FORBIDDEN = ("flask", "flask_wtf", "werkzeug", "carepath.web")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level > len(path.relative_to(ENGINE).parts):
            # engine/x.py may go up one level (to engine), engine/safety/x.py two: never above the engine
            names.add("(relative import out of the engine)")
    return names


def _forbidden(name: str) -> bool:
    return name.startswith("(") or any(name == f or name.startswith(f + ".") for f in FORBIDDEN)


def test_engine_never_imports_the_web_layer():
    offenders = {
        str(p.relative_to(ENGINE)): sorted(n for n in _imports(p) if _forbidden(n)) for p in ENGINE.rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def _statements(path: Path) -> int:
    return sum(isinstance(node, ast.stmt) for node in ast.walk(ast.parse(path.read_text(), filename=str(path))))


# Size in statements, not lines: the formatter lays a call over one line or six, and a module's size should
# not move with it. 300 statements is about 450 lines written compactly; past it, a module holds two jobs.
MAX_STATEMENTS = 300


def test_modules_stay_small():
    big = {
        str(p.relative_to(ENGINE.parent)): n
        for p in [*ENGINE.rglob("*.py"), *(ENGINE.parent / "web").rglob("*.py")]
        if "migrations" not in p.parts and (n := _statements(p)) > MAX_STATEMENTS
    }
    assert big == {}


def test_every_engine_module_can_be_imported_first():
    """A script may import any engine module before the others (a benchmark importing `people` first once hit
    an import cycle between models.py and the table modules beside it). Each module is imported first in a
    fresh interpreter state; one child process does them all."""
    import subprocess
    import sys

    modules = sorted(
        "carepath.engine." + ".".join(p.relative_to(ENGINE).with_suffix("").parts)
        for p in ENGINE.rglob("*.py")
        if "migrations" not in p.parts and p.name != "__init__.py"
    )
    script = (
        "import importlib, sys\n"
        "failed = []\n"
        f"for name in {modules!r}:\n"
        "    for loaded in [m for m in sys.modules if m.startswith('carepath')]:\n"
        "        del sys.modules[loaded]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except ImportError as exc:\n"
        "        failed.append(f'{name}: {exc}')\n"
        "print('\\n'.join(failed))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == ""
