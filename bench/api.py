"""`make bench`: load the read endpoints of a production-like MediTrack and check the targets.

What it does, in order (run it through `make bench`, which prepares the servers and environment):

1. migrates the benchmark database, empties it and seeds the dataset (``bench/api_seed.py``);
2. mints a JWT for the measured patient;
3. starts the API the production way: gunicorn, 2 sync workers, DEBUG off, on the same
   PostgreSQL and Redis, behind a (simulated) TLS proxy (``X-Forwarded-Proto: https``);
4. per endpoint: one request that must answer 200 (else the endpoint is an error), a short wrk
   warm-up, and the SQL queries one request makes (Django's test client with
   ``CaptureQueriesContext``, in this process, against the same database);
5. in each mode (``--modes``): ``cached``, the production default, and ``cold``, with the per-patient
   read cache off (``READ_CACHE_SECONDS=0``: what the first read after every write costs), each on
   its own gunicorn; ``--rounds`` rounds over the endpoints, each endpoint bracketed by runs of the trivial
   ``GET /api/meta/``: its ratio is its throughput over the mean of the two ceiling runs around
   it, so both sides of the ratio see the same background load on this shared machine. Each
   endpoint keeps its best round (the least disturbed one);
6. prints one table per mode, writes ``bench/results/api.json`` and exits 1 when a target of
   either mode is missed. (There is no user cache to turn off: the user is read on every request.)

Targets are ratios to the trivial endpoint measured in the same run, so a busy machine moves both
sides: see ``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "api.json"
GUNICORN_LOG = ROOT / "bench" / "results" / "api-gunicorn.log"
LUA_REPORT = Path(__file__).with_name("api_wrk.lua")

CONCURRENCY = 8
WORKERS = 2
CEILING = "meta"
P99_OVER_P50_MAX = 10.0
# The API sits behind a TLS-terminating proxy in production (SECURE_PROXY_SSL_HEADER).
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}

# Minimum throughput as a fraction of the trivial endpoint's, measured in the same run.
SINGLE_OBJECT = 0.35
MEDICATIONS_LIST = 0.20
AGGREGATES = 0.15
SYMPTOMS_LIST = 0.03


@dataclass(frozen=True)
class Mode:
    key: str
    label: str
    env: dict[str, str]


MODES = (
    Mode("cached", "cached (READ_CACHE_SECONDS=300, the default)", {"READ_CACHE_SECONDS": "300"}),
    Mode("cold", "cold (READ_CACHE_SECONDS=0: every read computed)", {"READ_CACHE_SECONDS": "0"}),
)


@dataclass(frozen=True)
class Endpoint:
    key: str
    label: str
    path: str
    target: float | None = None  # with the read cache (the "cached" mode)
    cold_target: float | None = None  # without it (the "cold" mode)

    def target_in(self, mode: str) -> float | None:
        return self.cold_target if mode == "cold" else self.target


def endpoints(*, medication_id: int, symptom_id: int) -> list[Endpoint]:
    """Every read endpoint of the issue, by its SPEC path; the trivial one first."""
    return [
        Endpoint(CEILING, "meta (trivial DRF view: the ceiling)", "/api/meta/"),
        Endpoint("profile", "profile", "/api/auth/profile/", SINGLE_OBJECT, 0.60),
        Endpoint("medications_list", "medications list (50)", "/api/medications/", MEDICATIONS_LIST, 0.25),
        Endpoint("medication_detail", "medication detail", f"/api/medications/{medication_id}/", SINGLE_OBJECT, 0.40),
        Endpoint("symptoms_list", "symptoms list (1,000)", "/api/symptoms/", SYMPTOMS_LIST, 0.04),
        Endpoint("symptom_detail", "symptom detail", f"/api/symptoms/{symptom_id}/", SINGLE_OBJECT),
        Endpoint("last_seven_days", "symptoms last_seven_days", "/api/symptoms/last_seven_days/"),
        Endpoint("summary", "symptoms summary", "/api/symptoms/summary/", None, 0.25),
        Endpoint("dashboard", "dashboard?days=30", "/api/dashboard/?days=30", AGGREGATES, 0.12),
        Endpoint("moods_trends", "moods trends?days=30", "/api/moods/trends/?days=30", None, 0.50),
        Endpoint("adherence", "adherence?days=30", "/api/medications/adherence/?days=30", AGGREGATES, 0.12),
        Endpoint("reminders", "reminders history", "/api/medications/reminders/"),
        Endpoint("ai_insights", "AI insights (cached)", "/api/symptoms/ai_insights/?days=7"),
    ]


@dataclass
class Run:
    """One wrk run, as reported by ``api_wrk.lua``."""

    requests: int
    duration_us: int
    bytes: int
    connect_errors: int
    read_errors: int
    write_errors: int
    status_errors: int
    timeouts: int
    p50_us: int
    p90_us: int
    p99_us: int
    max_us: int
    mean_us: float

    @property
    def rps(self) -> float:
        return self.requests / (self.duration_us / 1_000_000) if self.duration_us else 0.0

    @property
    def errors(self) -> int:
        return self.connect_errors + self.read_errors + self.write_errors + self.status_errors + self.timeouts


@dataclass
class Sample:
    """One measured run of an endpoint and the ceiling measured around it (the trivial endpoint's
    mean throughput just before and just after)."""

    run: Run
    ceiling_rps: float | None = None

    @property
    def ratio(self) -> float | None:
        return self.run.rps / self.ceiling_rps if self.ceiling_rps else None


@dataclass
class Result:
    key: str
    label: str
    path: str
    target: float | None
    http_status: int | None = None
    error: str | None = None
    queries: int | None = None
    service_ms: float | None = None
    response_bytes: int | None = None
    samples: list[Sample] = field(default_factory=list)
    best: Sample | None = None
    failures: list[str] = field(default_factory=list)

    @property
    def run(self) -> Run | None:
        return self.best.run if self.best else None

    @property
    def ratio(self) -> float | None:
        return None if self.best is None or self.key == CEILING else self.best.ratio

    @property
    def passed(self) -> bool:
        return not self.failures


_RESULT_LINE = re.compile(r"^BENCH_RESULT (\{.*\})\s*$", re.MULTILINE)


def parse_wrk(output: str) -> Run:
    match = _RESULT_LINE.search(output)
    if match is None:
        raise ValueError(f"wrk printed no BENCH_RESULT line:\n{output[-2000:]}")
    return Run(**json.loads(match.group(1)))


def pick_best(result: Result) -> Sample | None:
    """The least disturbed round: the highest ratio to its own ceiling (the ceiling itself: the
    highest throughput)."""
    if not result.samples:
        return None
    if result.key == CEILING:
        return max(result.samples, key=lambda sample: sample.run.rps)
    return max(result.samples, key=lambda sample: sample.ratio or 0.0)


def evaluate(results: list[Result]) -> bool:
    """Choose each endpoint's best round and list what it misses; True when every endpoint passes."""
    for result in results:
        result.failures = []
        result.best = None if result.error else pick_best(result)
        if result.error:
            result.failures.append(result.error)
            continue
        if result.best is None:
            result.failures.append("not measured")
            continue
        run = result.best.run
        if run.errors:
            result.failures.append(
                f"{run.errors} failed requests under load (status {run.status_errors}, timeouts {run.timeouts}, "
                f"socket {run.connect_errors + run.read_errors + run.write_errors})"
            )
        if result.target is not None:
            if result.ratio is None:
                result.failures.append("no ceiling to compare with (the trivial endpoint failed)")
            elif result.ratio < result.target:
                result.failures.append(f"{percent(result.ratio)} of the ceiling, target ≥ {percent(result.target)}")
        if run.p50_us and run.p99_us > P99_OVER_P50_MAX * run.p50_us:
            result.failures.append(f"p99 {run.p99_us / run.p50_us:.1f}× p50 (max {P99_OVER_P50_MAX:.0f}×)")
    return all(result.passed for result in results)


def percent(value: float) -> str:
    """Whole percents when exact (targets), else one decimal, so 14.6 % never reads as 15 %."""
    return f"{value:.0%}" if abs(value * 100 - round(value * 100)) < 1e-9 else f"{value:.1%}"


def render_table(results: list[Result]) -> str:
    header = ("endpoint", "req/s", "% ceil", "target", "p50 ms", "p99 ms", "SQL", "1 req ms", "result")
    rows = [header]
    for result in results:
        run = result.run
        rows.append(
            (
                result.label,
                f"{run.rps:.0f}" if run else "-",
                percent(result.ratio) if result.ratio is not None else "-",
                f"≥ {percent(result.target)}" if result.target is not None else "",
                f"{run.p50_us / 1000:.1f}" if run else "-",
                f"{run.p99_us / 1000:.1f}" if run else "-",
                "-" if result.queries is None else str(result.queries),
                "-" if result.service_ms is None else f"{result.service_ms:.2f}",
                "ok" if result.passed else "FAIL: " + "; ".join(result.failures),
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(header) - 1)]
    lines = []
    for index, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [
            cell.rjust(width) for cell, width in zip(row[1:-1], widths[1:], strict=True)
        ]
        lines.append("  ".join([*cells, row[-1]]))
        if index == 0:
            lines.append("  ".join("-" * width for width in widths) + "  ------")
    return "\n".join(lines)


def render_markdown(results: list[Result]) -> str:
    """The same table for docs/performance.md."""
    lines = [
        "| endpoint | req/s | % of ceiling | target | p50 ms | p99 ms | SQL/request | 1 request, ms | result |",
        "|---|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for result in results:
        run = result.run
        lines.append(
            "| "
            + " | ".join(
                (
                    f"`{result.path}`",
                    f"{run.rps:.0f}" if run else "-",
                    percent(result.ratio) if result.ratio is not None else "-",
                    f"≥ {percent(result.target)}" if result.target is not None else "-",
                    f"{run.p50_us / 1000:.1f}" if run else "-",
                    f"{run.p99_us / 1000:.1f}" if run else "-",
                    "-" if result.queries is None else str(result.queries),
                    "-" if result.service_ms is None else f"{result.service_ms:.2f}",
                    "ok" if result.passed else "**missed**: " + "; ".join(result.failures),
                )
            )
            + " |"
        )
    return "\n".join(lines)


# --- The server and the load generator --------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_get(url: str, token: str | None, timeout: float = 30.0) -> tuple[int, bytes]:
    headers = dict(PROXY_HEADERS)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (a local http:// URL we built)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class Gunicorn:
    """The API as production runs it (see the Procfile), on a free local port."""

    def __init__(self, workers: int = WORKERS, log_path: Path = GUNICORN_LOG, env: dict | None = None) -> None:
        self.log_path = log_path
        self.env = env or {}
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("w")
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--worker-class",
            "sync",
            "--workers",
            str(self.workers),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--log-level",
            "warning",
        ]
        # Behind the simulated TLS proxy: X-Forwarded-Proto is honoured only from a declared proxy.
        env = {**os.environ, "TRUSTED_PROXY_COUNT": "1", **self.env}
        # Its own process group, so stopping it stops its workers and nothing else.
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log_path}")
            try:
                status, _ = http_get(self.base_url + "/api/meta/", None, timeout=2)
            except OSError:
                status = None
            if status == 200:
                return self
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer within 60 s; see {self.log_path}")

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def settle(self, *, quick: float = 0.05, timeout: float = 60.0) -> None:
        """Wait until the workers are idle again.

        When wrk stops it drops its connections, but requests already queued in the listen
        backlog are still served; the next endpoint would otherwise start behind them. The
        backlog is first in, first out, so a request that comes back quickly, twice in a row,
        means the queue is empty."""
        deadline = time.monotonic() + timeout
        fast = 0
        while fast < 2 and time.monotonic() < deadline:
            started = time.monotonic()
            http_get(self.base_url + "/api/meta/", None)
            fast = fast + 1 if time.monotonic() - started < quick else 0

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


def wrk(url: str, *, token: str, seconds: int) -> Run:
    command = [
        "wrk",
        "--threads",
        "1",
        "--connections",
        str(CONCURRENCY),
        "--duration",
        f"{seconds}s",
        "--timeout",
        "10s",
        "--script",
        str(LUA_REPORT),
        "--header",
        f"Authorization: Bearer {token}",
    ]
    for name, value in PROXY_HEADERS.items():
        command += ["--header", f"{name}: {value}"]
    completed = subprocess.run([*command, url], capture_output=True, text=True, timeout=seconds + 60, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stderr.strip()}")
    return parse_wrk(completed.stdout)


def _client(token: str):
    from django.test import Client

    return Client(
        SERVER_NAME="127.0.0.1",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        **{"HTTP_" + name.upper().replace("-", "_"): value for name, value in PROXY_HEADERS.items()},
    )


def count_queries(path: str, token: str) -> tuple[int, int]:
    """SQL queries and HTTP status of one request, through Django's test client in this process."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = _client(token)
    with warnings.catch_warnings(), CaptureQueriesContext(connection) as captured:
        # WhiteNoise warns once that collectstatic has not run; the API serves no static files.
        warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
        response = client.get(path)
    return len(captured.captured_queries), response.status_code


def service_ms(path: str, token: str, *, budget: float = 1.5, most: int = 25) -> float:
    """Median wall time of one request served in this process, one at a time (no queueing, no
    HTTP): what one request costs, much steadier on a shared machine than throughput."""
    client = _client(token)
    times: list[float] = []
    deadline = time.perf_counter() + budget
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
        while len(times) < most and (len(times) < 3 or time.perf_counter() < deadline):
            started = time.perf_counter()
            client.get(path)
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return times[len(times) // 2]


# --- The run ----------------------------------------------------------------------------------


def prepare_database() -> dict[str, Any]:
    """Migrate, empty and seed the benchmark database; returns what was seeded and a token."""
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User
    from bench.api_seed import Dataset, seed

    call_command("migrate", interactive=False, verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    cache.clear()
    started = time.monotonic()
    seeded = seed(Dataset())
    if connection.vendor == "postgresql":
        # A live database has planner statistics (autovacuum's ANALYZE); a freshly bulk-loaded
        # one does not, and the planner would guess one row per table.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    token = str(AccessToken.for_user(User.objects.get(pk=seeded.patient_id)))
    return {"seeded": seeded, "token": token, "seconds": time.monotonic() - started}


def check_environment(*, allow_embedded: bool) -> list[str]:
    from django.conf import settings
    from django.db import connection

    problems = []
    if shutil.which("wrk") is None:
        problems.append("wrk is not installed (make bench installs it: apt-get install -y wrk)")
    if settings.DEBUG:
        problems.append("DEBUG is on; the benchmark measures the production configuration (DEBUG=0)")
    if not allow_embedded:
        if connection.vendor != "postgresql":
            problems.append("DATABASE_URL must point at PostgreSQL (make bench sets it)")
        if not settings.REDIS_URL:
            problems.append("REDIS_URL must be set (make bench sets it)")
    return problems


def measure(
    targets: list[Endpoint],
    *,
    token: str,
    seconds: int,
    ceiling_seconds: int,
    rounds: int,
    warmup: int,
    mode: Mode = MODES[0],
    log=print,
) -> list[Result]:
    from django.test import override_settings

    results = [Result(key=e.key, label=e.label, path=e.path, target=e.target_in(mode.key)) for e in targets]
    in_process = override_settings(**{name: int(value) for name, value in mode.env.items()})
    with Gunicorn(env=mode.env) as server, in_process:
        log(f"{mode.label}: gunicorn, {server.workers} sync workers on {server.base_url}")

        def load(result: Result, duration: int) -> Run:
            run = wrk(server.base_url + result.path, token=token, seconds=duration)
            server.settle()
            log(
                f"  {result.label:<40} {run.rps:8.0f} req/s  p50 {run.p50_us / 1000:7.1f} ms  "
                f"p99 {run.p99_us / 1000:7.1f} ms" + (f"  ({run.errors} errors)" if run.errors else "")
            )
            return run

        for result in results:
            try:
                status, body = http_get(server.base_url + result.path, token)
            except OSError as error:
                result.error = f"request failed: {error}"
                log(f"  {result.path}: {result.error}")
                continue
            result.http_status, result.response_bytes = status, len(body)
            if status != 200:
                result.error = f"answered HTTP {status} during the warm-up"
                log(f"  {result.path}: HTTP {status} (error)")
                continue
            wrk(server.base_url + result.path, token=token, seconds=warmup)
            server.settle()
            result.queries, _ = count_queries(result.path, token)
            result.service_ms = service_ms(result.path, token)
            log(
                f"  {result.path}: 200, {len(body):,} bytes, {result.queries} SQL queries, "
                f"{result.service_ms:.2f} ms in-process"
            )

        ceiling = next((r for r in results if r.key == CEILING and r.error is None), None)
        if ceiling is None:
            log("the trivial endpoint failed: no ceiling, nothing to compare with")
            return results
        others = [r for r in results if r.key != CEILING and r.error is None]
        for number in range(1, rounds + 1):
            log(f"round {number}/{rounds}: {seconds:g} s per endpoint, {ceiling_seconds:g} s of ceiling around each")
            before = load(ceiling, ceiling_seconds)
            ceiling.samples.append(Sample(before))
            for result in others:
                run = load(result, seconds)
                after = load(ceiling, ceiling_seconds)
                ceiling.samples.append(Sample(after))
                result.samples.append(Sample(run, ceiling_rps=(before.rps + after.rps) / 2))
                before = after
    return results


def _sample_json(sample: Sample) -> dict[str, Any]:
    return {
        "rps": round(sample.run.rps, 1),
        "ceiling_rps": round(sample.ceiling_rps, 1) if sample.ceiling_rps else None,
        "ratio": round(sample.ratio, 4) if sample.ratio is not None else None,
        "p50_ms": sample.run.p50_us / 1000,
        "p99_ms": sample.run.p99_us / 1000,
        "errors": sample.run.errors,
    }


def report(results: list[Result], *, passed: bool) -> dict[str, Any]:
    ceiling = next((r for r in results if r.key == CEILING), None)
    ceiling_runs = sorted(sample.run.rps for sample in ceiling.samples) if ceiling else []
    return {
        "passed": passed,
        "ceiling_rps": {
            "best": round(ceiling_runs[-1], 1) if ceiling_runs else None,
            "median": round(ceiling_runs[len(ceiling_runs) // 2], 1) if ceiling_runs else None,
            "worst": round(ceiling_runs[0], 1) if ceiling_runs else None,
        },
        "endpoints": [
            {
                "key": result.key,
                "label": result.label,
                "path": result.path,
                "passed": result.passed,
                "failures": result.failures,
                "target_ratio": result.target,
                "ratio": round(result.ratio, 4) if result.ratio is not None else None,
                "rps": round(result.run.rps, 1) if result.run else None,
                "p50_ms": result.run.p50_us / 1000 if result.run else None,
                "p90_ms": result.run.p90_us / 1000 if result.run else None,
                "p99_ms": result.run.p99_us / 1000 if result.run else None,
                "max_ms": result.run.max_us / 1000 if result.run else None,
                "sql_queries": result.queries,
                "service_ms": round(result.service_ms, 3) if result.service_ms is not None else None,
                "http_status": result.http_status,
                "response_bytes": result.response_bytes,
                "error": result.error,
                "wrk": asdict(result.run) if result.run else None,
                "samples": [_sample_json(sample) for sample in result.samples],
            }
            for result in results
        ],
    }


def _positive_int(value: str) -> int:
    """wrk takes whole seconds."""
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be a whole number ≥ 1")
    return number


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=_positive_int, default=3, help="wrk duration per endpoint and round")
    parser.add_argument(
        "--ceiling-seconds", type=_positive_int, default=2, help="wrk duration of each run of the trivial endpoint"
    )
    parser.add_argument(
        "--rounds", type=_positive_int, default=3, help="rounds over every endpoint; the best one counts"
    )
    parser.add_argument("--warmup", type=_positive_int, default=1, help="wrk warm-up seconds per endpoint")
    parser.add_argument(
        "--modes", default=",".join(mode.key for mode in MODES), help="comma-separated: cached, cold (default both)"
    )
    parser.add_argument("--only", default="", help="comma-separated endpoint keys (the ceiling is always kept)")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON results")
    parser.add_argument("--markdown", action="store_true", help="also print the table as Markdown")
    parser.add_argument(
        "--allow-embedded", action="store_true", help="allow SQLite / no Redis (development of the harness only)"
    )
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # Behind the simulated TLS proxy, as the gunicorn under test (the in-process measures too).
    os.environ["TRUSTED_PROXY_COUNT"] = "1"
    import django

    django.setup()
    from django.db import connection

    problems = check_environment(allow_embedded=args.allow_embedded)
    if problems:
        for problem in problems:
            print(f"bench: {problem}", file=sys.stderr)
        return 2

    started = time.monotonic()
    load_before = os.getloadavg()
    print("Seeding the benchmark database ...")
    prepared = prepare_database()
    seeded = prepared["seeded"]
    print(f"  seeded in {prepared['seconds']:.1f} s: {seeded.counts}")

    targets = endpoints(medication_id=seeded.medication_id, symptom_id=seeded.symptom_id)
    if args.only:
        wanted = {key.strip() for key in args.only.split(",")} | {CEILING}
        targets = [endpoint for endpoint in targets if endpoint.key in wanted]
    modes = [mode for mode in MODES if mode.key in {key.strip() for key in args.modes.split(",")}]
    by_mode: dict[str, list[Result]] = {}
    verdicts: dict[str, bool] = {}
    for mode in modes:
        by_mode[mode.key] = measure(
            targets,
            token=prepared["token"],
            seconds=args.seconds,
            ceiling_seconds=args.ceiling_seconds,
            rounds=args.rounds,
            warmup=args.warmup,
            mode=mode,
        )
        verdicts[mode.key] = evaluate(by_mode[mode.key])
    passed = all(verdicts.values())

    for mode in modes:
        print(f"\n{mode.label}")
        print(render_table(by_mode[mode.key]))
        if args.markdown:
            print()
            print(render_markdown(by_mode[mode.key]))
    context = {
        "generated_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_before": [round(value, 2) for value in load_before],
            "load_after": [round(value, 2) for value in os.getloadavg()],
        },
        "setup": {
            "server": f"gunicorn, {WORKERS} sync workers, DEBUG off",
            "database": f"{connection.vendor} {getattr(connection, 'pg_version', '')}".strip(),
            "load": f"wrk, 1 thread, {CONCURRENCY} connections, {args.seconds:g} s per endpoint x {args.rounds} rounds "
            f"(best round), {args.ceiling_seconds:g} s of the trivial endpoint around each",
            "p99_over_p50_max": P99_OVER_P50_MAX,
        },
        "dataset": seeded.counts,
        "seconds_total": round(time.monotonic() - started, 1),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    document = {
        **context,
        "passed": passed,
        "modes": {
            mode.key: {"label": mode.label, "env": mode.env, **report(by_mode[mode.key], passed=verdicts[mode.key])}
            for mode in modes
        },
    }
    args.output.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nResults: {args.output}  ({context['seconds_total']:.0f} s)")
    if not passed:
        missed = [f"{r.label} ({key})" for key, results in by_mode.items() for r in results if not r.passed]
        print(f"bench: FAILED: {len(missed)} endpoint(s) missed a target: {', '.join(missed)}", file=sys.stderr)
        return 1
    print("bench: every target met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
