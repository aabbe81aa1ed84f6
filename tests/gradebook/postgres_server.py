"""A throw-away PostgreSQL server for the tests (session fixture `postgres_url`).

initdb into a fresh temp dir, start `postgres` listening on a unix socket in that
dir and a free localhost port, create a database, yield its SQLAlchemy URL, stop.
As root the server runs as the `postgres` OS user (postgres refuses to run as root).
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


def _bin_dir() -> Path | None:
    override = os.environ.get("GRADER_TEST_PG_BIN")
    candidates = [override] if override else sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for candidate in candidates:
        if candidate and all((Path(candidate) / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    bin_dir = _bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found under "
                    "/usr/lib/postgresql/*/bin; run scripts/system-deps.sh as root to install them")
    prefix: list[str] = []
    base = Path(tempfile.mkdtemp(prefix="grader-pg-"))
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(base, ignore_errors=True)
            pytest.skip("running as root but there is no `postgres` OS user to run the server as")
        runuser = shutil.which("runuser")
        if runuser is None:
            shutil.rmtree(base, ignore_errors=True)
            pytest.skip("running as root but `runuser` is missing (needed to start postgres as its user)")
        os.chown(base, account.pw_uid, account.pw_gid)
        prefix = [runuser, "-u", "postgres", "--"]
    data, log = base / "data", base / "server.log"
    port = _free_port()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=120, cwd=base)

    init = run(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
               "--encoding=UTF8", "--no-sync")
    if init.returncode:
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"initdb failed:\n{init.stdout}\n{init.stderr}")
    options = f"-k {base} -p {port} -h 127.0.0.1 -F -c fsync=off -c full_page_writes=off"
    start = run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w",
                "-t", "60", "start")
    if start.returncode:
        server_log = log.read_text() if log.exists() else ""
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"postgres did not start:\n{start.stdout}\n{start.stderr}\n{server_log}")
    try:
        import psycopg

        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(host=str(base), port=port, user="postgres", dbname="postgres",
                                     autocommit=True) as conn:
                    conn.execute("CREATE DATABASE grader_test")
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield f"postgresql+psycopg://postgres@/grader_test?host={base}&port={port}"
    finally:
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)
