"""Worker processes for the crawl's pure CPU work: extraction, WARC records, dumps.

A Scrapy crawl runs in one thread, and everything Python does in that
process shares one GIL with the reactor that does the fetching. Parsing a
taz page, building the WARC records of an exchange and rendering and writing
a dump are pure functions of bytes and items, so they go to worker processes
instead (``TAZARCHIVE_WORKER_PROCESSES``), and the crawl process only crawls.
With 0 processes, or without the asyncio reactor, the same calls run in the
crawl process itself.

Each worker is a child process (``python -c`` running :func:`serve`) that
reads calls from its stdin and writes results to its stdout, one
length-prefixed pickle each way. The crawl's event loop reads and writes those pipes itself:
no helper threads (``concurrent.futures.ProcessPoolExecutor`` keeps two, and
their pickling competes with the reactor for the GIL).

Only module-level functions of plain data are sent. What the function logs in
the worker comes back with its result and is logged in the crawl process,
under the same logger name, so it lands in Scrapy's log like any other line.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import pickle
import signal
import struct
import subprocess
import sys
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

from scrapy import signals

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

T = TypeVar("T")

STAT_RESTARTS = "tazarchive/workers/restarts"
STAT_CALLS = "tazarchive/workers/calls"

_HEADER = struct.Struct("!Q")  # frame length
_PICKLE_PROTOCOL = 5
_CLOSE_TIMEOUT = 10.0  # seconds a worker gets to finish its calls after the crawl


class WorkerCrashed(RuntimeError):
    """A worker process died twice running the same call (the input kills it)."""


@dataclass(slots=True)
class _Call:
    future: asyncio.Future[Any]
    function: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    attempt: int = 1


@dataclass(eq=False)
class _Worker:
    """One child process, its pipes, and the calls it has not answered yet."""

    process: subprocess.Popen[bytes]
    exited: asyncio.Future[None]  # done when its stdout closed (it exited or died)
    writer: asyncio.WriteTransport | None = None
    pending: dict[int, _Call] = field(default_factory=dict)


class _ResultReader(asyncio.Protocol):
    """Cuts a worker's stdout into frames and hands each to the pool."""

    def __init__(self, pool: WorkerProcesses, worker: _Worker) -> None:
        self.pool = pool
        self.worker = worker
        self.buffer = bytearray()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self.buffer)
            end = _HEADER.size + size
            if len(self.buffer) < end:
                return
            frame = bytes(self.buffer[_HEADER.size : end])
            del self.buffer[:end]
            self.pool._answered(self.worker, frame)

    def connection_lost(self, exc: Exception | None) -> None:
        self.pool._lost(self.worker)


class WorkerProcesses:
    """Run pure functions in ``processes`` worker processes; 0 runs them inline.

    Each worker has at most ``in_flight`` calls sent to it; the others wait in
    this process, calls made with :meth:`run_first` ahead of those made with
    :meth:`run`. (A pipe buffer of waiting calls would be copied over and over
    as it drains, and would keep dump writes behind every page fetched since.)

    A worker that dies (killed, out of memory, a crash in C code) is replaced,
    and each call it had not answered is tried once more on another worker; a
    call whose second try dies too raises :class:`WorkerCrashed`.
    Exceptions the function raises are raised by :meth:`run` as they are.
    Settings: TAZARCHIVE_WORKER_PROCESSES.
    Stats: ``tazarchive/workers/calls``, ``tazarchive/workers/restarts``.
    """

    def __init__(
        self, processes: int, stats: StatsCollector | None = None, *, in_flight: int = 32
    ) -> None:
        if processes < 0:
            raise ValueError(f"processes must be >= 0, not {processes}")
        if in_flight < 1:
            raise ValueError(f"in_flight must be >= 1, not {in_flight}")
        self.processes = processes
        self.stats = stats
        self.in_flight = in_flight
        self._workers: list[_Worker] = []
        self._retired: list[_Worker] = []  # dead ones, reaped at close
        self._first: deque[_Call] = deque()  # waiting calls, sent before _waiting's
        self._waiting: deque[_Call] = deque()
        self._starting: asyncio.Future[None] | None = None
        self._restarting: asyncio.Future[None] | None = None
        self._call_ids = itertools.count()
        self._closed = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler.settings.getint("TAZARCHIVE_WORKER_PROCESSES"), crawler.stats)

    @property
    def inline(self) -> bool:
        return self.processes == 0

    async def run(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``function(*args, **kwargs)`` in a worker process (inline when there are none)."""
        return await self._run(function, args, kwargs, first=False)

    async def run_first(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Like :meth:`run`, but sent ahead of the calls :meth:`run` left waiting.

        For work that lets an item leave the crawl (its dump write): finished
        pages then do not wait behind every page fetched since.
        """
        return await self._run(function, args, kwargs, first=True)

    async def start(self) -> None:
        """Start the worker processes now (else on the first call).

        A worker needs about half a second to import what it runs; started as
        the spider opens, that overlaps the first fetches.
        """
        if not self.inline and not self._closed and running_loop() is not None:
            await self._start_missing()

    async def close(self) -> None:
        """Stop the workers once every call made so far is answered."""
        self._closed = True
        outstanding = [c.future for c in (*self._first, *self._waiting)] + [
            c.future for w in self._workers for c in w.pending.values()
        ]
        if outstanding:
            await asyncio.wait(outstanding, timeout=_CLOSE_TIMEOUT)
        workers, self._workers = self._workers + self._retired, []
        self._retired = []
        for call in (*self._first, *self._waiting):
            call.future.cancel()  # never sent: no worker took them in time
        self._first.clear()
        self._waiting.clear()
        for worker in workers:
            if worker.writer is not None:
                worker.writer.close()  # EOF on its stdin: it exits after its last answer
        exits = [worker.exited for worker in workers if not worker.exited.done()]
        if exits:
            await asyncio.wait(exits, timeout=_CLOSE_TIMEOUT)
        for worker in workers:
            if worker.process.poll() is None and not worker.exited.done():
                worker.process.kill()
            worker.process.wait()

    # --- crawl process side ----------------------------------------------------

    async def _run(
        self, function: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any], first: bool
    ) -> T:
        if self.inline or running_loop() is None:
            # No asyncio loop to read the pipes (another Twisted reactor): run here.
            return function(*args, **kwargs)
        if self._closed:
            raise RuntimeError("the worker processes are closed")
        if len(self._workers) < self.processes:
            await self._start_missing()  # raises if no worker can start: nothing queued
            if self._closed:
                raise RuntimeError("the worker processes are closed")
        call = _Call(asyncio.get_running_loop().create_future(), function, args, kwargs)
        (self._first if first else self._waiting).append(call)
        if self.stats is not None:
            self.stats.inc_value(STAT_CALLS)
        self._dispatch()
        result: T = await call.future
        return result

    def _dispatch(self) -> None:
        """Send waiting calls to workers with room, the least busy first."""
        while self._first or self._waiting:
            worker = min(self._workers, key=lambda w: len(w.pending), default=None)
            if worker is None or len(worker.pending) >= self.in_flight:
                return
            call = (self._first or self._waiting).popleft()
            if not call.future.done():  # not cancelled meanwhile
                self._send(worker, call)

    def _send(self, worker: _Worker, call: _Call) -> None:
        call_id = next(self._call_ids)
        try:
            payload = pickle.dumps(
                (call_id, call.function, call.args, call.kwargs), protocol=_PICKLE_PROTOCOL
            )
        except Exception as error:  # an argument that cannot be sent fails its call alone
            call.future.set_exception(error)
            return
        worker.pending[call_id] = call
        assert worker.writer is not None
        worker.writer.write(_HEADER.pack(len(payload)) + payload)

    async def _start_missing(self) -> None:
        """Start workers until there are ``processes``; concurrent callers wait for one start."""
        if self._starting is None:
            self._starting = asyncio.ensure_future(self._start_workers())
        starting = self._starting
        try:
            await asyncio.shield(starting)
        finally:
            if self._starting is starting and starting.done():
                self._starting = None

    async def _start_workers(self) -> None:
        while len(self._workers) < self.processes and not self._closed:
            self._workers.append(await self._start_worker())
        self._dispatch()

    async def _start_worker(self) -> _Worker:
        process = subprocess.Popen(
            [sys.executable, "-c", _CHILD_MAIN, repr(sys.path), str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            # Its own process group: Ctrl-C reaches the crawl, which ends its
            # workers itself once the calls in flight are answered.
            start_new_session=True,
        )
        assert process.stdin is not None and process.stdout is not None
        loop = asyncio.get_running_loop()
        worker = _Worker(process, loop.create_future())
        worker.writer, _ = await loop.connect_write_pipe(asyncio.Protocol, process.stdin)
        await loop.connect_read_pipe(lambda: _ResultReader(self, worker), process.stdout)
        return worker

    def _answered(self, worker: _Worker, frame: bytes) -> None:
        call_id, ok, value, records = pickle.loads(frame)
        call = worker.pending.pop(call_id, None)
        for record in records:
            logging.getLogger(record.name).handle(record)
        if call is not None and not call.future.done():
            if ok:
                call.future.set_result(value)
            else:
                call.future.set_exception(value)
        self._dispatch()

    def _lost(self, worker: _Worker) -> None:
        """The worker's stdout closed: it exited, or it died."""
        if not worker.exited.done():
            worker.exited.set_result(None)
        if worker.writer is not None:
            worker.writer.close()
        orphans = list(worker.pending.values())
        worker.pending.clear()
        if worker in self._workers:
            self._workers.remove(worker)
            self._retired.append(worker)
        if self._closed:
            for call in orphans:
                call.future.cancel()
            return
        logger.warning(
            "A worker process died (exit status %s) with %d calls unanswered; starting another",
            worker.process.poll(),
            len(orphans),
        )
        if self.stats is not None:
            self.stats.inc_value(STAT_RESTARTS)
        for call in reversed(orphans):  # ahead of all waiting calls, in their order
            if call.future.done():
                continue
            if call.attempt >= 2:
                name = getattr(call.function, "__name__", repr(call.function))
                call.future.set_exception(
                    WorkerCrashed(f"a worker process died twice running {name}")
                )
                continue
            call.attempt += 1
            self._first.appendleft(call)
        if self._first or self._waiting:
            # The loop keeps only weak references to tasks: the future does.
            self._restarting = asyncio.ensure_future(self._start_missing())
            self._restarting.add_done_callback(self._restarted)

    def _restarted(self, task: asyncio.Future[None]) -> None:
        error = None if task.cancelled() else task.exception()
        if error is None or self._workers:
            return
        # No worker runs and none starts: the waiting calls fail instead of hanging.
        logger.error("Could not start a worker process: %s", error)
        while self._first or self._waiting:
            call = (self._first or self._waiting).popleft()
            if not call.future.done():
                call.future.set_exception(error)


def running_loop() -> asyncio.AbstractEventLoop | None:
    """The running asyncio loop; None under another Twisted reactor (or none at all)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


# --- worker process side ---------------------------------------------------------

# Run with the crawl process's sys.path (argv[1]): a scrapyd egg is on it only there.
_CHILD_MAIN = (
    "import ast, sys; sys.path[:0] = ast.literal_eval(sys.argv[1]); "
    "from tazarchive.workers import serve; serve(parent=int(sys.argv[2]))"
)


def serve(
    stdin: BinaryIO | None = None, stdout: BinaryIO | None = None, *, parent: int | None = None
) -> None:
    """A worker's loop: answer calls from ``stdin`` on ``stdout`` until stdin ends.

    Stops before the next call once ``parent`` (the crawl's pid) is gone: calls
    still in the pipe from a killed crawl must not write beside the next run.
    """
    handler = _RecordList()
    if stdin is None or stdout is None:
        stdin = sys.stdin.buffer
        # Frames go to a copy of fd 1; fd 1 itself becomes stderr, so a stray
        # print() in some library cannot corrupt a frame.
        stdout = os.fdopen(os.dup(1), "wb")
        os.dup2(2, 1)
        # Ctrl-C, or a service manager's SIGTERM to the whole group, is for the
        # crawl: it ends its workers itself after their last answer (and a
        # worker whose crawl died sees its stdin end, or its parent change).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        root = logging.getLogger()
        root.handlers[:] = [handler]
        root.setLevel(logging.DEBUG)
    while True:
        header = stdin.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return  # the crawl closed our stdin: done
        (size,) = _HEADER.unpack(header)
        payload = stdin.read(size)
        if parent is not None and os.getppid() != parent:
            return  # the crawl was killed: nobody waits for this answer
        call_id, function, args, kwargs = pickle.loads(payload)
        handler.records = []
        try:
            answer = (call_id, True, function(*args, **kwargs), handler.records)
        except Exception as error:
            answer = (call_id, False, error, handler.records)
        try:
            frame = pickle.dumps(answer, protocol=_PICKLE_PROTOCOL)
        except Exception as error:  # an unpicklable result or exception
            failure = RuntimeError(f"{type(error).__name__}: {error} ({answer[2]!r})")
            frame = pickle.dumps((call_id, False, failure, handler.records))
        stdout.write(_HEADER.pack(len(frame)) + frame)
        stdout.flush()


class _RecordList(logging.Handler):
    """Keeps a worker call's log records, made picklable, to send back."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args, record.exc_info = record.getMessage(), None, None
        self.records.append(record)


# --- one pool per crawler ------------------------------------------------------

_crawler_workers: weakref.WeakKeyDictionary[Crawler, WorkerProcesses] = weakref.WeakKeyDictionary()


def crawler_workers(crawler: Crawler) -> WorkerProcesses:
    """The crawler's worker processes, shared by its spider and pipelines.

    Started when the spider opens, stopped when the engine stops (after the last item).
    """
    workers = _crawler_workers.get(crawler)
    if workers is None:
        workers = WorkerProcesses.from_crawler(crawler)
        _crawler_workers[crawler] = workers

        async def close_workers() -> None:
            _crawler_workers.pop(crawler, None)
            await workers.close()

        async def start_workers() -> None:
            await workers.start()

        crawler.signals.connect(start_workers, signal=signals.spider_opened, weak=False)
        crawler.signals.connect(close_workers, signal=signals.engine_stopped, weak=False)
    return workers
