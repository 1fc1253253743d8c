"""The worker processes: calls, errors, logs, crashes, shutdown."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import pickle
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.test import get_crawler

from tazarchive.workers import (
    _HEADER,
    STAT_RESTARTS,
    WorkerCrashed,
    WorkerProcesses,
    crawler_workers,
    serve,
)

# --- functions the workers run (module level: they are sent by name) ----------


def pid_and_sum(*numbers: int) -> tuple[int, int]:
    return os.getpid(), sum(numbers)


def fail_with(message: str) -> None:
    raise ValueError(message)


def log_warning(message: str) -> str:
    logging.getLogger("tazarchive.test_workers").warning("worker says %s", message)
    return message


def die_once(marker: str) -> str:
    """Kills its process the first time (no marker file yet), answers the second."""
    path = Path(marker)
    if not path.exists():
        path.write_text("died")
        os._exit(9)
    return "second try"


def always_die() -> None:
    os._exit(9)


def unpicklable_result() -> Any:
    return lambda: None


# --- helpers ------------------------------------------------------------------------


def with_workers(
    processes: int,
    test: Callable[[WorkerProcesses], Awaitable[Any]],
    stats: Any = None,
    in_flight: int = 2,
) -> Any:
    """Run ``test`` on a fresh pool inside an asyncio loop, closing the pool after."""

    async def main() -> Any:
        workers = WorkerProcesses(processes, stats, in_flight=in_flight)
        try:
            return await test(workers)
        finally:
            await workers.close()

    return asyncio.run(main())


def read_answers(data: bytes) -> list[tuple[int, bool, Any, list[logging.LogRecord]]]:
    answers = []
    while data:
        (size,) = _HEADER.unpack_from(data)
        answers.append(pickle.loads(data[_HEADER.size : _HEADER.size + size]))
        data = data[_HEADER.size + size :]
    return answers


class Stats:
    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def inc_value(self, key: str, count: int = 1) -> None:
        self.values[key] = self.values.get(key, 0) + count


# --- tests --------------------------------------------------------------------------


def test_calls_run_in_another_process_and_return_their_results() -> None:
    async def test(workers: WorkerProcesses) -> list[tuple[int, int]]:
        return list(await asyncio.gather(*(workers.run(pid_and_sum, n, 10) for n in range(20))))

    results = with_workers(2, test)
    assert [total for _, total in results] == [n + 10 for n in range(20)]
    pids = {pid for pid, _ in results}
    assert os.getpid() not in pids
    assert len(pids) == 2  # spread over both workers


def test_zero_processes_run_calls_in_the_calling_process() -> None:
    async def test(workers: WorkerProcesses) -> tuple[int, int]:
        return await workers.run(pid_and_sum, 1, 2)

    assert with_workers(0, test) == (os.getpid(), 3)


def test_without_a_running_asyncio_loop_calls_run_inline() -> None:
    # Another Twisted reactor drives coroutines itself: there are no pipes to read.
    workers = WorkerProcesses(1)
    call = workers.run(pid_and_sum, 4, 5)
    with pytest.raises(StopIteration) as done:
        call.send(None)
    assert done.value.value == (os.getpid(), 9)


def test_an_exception_in_the_worker_is_raised_by_run() -> None:
    async def test(workers: WorkerProcesses) -> None:
        await workers.run(fail_with, "kaputt")

    with pytest.raises(ValueError, match="kaputt"):
        with_workers(1, test)


def test_an_unpicklable_result_fails_the_call_not_the_worker() -> None:
    async def test(workers: WorkerProcesses) -> tuple[str, tuple[int, int]]:
        with pytest.raises(RuntimeError, match="lambda") as failed:
            await workers.run(unpicklable_result)
        return str(failed.value), await workers.run(pid_and_sum, 1)

    _, (pid, total) = with_workers(1, test)
    assert total == 1 and pid != os.getpid()


def test_log_records_of_a_call_are_logged_in_the_calling_process(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def test(workers: WorkerProcesses) -> str:
        return await workers.run(log_warning, "hallo")

    with caplog.at_level(logging.WARNING, logger="tazarchive.test_workers"):
        assert with_workers(1, test) == "hallo"
    [record] = [r for r in caplog.records if r.name == "tazarchive.test_workers"]
    assert record.getMessage() == "worker says hallo"
    assert record.levelno == logging.WARNING


def test_a_worker_that_dies_is_replaced_and_its_call_tried_again(tmp_path: Path) -> None:
    stats = Stats()

    async def test(workers: WorkerProcesses) -> str:
        return await workers.run(die_once, str(tmp_path / "marker"))

    assert with_workers(1, test, stats) == "second try"
    assert stats.values[STAT_RESTARTS] == 1


def test_a_call_that_kills_its_worker_twice_raises_worker_crashed() -> None:
    async def test(workers: WorkerProcesses) -> tuple[int, int]:
        with pytest.raises(WorkerCrashed, match="always_die"):
            await workers.run(always_die)
        return await workers.run(pid_and_sum, 2, 3)  # the pool still works

    assert with_workers(1, test)[1] == 5


def test_close_answers_the_calls_in_flight_then_ends_the_processes() -> None:
    async def test(workers: WorkerProcesses) -> None:
        await workers.start()
        calls = [asyncio.ensure_future(workers.run(pid_and_sum, n)) for n in range(50)]
        await asyncio.sleep(0)  # the calls are sent
        processes = [worker.process for worker in workers._workers]
        await workers.close()
        assert [call.result()[1] for call in calls] == list(range(50))
        assert all(process.poll() is not None for process in processes)
        with pytest.raises(RuntimeError, match="closed"):
            await workers.run(pid_and_sum, 1)

    with_workers(1, test)


def test_a_worker_whose_crawl_is_gone_answers_no_more_calls() -> None:
    frame = pickle.dumps((0, pid_and_sum, (1, 2), {}))
    calls = io.BytesIO((_HEADER.pack(len(frame)) + frame) * 2)
    answers = io.BytesIO()
    serve(calls, answers, parent=os.getppid())  # the right parent: both answered
    assert [(ok, value[1]) for _, ok, value, _ in read_answers(answers.getvalue())] == [
        (True, 3),
        (True, 3),
    ]
    calls.seek(0)
    orphaned = io.BytesIO()
    serve(calls, orphaned, parent=os.getppid() + 1_000_000)  # a parent that is not ours
    assert orphaned.getvalue() == b""


def test_the_crawler_shares_one_pool_sized_by_its_setting() -> None:
    crawler = get_crawler(settings_dict={"TAZARCHIVE_WORKER_PROCESSES": 3})
    workers = crawler_workers(crawler)
    assert workers is crawler_workers(crawler)
    assert workers.processes == 3


def test_a_worker_that_cannot_start_fails_the_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", "/nonexistent/python3")

    async def test(workers: WorkerProcesses) -> None:
        await workers.run(pid_and_sum, 1)

    with pytest.raises(FileNotFoundError):
        with_workers(1, test)


def test_workers_import_from_the_sys_path_the_crawl_has(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # scrapyd puts the project's egg on sys.path at run time, not in PYTHONPATH.
    (tmp_path / "only_on_sys_path.py").write_text("def origin():\n    return __file__\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("PYTHONPATH", raising=False)
    import only_on_sys_path

    async def test(workers: WorkerProcesses) -> str:
        return await workers.run(only_on_sys_path.origin)

    assert with_workers(1, test) == str(tmp_path / "only_on_sys_path.py")


def test_a_negative_process_count_is_refused() -> None:
    with pytest.raises(ValueError, match="processes"):
        WorkerProcesses(-1)


_CALLS_RUN: list[str] = []  # in the worker process: the order calls ran in


def record_call(name: str, seconds: float = 0.0) -> list[str]:
    time.sleep(seconds)
    _CALLS_RUN.append(name)
    return list(_CALLS_RUN)


def test_run_first_calls_overtake_the_calls_waiting_to_be_sent() -> None:
    async def test(workers: WorkerProcesses) -> list[str]:
        await workers.start()
        busy = asyncio.ensure_future(workers.run(record_call, "busy", 0.3))
        later = [asyncio.ensure_future(workers.run(record_call, f"page{n}")) for n in range(3)]
        await asyncio.sleep(0.05)  # all four wait or run; now a dump write arrives
        first = asyncio.ensure_future(workers.run_first(record_call, "dump"))
        await asyncio.gather(busy, first, *later)
        return later[-1].result()

    assert with_workers(1, test, in_flight=1) == ["busy", "dump", "page0", "page1", "page2"]


def test_no_worker_gets_more_calls_than_in_flight_at_once() -> None:
    async def test(workers: WorkerProcesses) -> list[int]:
        await workers.start()
        calls = [asyncio.ensure_future(workers.run(pid_and_sum, n)) for n in range(40)]
        await asyncio.sleep(0)
        sent = [len(worker.pending) for worker in workers._workers]
        await asyncio.gather(*calls)
        return sent

    assert with_workers(2, test, in_flight=3) == [3, 3]
