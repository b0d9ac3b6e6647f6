"""The embedded scheduler (APScheduler, STACK.md §15): the jobs of `xinyong.jobs` on their triggers, and audit
sealing every few seconds, in a background thread of the web process.

Jobs are defined in code and every one is idempotent, so the in-memory job store is enough: nothing is lost when
the process stops (the next run picks up from the database) and several workers may each run them. A missed run
is coalesced into one (`coalesce`), and a run never overlaps itself (`max_instances=1`).
"""

from __future__ import annotations

import logging
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.orm import Session, sessionmaker

from xinyong import jobs
from xinyong.core import audit

log = logging.getLogger("xinyong.jobs")
TIMEZONE = "Asia/Shanghai"


def _guarded(job: jobs.Job, factory: sessionmaker[Session]) -> Any:
    def run() -> None:
        try:
            job(factory, jobs.JobReport())
        except Exception:  # retried at its next run; the database keeps what is still to do
            log.exception("scheduled job %s failed", job.__name__)

    run.__name__ = run.__qualname__ = job.__name__
    return run


class _SealStillRunning(logging.Filter):
    """Sealing runs back to back under load (a round seals everything written since the last one, so a longer
    round only means the next one starts later): APScheduler's "skipped: maximum number of running instances"
    warning for it, every two seconds, would drown the log. Other jobs keep the warning."""

    def filter(self, record: logging.LogRecord) -> bool:
        job = record.args[0] if isinstance(record.args, tuple) and record.args else None
        return not (getattr(job, "id", None) == "seal_audit" and "maximum number of running" in str(record.msg))


_SEAL_FILTER = _SealStillRunning()


def build_scheduler(factory: sessionmaker[Session], seal_interval: float) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        timezone=TIMEZONE, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}
    )
    if seal_interval > 0:
        seal = _guarded(lambda f, _r: audit.seal_all(f), factory)
        seal.__name__ = seal.__qualname__ = "seal_audit"
        scheduler.add_job(seal, "interval", seconds=seal_interval, id="seal_audit")
        logging.getLogger("apscheduler.scheduler").addFilter(_SEAL_FILTER)  # the same object: added once
    for job_id, (job, trigger, args) in jobs.JOBS.items():
        scheduler.add_job(_guarded(job, factory), trigger, id=job_id, **args)
    return scheduler
