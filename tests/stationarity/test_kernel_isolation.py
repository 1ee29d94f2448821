"""The trusted kernel stays small and apart: kernel.py, certificate.py and check.py import nothing
but the standard library, numpy, scipy.sparse, the Verdict type and each other (no solver)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import ialam_verify.stationarity as pkg

KERNEL = ("kernel.py", "certificate.py", "check.py", "mpcc.py")
ALLOWED = {
    "__future__",
    "collections",
    "dataclasses",
    "itertools",
    "json",
    "math",
    "typing",
    "numpy",
    "scipy.sparse",
    "ialam_verify.verdict",
    "ialam_verify._validation",
    "ialam_verify.io",  # Certificate.save: atomic write, imported inside the method
    "sympy",  # MPCC.from_sympy only, imported inside the method
}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level == 1:
                names.add(f"ialam_verify.stationarity.{base}")
            elif node.level == 2:
                names.add(f"ialam_verify.{base}")
            else:
                names.add(base)
    return names


def test_kernel_modules_import_no_solver():
    here = Path(pkg.__file__).parent
    own = {f"ialam_verify.stationarity.{m[:-3]}" for m in KERNEL}
    for name in KERNEL:
        bad = {
            m
            for m in _imports(here / name)
            if m not in own and not any(m == a or m.startswith(a + ".") for a in ALLOWED)
        }
        assert not bad, f"{name} imports {sorted(bad)}"


def test_checking_a_certificate_loads_no_solver():
    code = (
        "import sys, json\n"
        "from ialam_verify.stationarity.check import check\n"
        "from ialam_verify.stationarity.mpcc import MPCC\n"
        "from ialam_verify.stationarity.certificate import Certificate\n"
        "p = MPCC.create([1.0])\n"
        "c = Certificate.from_dict(json.loads(sys.argv[1]))\n"
        "assert check(c, p).accepted\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('cvxpy', 'highspy', 'clarabel')))\n"
    )
    from ialam_verify.stationarity import MPCC, classify

    cert = classify(MPCC.create([1.0]))
    out = subprocess.run(
        [sys.executable, "-c", code, cert.to_json()], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout
