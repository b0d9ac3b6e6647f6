"""Racing two transactions on one case (PostgreSQL: two connections really overlap)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy.orm import Session

from xinyong.core.errors import Conflict


def second_waits_then_loses(first: Session, second: Session, second_step: Callable[[], object]) -> str:
    """With `first` holding its step uncommitted, run `second_step` in `second` on another thread: it must wait
    for the first transaction. Then commit `first`; returns what became of the second ("won", or its Conflict
    code)."""
    outcome: dict[str, str] = {}

    def race() -> None:
        try:
            second_step()
            second.commit()
            outcome["second"] = "won"
        except Conflict as exc:
            second.rollback()
            outcome["second"] = exc.code

    worker = threading.Thread(target=race)
    worker.start()
    worker.join(timeout=1.0)
    assert worker.is_alive(), "the second step must wait for the first transaction"
    first.commit()
    worker.join(timeout=30)
    return outcome["second"]
