"""gunicorn.conf.py, the settings every gunicorn of the project reads (web, make bench, the tests)."""

from __future__ import annotations

import gc
import runpy

from django.conf import settings


def test_each_worker_loads_the_urlconf_then_freezes_what_is_alive_out_of_the_collectors_reach():
    """A full collection walks every tracked object; the program's own (Django, DRF, the views)
    are frozen once per worker so that the collections a request triggers walk only its garbage."""
    conf = runpy.run_path(str(settings.BASE_DIR / "gunicorn.conf.py"))
    assert conf["forwarded_allow_ips"] == ""
    gc.unfreeze()
    try:
        conf["post_worker_init"](None)
        assert gc.get_freeze_count() > 50_000, gc.get_freeze_count()
    finally:
        gc.unfreeze()
