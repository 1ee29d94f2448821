"""``ialam-verify cases``: table, --json, --explain, errors."""

import json
import shutil

from ialam_verify.cases.case import default_folder
from ialam_verify.cli import main


def test_table_marks_the_errata(capsys, tmp_path):
    assert main(["cases", "talk_example3"]) == 0
    out = capsys.readouterr().out
    assert out.count("ERRATUM") == 3 and "3 erratum/errata" in out
    # several cases in one table (a small folder keeps this fast; all cases: test_talk_cases.py)
    src = default_folder()
    for name in ("classic_neg_abs.py", "talk_chain_rule.py"):
        shutil.copy(src / name, tmp_path / name)
    assert main(["cases", "--folder", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "classic_neg_abs" in out and "talk_chain_rule" in out
    assert "ERRATUM" not in out and "2 case(s)" in out


def test_json_is_one_object(capsys):
    assert main(["cases", "talk_example3", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert {e["notion"] for e in payload["errata"]} == {"clarke", "limiting", "clarke_stationary"}
    assert payload["cases"][0]["name"] == "talk_example3"


def test_explain_prints_the_derivation(capsys):
    assert main(["cases", "classic_neg_abs", "--explain"]) == 0
    out = capsys.readouterr().out
    for step in ("Step 1", "Step 3", "Step 5", "Step 6", "Step 8"):
        assert step in out


def test_errors_are_one_line(capsys, tmp_path):
    assert main(["cases", "no_such_case"]) == 2
    assert "unknown case" in capsys.readouterr().err
    assert main(["cases", "--explain"]) == 2
    (tmp_path / "bad.py").write_text("x = 1\n")
    assert main(["cases", "--folder", str(tmp_path)]) == 2
    assert "must define CASE" in capsys.readouterr().err


def test_user_folder_with_own_case(capsys, tmp_path):
    (tmp_path / "mine.py").write_text(
        "import sympy as sp\n"
        "from ialam_verify.cases import Case, Claim\n"
        "x = sp.Symbol('x')\n"
        "CASE = Case(name='mine', title='x^2', source='me', f=x**2, variables=[x], point=[0],\n"
        "            claims=[Claim('local_minimizer', False, 'wrong on purpose')])\n"
    )
    assert main(["cases", "--folder", str(tmp_path)]) == 0
    assert capsys.readouterr().out.count("ERRATUM") == 1
