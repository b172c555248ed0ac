"""Gunicorn settings, read by every ``gunicorn`` started from the repository root (the Procfile's
``web`` process, ``make bench``, the tests' servers).

Gunicorn by default believes ``X-Forwarded-Proto`` from 127.0.0.1 and marks such a request HTTPS
itself, before Django sees it: a client talking plain HTTP through a local proxy that passes the
header on would skip the HTTPS redirect. The app decides instead (``TRUSTED_PROXY_COUNT`` in
settings: ``SECURE_PROXY_SSL_HEADER`` only behind declared proxies), so gunicorn trusts no one.
"""

forwarded_allow_ips = ""
