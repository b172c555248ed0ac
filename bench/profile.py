"""`make bench-profile`: where the time of one uncached request goes, endpoint by endpoint.

Each request goes through the WSGI application gunicorn runs (every middleware, DRF, the view,
the renderer), in this process, one at a time, on the benchmark database seeded by ``make
bench`` (``--seed`` seeds it first). The read cache is off (``READ_CACHE_SECONDS=0``). Time is
attributed to the innermost of these parts that is running (so the parts add up to the whole):

- ``sql``: the database driver (execute and fetch);
- ``orm``: building SQL and turning rows into objects or dicts;
- ``auth``: DRF authentication (the JWT check and loading the user);
- ``perms``: permissions and throttles; ``negotiation``: content negotiation;
- ``filters``: the filter backends (django-filter's form, search, ordering);
- ``serialize``: serializers' ``.data``; ``render``: the JSON renderer;
- ``view``: the rest of DRF's dispatch and the view (selectors' Python, the read cache);
- ``django``: the rest: middleware, URL resolving, the WSGI request and response.

Two clocks (``--clock``): ``cpu`` (default), this process's CPU time, which is what the Python
side of a request costs whatever else the machine is doing; ``wall``, elapsed time, which adds
the waits (PostgreSQL, Redis) and swings with the machine's load. ``trips`` counts the round
trips to PostgreSQL (queries and connection health checks) and Redis per request.

``--cprofile KEY`` prints cProfile's top functions for one endpoint.

``--load SECONDS`` measures instead what one request costs the whole machine under ``make
bench``'s load: gunicorn as the benchmark starts it (cold mode), wrk on each endpoint for that
long, and the CPU time of the gunicorn workers (Python, and gunicorn's own HTTP handling and
a connection per request), of the benchmark database's PostgreSQL backends and of wrk, per
request. The machine's 2 vCPUs are shared by all three, so an endpoint's ratio to the ceiling is
about the ceiling's total over the endpoint's: a steadier figure than req/s on a busy machine.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import resource
import runpy
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

PARTS = ("sql", "orm", "auth", "perms", "negotiation", "filters", "serialize", "render", "view", "django")


class Attribution:
    """Exclusive time per part: a stack of running parts; a part's time excludes its children."""

    def __init__(self, clock: Callable[[], float] = time.thread_time) -> None:
        self.clock = clock
        self.totals: dict[str, float] = defaultdict(float)
        self.stack: list[list] = []  # [part, started, child_time]
        self.trips = 0

    def count(self, owner: object, name: str) -> None:
        original = owner.__dict__[name]
        attribution = self

        def counted(*args, **kwargs):
            attribution.trips += 1
            return original(*args, **kwargs)

        setattr(owner, name, counted)

    def wrap(self, owner: object, name: str, part: str) -> None:
        original = owner.__dict__[name]
        is_property = isinstance(original, property)
        function = original.fget if is_property else original
        attribution = self

        def timed(*args, **kwargs):
            attribution.stack.append([part, attribution.clock(), 0.0])
            try:
                return function(*args, **kwargs)
            finally:
                entry = attribution.stack.pop()
                elapsed = attribution.clock() - entry[1]
                attribution.totals[entry[0]] += elapsed - entry[2]
                if attribution.stack:
                    attribution.stack[-1][2] += elapsed

        timed.__wrapped__ = function
        setattr(owner, name, property(timed) if is_property else timed)


def instrument(attribution: Attribution) -> None:
    from django.core.handlers.wsgi import WSGIHandler
    from django.db.backends import utils
    from django.db.models import query
    from django.db.models.sql import compiler
    from rest_framework import generics, request, response, serializers, views

    attribution.wrap(WSGIHandler, "__call__", "django")
    attribution.wrap(views.APIView, "dispatch", "view")
    attribution.wrap(request.Request, "_authenticate", "auth")
    attribution.wrap(views.APIView, "check_permissions", "perms")
    attribution.wrap(views.APIView, "check_throttles", "perms")
    attribution.wrap(views.APIView, "perform_content_negotiation", "negotiation")
    attribution.wrap(generics.GenericAPIView, "filter_queryset", "filters")
    attribution.wrap(serializers.Serializer, "data", "serialize")
    attribution.wrap(serializers.ListSerializer, "data", "serialize")
    attribution.wrap(response.Response, "rendered_content", "render")
    attribution.wrap(query.QuerySet, "_fetch_all", "orm")
    attribution.wrap(compiler.SQLCompiler, "execute_sql", "orm")
    attribution.wrap(utils.CursorWrapper, "execute", "sql")
    attribution.wrap(utils.CursorWrapper, "executemany", "sql")
    from core import prepared

    # core.prepared's reads that nothing watches skip Django's cursor for the driver's own.
    attribution.wrap(prepared, "_driver_fetchall", "sql")
    from django.db import connections
    from django.db.backends.postgresql.base import DatabaseWrapper as StockPostgreSQL
    from redis.connection import AbstractConnection

    attribution.count(utils.CursorWrapper, "execute")
    attribution.count(prepared, "_driver_fetchall")
    if type(connections["default"]) is StockPostgreSQL:  # its health check sends SELECT 1
        attribution.count(StockPostgreSQL, "is_usable")
    attribution.count(AbstractConnection, "send_packed_command")
    # Rows are fetched by the compiler through the driver's cursor (C code): the compiler's
    # results_iter/fetchmany time counts as "orm"; psycopg2 decodes in C during the fetch.


def wsgi_get(application, path: str, token: str) -> tuple[int, bytes]:
    from bench.api import PROXY_HEADERS

    path_info, _, query_string = path.partition("?")
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path_info,
        "QUERY_STRING": query_string,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        **{"HTTP_" + name.upper().replace("-", "_"): value for name, value in PROXY_HEADERS.items()},
    }
    status: list[str] = []
    body = b"".join(application(environ, lambda s, headers, exc_info=None: status.append(s)))
    return int(status[0].split()[0]), body


def profile_endpoint(application, path: str, token: str, *, requests: int, attribution: Attribution) -> dict:
    for _ in range(20):  # warm: connections, imports, caches of compiled things
        code, _body = wsgi_get(application, path, token)
        if code != 200:
            raise RuntimeError(f"{path} answered {code}")
    attribution.totals.clear()
    attribution.trips = 0
    for _ in range(requests):
        wsgi_get(application, path, token)
    parts = {part: attribution.totals.get(part, 0.0) / requests * 1000 for part in PARTS}
    return {"total_ms": sum(parts.values()), **parts, "trips": attribution.trips / requests}


def cprofile(application, path: str, token: str, *, requests: int, top: int) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        wsgi_get(application, path, token)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def _process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process so far (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # the finished children: the wrk runs
    return usage.ru_utime + usage.ru_stime


def machine_cpu(targets, token: str, *, seconds: int) -> list[tuple]:
    """Per endpoint: req/s and CPU ms per request of the workers, PostgreSQL and wrk, under wrk."""
    from django.db import connection

    from bench.api import Gunicorn, wrk

    rows = []
    with Gunicorn(env={"READ_CACHE_SECONDS": "0"}) as server:
        pgrep = subprocess.run(["pgrep", "-P", str(server.process.pid)], capture_output=True, text=True, check=False)
        workers = [int(pid) for pid in pgrep.stdout.split()]
        for endpoint in targets:
            url = server.base_url + endpoint.path
            wrk(url, token=token, seconds=1)  # warm: every worker connected and past its first request
            server.settle()
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
                backends = [row[0] for row in cursor.fetchall()]
            before = [sum(map(_process_cpu, workers)), sum(map(_process_cpu, backends)), _children_cpu()]
            run = wrk(url, token=token, seconds=seconds)
            if run.errors:
                raise RuntimeError(f"{endpoint.path}: {run.errors} of {run.requests} requests failed under wrk")
            server.settle()  # the backlog wrk left is served, and counted
            after = [sum(map(_process_cpu, workers)), sum(map(_process_cpu, backends)), _children_cpu()]
            requests = max(run.requests, 1)
            rows.append((endpoint, run.rps, *((b - a) / requests * 1000 for a, b in zip(before, after, strict=True))))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", action="store_true", help="migrate and seed the benchmark database first")
    parser.add_argument("--requests", type=int, default=200, help="requests per endpoint")
    parser.add_argument("--only", default="", help="comma-separated endpoint keys")
    parser.add_argument("--cprofile", default="", help="an endpoint key: print cProfile's top functions for it")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu", help="what a millisecond is (see above)")
    parser.add_argument("--load", type=int, default=0, metavar="SECONDS", help="CPU per request under wrk (see above)")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["READ_CACHE_SECONDS"] = "0"
    os.environ["TRUSTED_PROXY_COUNT"] = "1"  # behind the simulated TLS proxy, as in make bench
    import django

    django.setup()
    from django.core.wsgi import get_wsgi_application
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User
    from bench.api import CEILING, endpoints, prepare_database
    from bench.api_seed import MEASURED_USERNAME
    from medications.models import Medication
    from symptoms.models import Symptom

    if args.seed:
        prepare_database()
    patient = User.objects.get(username=MEASURED_USERNAME)
    token = str(AccessToken.for_user(patient))
    targets = endpoints(
        medication_id=Medication.objects.filter(patient=patient).order_by("id").values_list("id", flat=True).first(),
        symptom_id=Symptom.objects.filter(patient=patient).order_by("id").values_list("id", flat=True).first(),
    )
    if args.only:
        wanted = {key.strip() for key in args.only.split(",")} | {CEILING}
        targets = [endpoint for endpoint in targets if endpoint.key in wanted]
    application = get_wsgi_application()
    # As each gunicorn worker starts (gunicorn.conf.py): the URLconf loaded, the program frozen
    # out of the garbage collector's full collections.
    runpy.run_path(str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py"))["post_worker_init"](None)

    if args.load:
        rows = machine_cpu(targets, token, seconds=args.load)
        ceiling = next(sum(row[2:]) for row in rows if row[0].key == CEILING)
        columns = ("req/s", "workers ms", "postgres ms", "wrk ms", "total ms", "ceiling / total")
        if args.markdown:
            print("| endpoint | " + " | ".join(columns) + " |")
            print("|---|" + "--:|" * len(columns))
        else:
            print(f"{'endpoint':<40}" + "".join(f"{c:>16}" for c in columns))
        for endpoint, rps, *parts in rows:
            total = sum(parts)
            values = [f"{rps:.0f}", *(f"{part:.2f}" for part in parts), f"{total:.2f}", f"{ceiling / total:.1%}"]
            if args.markdown:
                print(f"| {endpoint.label} | " + " | ".join(values) + " |")
            else:
                print(f"{endpoint.label:<40}" + "".join(f"{value:>16}" for value in values))
        return 0

    if args.cprofile:
        endpoint = next(e for e in targets if e.key == args.cprofile)
        for _ in range(20):
            wsgi_get(application, endpoint.path, token)
        print(cprofile(application, endpoint.path, token, requests=args.requests, top=args.top))
        return 0

    attribution = Attribution(time.thread_time if args.clock == "cpu" else time.perf_counter)
    instrument(attribution)
    rows = []
    for endpoint in targets:
        rows.append(
            (
                endpoint,
                profile_endpoint(application, endpoint.path, token, requests=args.requests, attribution=attribution),
            )
        )
    columns = ("total_ms", *PARTS, "trips")
    if args.markdown:
        print("| endpoint | " + " | ".join(c.replace("_ms", " ms") for c in columns) + " |")
        print("|---|" + "--:|" * len(columns))
        for endpoint, parts in rows:
            print(f"| {endpoint.label} | " + " | ".join(f"{parts[c]:.2f}" for c in columns) + " |")
    else:
        print(f"{'endpoint':<40}" + "".join(f"{c.replace('_ms', ''):>12}" for c in columns))
        for endpoint, parts in rows:
            print(f"{endpoint.label:<40}" + "".join(f"{parts[c]:>12.2f}" for c in columns))
    return 0


if __name__ == "__main__":
    sys.exit(main())
