"""Group commit for single submissions: reports posted at the same moment share a transaction.

Each POST still gets its own answer (created, the original receipt, or 409), but a handful of
committers turn a burst of concurrent POSTs into a few statements (`store.submit`: one statement
stores a whole batch, atomic on its own) instead of a transaction each.
"""

from __future__ import annotations

import asyncio

import asyncpg

from warroom_reporting import store
from warroom_reporting.models import Receipt, ReportIn
from warroom_shared import tracing
from warroom_shared.http import Problem

Outcome = tuple[Receipt, bool]
# a `store.Submission` (its trace headers: the committers run in tasks of their own, outside
# the request's context), and its answer
Pending = tuple[ReportIn, str, str, dict[str, str], "asyncio.Future[Outcome]"]


class SubmitBatcher:
    def __init__(
        self, pool: asyncpg.Pool, *, committers: int = 4, max_batch: int = 64, linger: float = 0.001
    ) -> None:
        self._pool = pool
        self._committers = committers
        self._max_batch = max_batch
        self._linger = linger
        self._pending: list[Pending] = []
        self._wake = asyncio.Condition()
        self._stopping = False

    async def submit(self, report: ReportIn, province_code: str, account: str) -> Outcome:
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        trace = tracing.propagation_headers()
        self._pending.append((report, province_code, account, trace, future))
        async with self._wake:
            self._wake.notify()
        return await future

    async def run(self) -> None:
        await asyncio.gather(*(self._committer() for _ in range(self._committers)))

    async def stop(self) -> None:
        """Commit what is pending, then end `run`."""
        self._stopping = True
        async with self._wake:
            self._wake.notify_all()

    async def _committer(self) -> None:
        while True:
            async with self._wake:
                await self._wake.wait_for(lambda: bool(self._pending) or self._stopping)
            if not self._pending:
                return
            if len(self._pending) < self._max_batch:
                await asyncio.sleep(self._linger)  # let a burst gather into one statement
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            if not batch:
                continue
            try:
                async with self._pool.acquire() as conn:
                    outcomes = await store.submit(conn, [pending[:4] for pending in batch])
            except Exception as exc:  # noqa: BLE001 - the statement failed: every request in it gets it
                self._fail(batch, exc)
                continue
            self._answer(batch, outcomes)

    @staticmethod
    def _fail(batch: list[Pending], exc: Exception) -> None:
        for *_, future in batch:
            if not future.done():
                future.set_exception(exc)

    @staticmethod
    def _answer(batch: list[Pending], outcomes: list[Outcome | Problem]) -> None:
        for (*_, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():  # the client went away; its report is stored all the same
                continue
            if isinstance(outcome, Problem):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
