"""Exit codes of every ``ialam-verify`` command, in one place (documented in README.md).

======  ==========================  =====================================================
 code   name                        meaning
======  ==========================  =====================================================
 0      ``SUCCESS``                 the command did what was asked and the result is good
 1      ``INTERNAL_ERROR``          an unexpected error (a bug: please report it)
 2      ``BAD_INPUT``               bad arguments or unreadable input; nothing was written
 3      ``RUN_FAILED``              the command ran, but its result failed (for example a
                                    training run that ended infeasible or uncertified)
 4      ``NOTION_FAILS``            ``--require NOTION``: the notion is proved not to hold
 5      ``NOTION_UNDETERMINED``     ``--require NOTION``: neither proved nor disproved
 130    ``INTERRUPTED``             stopped by Ctrl-C (what was finished is kept)
======  ==========================  =====================================================
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    SUCCESS = 0
    INTERNAL_ERROR = 1
    BAD_INPUT = 2
    RUN_FAILED = 3
    NOTION_FAILS = 4
    NOTION_UNDETERMINED = 5
    INTERRUPTED = 130
