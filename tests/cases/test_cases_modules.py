"""The cases package as software: no import cycles, each module importable alone, the case library
shipped inside a non-editable install."""

import ast
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

import ialam_verify.cases as cases_pkg

PKG_DIR = Path(cases_pkg.__file__).resolve().parent
REPO = PKG_DIR.parents[1]
MODULES = sorted(p.stem for p in PKG_DIR.glob("*.py") if p.stem != "__init__")


def intra_package_imports(path: Path) -> set[str]:
    """Every module of ``ialam_verify.cases`` that ``path`` imports, anywhere in the file (top level,
    inside functions, under ``TYPE_CHECKING``): a lazy import is still a dependency."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                base = node.module or ""
                names = [base] if base else [a.name for a in node.names]
            elif (node.module or "").startswith("ialam_verify.cases"):
                rest = node.module[len("ialam_verify.cases") :].lstrip(".")
                names = [rest] if rest else [a.name for a in node.names]
            else:
                continue
            out |= {n.split(".")[0] for n in names if n.split(".")[0] in MODULES}
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("ialam_verify.cases."):
                    out.add(a.name.split(".")[2])
    return out


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(u):
        state[u] = 1
        stack.append(u)
        for v in sorted(graph[u]):
            if state.get(v) == 1:
                return stack[stack.index(v) :] + [v]
            if v not in state:
                found = visit(v)
                if found:
                    return found
        state[u] = 2
        stack.pop()
        return None

    for u in sorted(graph):
        if u not in state:
            found = visit(u)
            if found:
                return found
    return None


def test_cycle_finder_finds_a_planted_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_inside_the_cases_package():
    graph = {m: intra_package_imports(PKG_DIR / f"{m}.py") - {m} for m in MODULES}
    assert "case" not in graph["explain"], "explain.py must not import case.py (the old cycle)"
    cycle = find_cycle(graph)
    assert cycle is None, f"import cycle: {' -> '.join(cycle)}"


def test_each_module_imports_alone():
    """In one fresh interpreter: forget every ialam_verify module, import one, repeat."""
    script = (
        "import importlib, sys\n"
        f"for m in {MODULES!r}:\n"
        "    for k in [k for k in sys.modules if k.startswith('ialam_verify')]:\n"
        "        del sys.modules[k]\n"
        "    importlib.import_module('ialam_verify.cases.' + m)\n"
        "print('ok', len(" + repr(MODULES) + "))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    res = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.startswith("ok")


def test_no_top_level_second_copy_of_the_case_files():
    library = sorted(p.name for p in (PKG_DIR / "library").glob("*.py"))
    assert len(library) >= 10
    assert not (REPO / "cases").exists() or not list((REPO / "cases").glob("*.py"))
    assert cases_pkg.default_folder() == PKG_DIR / "library"


def _build_flags() -> list[str]:
    """Build with the setuptools at hand when it can build wheels (no download); otherwise let pip
    fetch the build requirements into an isolated environment as usual."""
    try:
        import setuptools
    except ImportError:
        return []
    major, minor = (int(p) for p in setuptools.__version__.split(".")[:2])
    try:
        import wheel  # noqa: F401 - setuptools < 70.1 builds wheels through it

        has_wheel = True
    except ImportError:
        has_wheel = False
    if (major, minor) >= (70, 1) or ((major, minor) >= (64, 0) and has_wheel):
        return ["--no-build-isolation"]
    return []


@pytest.mark.slow
def test_load_cases_works_from_a_non_editable_install(tmp_path):
    """``pip install --no-deps .`` into a fresh venv (system site-packages for sympy etc.), then
    ``load_cases()`` from a directory outside the source tree."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, src / name)
    shutil.copytree(
        REPO / "ialam_verify", src / "ialam_verify", ignore=shutil.ignore_patterns("__pycache__")
    )
    env_dir = tmp_path / "venv"
    # without pip: the venv's python runs the system pip and setuptools (no network, no downloads)
    venv.create(env_dir, system_site_packages=True, with_pip=False)
    py = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    res = subprocess.run(
        [str(py), "-m", "pip", "install", "-q", "--no-deps", *_build_flags(), str(src)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    shutil.rmtree(src)  # the installed copy must not need the sources
    run_dir = tmp_path / "elsewhere"
    run_dir.mkdir()
    res = subprocess.run(
        [
            str(py),
            "-c",
            "import ialam_verify; from ialam_verify.cases import load_cases; "
            "print(ialam_verify.__file__); print(len(load_cases()))",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=run_dir,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    where, count = res.stdout.split()
    assert Path(where).is_relative_to(env_dir), f"imported {where}, not the venv's copy"
    assert int(count) == len(cases_pkg.load_cases())
