"""Liveness of the backing services: database, cache and Celery broker."""

from __future__ import annotations

import logging
import uuid

from celery import current_app
from django.conf import settings
from django.core.cache import caches
from django.db import connection

logger = logging.getLogger(__name__)


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_cache() -> None:
    # Behind the failover cache, report on Redis itself, not on the in-process fallback.
    target = caches["redis"] if "redis" in settings.CACHES else caches["default"]
    key = f"health:{uuid.uuid4().hex}"
    target.set(key, "1", timeout=5)
    if target.get(key) != "1":
        raise RuntimeError("cache did not return the value it was given")
    target.delete(key)


def check_broker() -> None:
    with current_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)


CHECKS = {"database": check_database, "cache": check_cache, "broker": check_broker}


def health_report() -> tuple[dict[str, str], bool]:
    """Each component's state (``"ok"`` or ``"error"``) and whether all are ok."""
    report: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception:
            logger.warning("health check failed: %s", name, exc_info=True)
            report[name] = "error"
        else:
            report[name] = "ok"
    return report, all(state == "ok" for state in report.values())
