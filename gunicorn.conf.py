"""Gunicorn settings, read by every ``gunicorn`` started from the repository root (the Procfile's
``web`` process, ``make bench``, the tests' servers).

Gunicorn by default believes ``X-Forwarded-Proto`` from 127.0.0.1 and marks such a request HTTPS
itself, before Django sees it: a client talking plain HTTP through a local proxy that passes the
header on would skip the HTTPS redirect. The app decides instead (``TRUSTED_PROXY_COUNT`` in
settings: ``SECURE_PROXY_SSL_HEADER`` only behind declared proxies), so gunicorn trusts no one.
"""

forwarded_allow_ips = ""


def post_worker_init(worker) -> None:
    """Each worker, once the app is loaded: import every view (the URLconf) now rather than on the
    first request, then move everything alive into the garbage collector's permanent generation
    (``gc.freeze``). Python's full collections otherwise walk the ~230,000 objects of Django, DRF
    and the app again and again: on the 1,000-symptom list, two a hundred requests at ~7 ms each
    (``docs/performance.md``, "Fourth pass"). The frozen objects are never collected, which is
    what they are: the program."""
    import gc

    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (a property: importing the URLconf is the point)
    gc.freeze()
