"""The web and worker side of the sandbox process: a few child processes, each used by one thread at a time.

A thread running a pathway step borrows an idle child (or starts one, ~0.1-0.3 s, once per thread),
sends it one request, and waits for the answer with the step's deadline. Past the deadline (plus a
short grace, for the child's own alarm to answer first) the child is killed, reaped and forgotten: the
waiting thread is free again at once, whatever the script was doing. Replies are unpickled with an
allow-list of types, so a child that was somehow taken over cannot make this process run code.
"""

from __future__ import annotations

import atexit
import io
import json
import os
import pickle
import select
import subprocess
import sys
import threading
import time
from typing import IO, TYPE_CHECKING, Any

from .sandbox_child import HEADER, MAX_REPLY_BYTES

if TYPE_CHECKING:
    from .sandbox import StepBudget

# How long after the deadline the child's own SIGALRM may take to answer before the child is killed.
KILL_GRACE = 0.3
STARTUP_TIMEOUT = 30.0
MAX_IDLE = 8

_BOOT = (
    "import sys, json; sys.path[:] = json.loads(sys.argv[1]); "
    "from carepath.engine.sandbox_child import main; main(int(sys.argv[2]))"
)


class ChildStopped(Exception):
    """The child did not answer: `kind` is "time" (killed at the deadline) or "crash" (it died)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class _Deadline(Exception):
    pass


def _child_env() -> dict[str, str]:
    # Nothing from our environment: the database URL and the secret key have no business there.
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}


class _Child:
    def __init__(self, memory_mb: int) -> None:
        self.memory_mb = memory_mb
        paths = [p for p in sys.path if p]  # not "" (the current directory): the child imports only carepath
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-B", "-c", _BOOT, json.dumps(paths), str(memory_mb)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=_child_env(),
            close_fds=True,
            start_new_session=True,
            bufsize=0,
        )
        self.stdin: IO[bytes] = _piped(self.proc.stdin)
        self.stdout: IO[bytes] = _piped(self.proc.stdout)
        self.wfd, self.rfd = self.stdin.fileno(), self.stdout.fileno()
        try:
            if self._read(1, time.monotonic() + STARTUP_TIMEOUT) != b"R":
                raise ChildStopped("crash")
        except (_Deadline, ChildStopped):
            self.kill()
            raise RuntimeError("the pathway sandbox process did not start") from None

    def _read(self, size: int, deadline: float) -> bytes:
        chunks, left = [], size
        while left:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([self.rfd], [], [], wait)[0]:
                raise _Deadline()
            chunk = os.read(self.rfd, min(left, 1 << 20))
            if not chunk:
                raise ChildStopped("crash")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def call(self, request: bytes, deadline: float) -> bytes:
        """Send one request; the reply's bytes. Raises ChildStopped (the child is then dead)."""
        try:
            view = memoryview(HEADER.pack(len(request)) + request)
            while view:
                view = view[os.write(self.wfd, view) :]
            (size,) = HEADER.unpack(self._read(HEADER.size, deadline + KILL_GRACE))
            if size > MAX_REPLY_BYTES + 4096:
                raise ChildStopped("crash")  # not what our child sends
            # The child writes a reply in one go once it has begun: a short wait covers the rest.
            return self._read(size, max(deadline + KILL_GRACE, time.monotonic()) + 5.0)
        except _Deadline:
            self.kill()
            raise ChildStopped("time") from None
        except (ChildStopped, OSError):
            self.kill()
            raise ChildStopped("crash") from None

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for pipe in (self.stdin, self.stdout):
            try:
                pipe.close()
            except OSError:
                pass

    def close(self) -> None:
        """Let an idle child end on its own (end of input), and make sure it has."""
        try:
            self.stdin.close()
            self.proc.wait(timeout=1)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()


def _piped(pipe: IO[bytes] | None) -> IO[bytes]:
    """A pipe of the child's that Popen was asked for (stdin=PIPE, stdout=PIPE): never None."""
    if pipe is None:
        raise RuntimeError("the pathway sandbox process has no pipe")
    return pipe


class _Pool:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[_Child] = []
        self._pid = os.getpid()

    def acquire(self, memory_mb: int) -> tuple[_Child, float]:
        """An idle child for this memory limit, or a new one; and the seconds spent starting it."""
        with self._lock:
            if self._pid != os.getpid():
                # We were forked (a server's worker process): those children belong to the parent process.
                self._idle, self._pid = [], os.getpid()
            while self._idle:
                child = self._idle.pop()
                if child.memory_mb == memory_mb and child.alive():
                    return child, 0.0
                child.kill()
        started = time.monotonic()
        return _Child(memory_mb), time.monotonic() - started

    def release(self, child: _Child) -> None:
        with self._lock:
            if self._pid == os.getpid() and len(self._idle) < MAX_IDLE and child.alive():
                self._idle.append(child)
                return
        child.close()

    def close_all(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        if self._pid == os.getpid():
            for child in idle:
                child.close()


POOL = _Pool()
atexit.register(POOL.close_all)


class _ReplyUnpickler(pickle.Unpickler):
    """Plain data only: a reply naming any other class (a function, a module object) is refused."""

    ALLOWED = {
        ("builtins", "set"),
        ("builtins", "frozenset"),
        ("datetime", "datetime"),
        ("datetime", "date"),
        ("datetime", "time"),
        ("datetime", "timedelta"),
        ("datetime", "timezone"),
        ("decimal", "Decimal"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not plain data")


def run(request_parts: tuple[Any, ...], budget: StepBudget, memory_mb: int) -> tuple[Any, ...]:
    """Run one request in a child: the unpickled reply. Raises ChildStopped.

    `budget.remaining` is what is left of the step's pathway-code time; this request may use all of it and
    spends what it takes. Time spent starting a child is not spent: it is the server's cost, not the pathway
    code's, so the budget is read once the child is ready."""
    child, _spawn_seconds = POOL.acquire(memory_mb)
    seconds = budget.remaining
    if seconds <= 0:
        POOL.release(child)
        raise ChildStopped("time")
    started = time.monotonic()
    deadline = started + seconds
    try:
        reply = child.call(pickle.dumps((*request_parts, seconds), protocol=pickle.HIGHEST_PROTOCOL), deadline)
    finally:
        budget.remaining -= time.monotonic() - started
    try:
        answer: tuple[Any, ...] = _ReplyUnpickler(io.BytesIO(reply)).load()  # the child replies with a tuple
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError):
        answer = ("unsavable",)
    if answer[:2] == ("limit", "memory"):
        child.kill()  # it ends itself after a MemoryError; reap it
    else:
        POOL.release(child)
    return answer
