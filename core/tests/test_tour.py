"""The README tour, run as a newcomer runs it: `make run` on the embedded default (a fresh
SQLite file, no server), then `scripts/tour.sh` against it, then Ctrl-C.

Also what `make run` shows meanwhile: one console line per request (successes included, a 4xx
once), and a clean stop (no "Terminated", no make "wait: No child processes").
"""

from __future__ import annotations

import os
import re
import signal
import subprocess

import pytest

from core.tests.servers import BASE_DIR, free_port, port_open, spawn, stop_process, wait_for

pytestmark = pytest.mark.integration

START_TIMEOUT = 300  # seconds: migrations and four processes on a loaded machine; only a broken build waits this long


@pytest.fixture
def make_run(tmp_path):
    port = free_port()
    # The embedded default, as after a fresh clone: no DATABASE_URL or REDIS_URL.
    inherited = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")}
    env = {
        **inherited,
        "PORT": str(port),
        "WS_PORT": str(free_port()),
        "MEDITRACK_VAR_DIR": str(tmp_path / "var"),
        "DEBUG": "1",
        "LOG_LEVEL": "INFO",
    }
    process = spawn(
        ["make", "--no-print-directory", "run", f"PORT={port}"], cwd=BASE_DIR, env=env, start_new_session=True
    )
    try:
        if not wait_for(lambda: port_open(port) or process.poll() is not None, timeout=START_TIMEOUT):
            pytest.fail("make run did not start: " + stop_process(process))
        assert process.poll() is None, stop_process(process)
        yield process, f"http://127.0.0.1:{port}", env
    finally:
        if process.poll() is None:
            # Ctrl-C first: scripts/run.sh stops the processes it started in their own groups,
            # which a kill of make's group would not reach.
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)


def _output(process) -> str:
    log = process.log_file
    return os.pread(log.fileno(), os.fstat(log.fileno()).st_size, 0).decode(errors="replace")


def test_the_tour_runs_against_make_run_and_ctrl_c_stops_it_cleanly(make_run):
    process, base, env = make_run
    # The tour's machine 14 hours ahead of UTC: its own date is often the patient's tomorrow
    # (Europe/Lisbon), which a symptom "today" must not be.
    tour = subprocess.run(
        ["bash", "scripts/tour.sh", base],
        cwd=BASE_DIR,
        env={**env, "TZ": "Etc/GMT-14"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert tour.returncode == 0, tour.stdout[-3000:] + tour.stderr[-3000:]
    assert "Tour complete" in tour.stdout
    assert "%PDF" not in tour.stdout and "report:" in tour.stdout

    # The banner with the URL appears once the web server is up (after runserver's own start
    # line), not while migrations and the other processes are still starting.
    assert wait_for(lambda: "MediTrack on http://127.0.0.1:" in _output(process), timeout=60)
    output = _output(process)
    assert output.index("MediTrack on http://127.0.0.1:") > output.index("Starting development server")

    # One line per request, successful ones too; a 4xx once.
    subprocess.run(["curl", "-s", "-o", "/dev/null", f"{base}/api/medications/"], timeout=60, check=False)
    assert wait_for(lambda: '"GET /api/medications/ HTTP/1.1" 401' in _output(process), timeout=60)
    output = _output(process)
    assert len(re.findall(r'"POST /api/auth/register/ HTTP/1.1" 201', output)) == 2
    assert len(re.findall(r"/api/medications/ HTTP/1.1\" 401|Unauthorized: /api/medications/", output)) == 1

    # Ctrl-C: the terminal sends SIGINT to the foreground process group.
    os.killpg(process.pid, signal.SIGINT)
    process.wait(timeout=120)
    output = _output(process)
    assert "MediTrack stopped" in output
    for noise in ("Terminated", "No child processes", "make: ***"):
        assert noise not in output, output[-3000:]
