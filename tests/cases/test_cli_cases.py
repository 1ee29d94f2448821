"""``ialam-verify cases``: table, --json, --explain, errors."""

import json

from ialam_verify.cli import main


def test_table_marks_the_three_errata(capsys):
    assert main(["cases"]) == 0
    out = capsys.readouterr().out
    assert out.count("ERRATUM") == 3
    for name in (
        "talk_chain_rule",
        "talk_example3",
        "talk_example3_corrected",
        "talk_example3_lifted",
    ):
        assert name in out
    assert "3 erratum/errata" in out


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
