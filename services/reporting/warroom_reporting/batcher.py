"""Group commit for single submissions: reports posted at the same moment share a transaction.

Each POST still gets its own answer (created, the original receipt, or 409), but a handful of
committers turn a burst of concurrent POSTs into a few statements (`store.submit_prepared`: one
statement stores a whole batch, atomic on its own) instead of a transaction each.

One caller's bad data never fails another's request: each submission is prepared in its own
request before it joins a batch, and when the database refuses a batch's statement, its
submissions are stored one by one, so that only the one it refuses is answered with the error.
A database that cannot be reached is everyone's problem: the whole batch gets that error (503).

The queue is bounded: beyond `queue_max` reports waiting (queued or being committed), a POST is
answered 503 with Retry-After at once rather than waiting ever longer behind the others.
"""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from warroom_reporting import store
from warroom_reporting.models import Receipt, ReportIn
from warroom_shared import tracing
from warroom_shared.http import DATABASE_UNAVAILABLE, Problem

log = logging.getLogger(__name__)
Outcome = tuple[Receipt, bool]
Pending = tuple[store.Prepared, "asyncio.Future[Outcome]"]
Answer = Outcome | BaseException


class SubmitBatcher:
    def __init__(
        self, pool: asyncpg.Pool, *, queue_max: int = 1000, committers: int = 4,
        max_batch: int = 64, linger: float = 0.001,
    ) -> None:  # fmt: skip
        self._pool = pool
        self._queue_max = queue_max
        self._committers = committers
        self._max_batch = max_batch
        self._linger = linger
        self._pending: list[Pending] = []
        self.waiting = 0  # queued or being committed
        self._wake = asyncio.Condition()
        self._stopping = False

    async def submit(self, report: ReportIn, province_code: str, account: str) -> Outcome:
        if self.waiting >= self._queue_max:
            raise Problem(503, "too_busy", headers={"Retry-After": "1"})
        # its trace headers: the committers run in tasks of their own, outside the request's
        prepared = store.prepare((report, province_code, account, tracing.propagation_headers()))
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._pending.append((prepared, future))
        self.waiting += 1
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
                answers = await self._commit([prepared for prepared, _ in batch])
            finally:
                self.waiting -= len(batch)
            for (_, future), answer in zip(batch, answers, strict=True):
                if future.done():  # the client went away; its report is stored all the same
                    continue
                if isinstance(answer, BaseException):
                    future.set_exception(answer)
                else:
                    future.set_result(answer)

    async def _commit(self, batch: list[store.Prepared]) -> list[Answer]:
        try:
            async with self._pool.acquire() as conn:
                try:
                    return list(await store.submit_prepared(conn, batch))
                except DATABASE_UNAVAILABLE:
                    raise
                except Exception as exc:  # noqa: BLE001 - maybe one report's values: find which
                    log.warning("a batch of %d was refused (%s); storing it one by one",
                                len(batch), exc)  # fmt: skip
                    return await _one_by_one(conn, batch)
        except Exception as exc:  # noqa: BLE001 - every request of the batch gets it
            return [exc] * len(batch)


async def _one_by_one(conn: asyncpg.Connection, batch: list[store.Prepared]) -> list[Answer]:
    """Each submission in a statement of its own: the one the database refuses gets 422 (or,
    when it is not its values, the error itself); the others are stored and answered."""
    answers: list[Answer] = []
    for done, prepared in enumerate(batch):
        answer: Answer
        try:
            [answer] = await store.submit_prepared(conn, [prepared])
        except DATABASE_UNAVAILABLE as exc:
            return answers + [exc] * (len(batch) - done)
        except store.UNSTORABLE as exc:
            answer = store.unstorable(exc)
        except Exception as exc:  # noqa: BLE001 - its own request answers 500, no other's
            answer = exc
        answers.append(answer)
    return answers
