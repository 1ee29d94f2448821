"""How a solver run ended: one enum and one table of messages (in the manner of cvxpy's statuses).

``Status`` is an ``IntEnum``, so ``result.status == 0`` keeps working and the value is what
``save_result`` writes; ``STATUS_MESSAGES`` is the only place the words live.
"""

from __future__ import annotations

import enum


class Status(enum.IntEnum):
    """Why an IALAM run stopped."""

    #: the stopping test fired at a feasible point (the only success)
    CONVERGED = 0
    #: ``max_outer`` outer iterations
    MAX_OUTER = 1
    #: ``max_seconds`` of wall time
    MAX_SECONDS = 2
    #: the callback returned ``True``
    CALLBACK = 3
    #: Ctrl-C (``KeyboardInterrupt``); the last complete iterate is kept
    INTERRUPTED = 4
    #: the stopping test fired, but at a point with FeasVi above ``success_feas_tol``
    INFEASIBLE = 5
    #: an iterate became non-finite; the last finite one is kept
    DIVERGED = 6

    @property
    def message(self) -> str:
        return STATUS_MESSAGES[self]

    @property
    def success(self) -> bool:
        return self is Status.CONVERGED


STATUS_MESSAGES: dict[Status, str] = {
    Status.CONVERGED: "converged by the stopping test at a feasible point",
    Status.MAX_OUTER: "iteration cap reached",
    Status.MAX_SECONDS: "time cap reached",
    Status.CALLBACK: "stopped by the callback",
    Status.INTERRUPTED: "interrupted by the user",
    Status.INFEASIBLE: "stopped by the test at an infeasible point",
    Status.DIVERGED: "diverged (non-finite iterate)",
}
