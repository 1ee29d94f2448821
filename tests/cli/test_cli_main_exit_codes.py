"""``ialam_verify.cli.main``: every exception a subcommand raises becomes a documented exit code."""

from __future__ import annotations

import errno

import pytest

import ialam_verify.cli.cases as cases_cli
from ialam_verify.cli import EXIT_CODES_HELP, build_parser, exit_code_of, main
from ialam_verify.cli._exit_codes import ExitCode


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (KeyboardInterrupt(), ExitCode.INTERRUPTED),
        (ValueError("alpha must lie in (0, 1)"), ExitCode.BAD_INPUT),
        (FileNotFoundError("run.npz does not exist"), ExitCode.BAD_INPUT),
        (PermissionError("denied"), ExitCode.BAD_INPUT),
        (IsADirectoryError("a folder"), ExitCode.BAD_INPUT),
        (ModuleNotFoundError("No module named 'torch'", name="torch"), ExitCode.BAD_INPUT),
        (ModuleNotFoundError("No module named 'ialam_x'", name="ialam_x"), ExitCode.INTERNAL_ERROR),
        (OSError(errno.ENOSPC, "No space left on device"), ExitCode.RUN_FAILED),
        (RuntimeError("a bug"), ExitCode.INTERNAL_ERROR),
        (ZeroDivisionError("division by zero"), ExitCode.INTERNAL_ERROR),
    ],
)
def test_exception_to_exit_code(exc: BaseException, code: ExitCode, monkeypatch, capsys) -> None:
    assert exit_code_of(exc) is code

    def raising(args):
        raise exc

    monkeypatch.setattr(cases_cli, "run", raising)
    assert main(["cases"]) == int(code)
    err = capsys.readouterr().err
    assert err.startswith("ialam-verify cases: ") or "Traceback" in err, err
    # a traceback only for bugs, where it helps the report; one line otherwise
    assert ("Traceback" in err) == (code is ExitCode.INTERNAL_ERROR), err
    if code is ExitCode.BAD_INPUT and isinstance(exc, ModuleNotFoundError):
        assert "extra: bench" in err


def test_return_values_are_checked(monkeypatch, capsys) -> None:
    for returned, code in ((None, 0), (3, 3), (ExitCode.NOTION_FAILS, 4), (7, 1)):
        monkeypatch.setattr(cases_cli, "run", lambda args, r=returned: r)
        assert main(["cases"]) == code, returned
    assert "undocumented exit code 7" in capsys.readouterr().err


def test_no_command_and_unparsable_arguments_exit_2(capsys) -> None:
    assert main([]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["no-such-command"])
    assert exc.value.code == 2


def test_every_help_lists_the_exit_codes() -> None:
    parser = build_parser()
    assert "exit codes" in parser.format_help()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, sp in sub.choices.items():
        assert EXIT_CODES_HELP in sp.format_help() or "exit code" in sp.format_help(), name
    for code in ExitCode:
        assert f"  {int(code)} " in EXIT_CODES_HELP, code
