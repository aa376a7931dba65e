"""A throwaway PostgreSQL server for the tests and `nexus bench broker`: initdb in a temporary
directory, pg_ctl start on a free loopback port, stop and remove at the end. When running as root (initdb refuses
root) the server runs as the `postgres` system user (or `nobody`) through runuser."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time


class PostgresUnavailable(RuntimeError):
    pass


def _bindir() -> str:
    cands = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    if cands:
        return os.path.dirname(cands[-1])
    found = shutil.which("initdb")
    if found:
        return os.path.dirname(os.path.realpath(found))
    raise PostgresUnavailable("initdb not found: run `make test` (it installs PostgreSQL) or apt-get install postgresql")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    def __init__(self) -> None:
        self.bindir = _bindir()
        self.root = tempfile.mkdtemp(prefix="nexus-pg-")
        self.data = os.path.join(self.root, "data")
        self.log = os.path.join(self.root, "server.log")
        self.port = free_port()
        self.user = None
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            for name in ("postgres", "nobody"):
                try:
                    pw = pwd.getpwnam(name)
                except KeyError:
                    continue
                self.user = name
                os.chown(self.root, pw.pw_uid, pw.pw_gid)
                break
            if self.user is None:
                raise PostgresUnavailable("running as root and neither the postgres nor the nobody user exists")
            self.prefix = ["runuser", "-u", self.user, "--"]

    def _run(self, *args: str, timeout: float = 120) -> None:
        cmd = [*self.prefix, *args]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=self.root)
        if r.returncode != 0:
            log = ""
            if os.path.exists(self.log):
                with open(self.log) as f:
                    log = f.read()[-2000:]
            raise PostgresUnavailable(f"{' '.join(args[:1])} failed ({r.returncode}): {r.stderr.strip()[-1500:]}\n{log}")

    def start(self) -> "PgServer":
        self._run(f"{self.bindir}/initdb", "-D", self.data, "-U", "nexus", "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C")
        opts = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
            f"-c full_page_writes=off -c max_connections=200 -c shared_buffers=64MB"
        )
        self._run(f"{self.bindir}/pg_ctl", "-D", self.data, "-o", opts, "-l", self.log, "-w", "-t", "60", "start")
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        raise PostgresUnavailable("the server started but does not accept connections")

    @property
    def admin_url(self) -> str:
        return f"postgresql://nexus@127.0.0.1:{self.port}/postgres"

    def url(self, dbname: str) -> str:
        return f"postgresql://nexus@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=nexus dbname=postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run(f"{self.bindir}/pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop", timeout=60)
        except Exception:
            pass
        shutil.rmtree(self.root, ignore_errors=True)
