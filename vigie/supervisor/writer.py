"""The supervisor's writer: check results queued, then written in batches off the event loop.

The scheduler's checks hand their results to :meth:`ResultWriter.put`, which never waits. One task
drains the queue: it takes what arrived within ``flush_s`` (or ``batch_size`` items), and writes
them in **one transaction** in a worker thread (``asyncio.to_thread``), so the event loop never
blocks on the database and 5,000 cameras cost a few commits a second, not hundreds.

If a batch fails (a camera deleted meanwhile), its items are retried one transaction each, so one
bad item loses only itself; it is logged and counted. When the database cannot be reached (an
outage, a network cut), the batch is kept and written again, in order, until it is: results
checked meanwhile wait in the queue, nothing is dropped. :meth:`ResultWriter.close` writes what is
queued before returning (graceful stop; it gives up on an unreachable database after
``close_retry_s``).

With leases (several nodes on PostgreSQL, ``vigie.supervisor.leases``), each item carries the
epoch of the lease it was checked under; the writing transaction keeps only the items whose lease
is still at that epoch (:func:`~vigie.supervisor.leases.fence`): the others are refused, counted
and logged, never stored.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from supervision.states import CheckResult, Event, Policy
from vigie.clock import utcnow
from vigie.db import session_scope
from vigie.supervisor import leases
from vigie.supervisor.causes import correlate
from vigie.supervisor.store import UnknownCameraError, apply_results, apply_ticks

__all__ = ["ResultWriter", "Tick", "WriterStats", "store_batch"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Tick:
    """Let time pass for one camera (silence, a maintenance window starting or ending)."""

    camera_id: str


Item = CheckResult | Tick
Queued = tuple[Item, int | None]
"""An item and the epoch of the lease it was checked under (``None``: no leases)."""

RETRY_MIN_S = 0.2
RETRY_MAX_S = 5.0


def store_batch(
    session: Session,
    items: Sequence[CheckResult],
    policies: Mapping[str, Policy],
    now: datetime,
) -> list[Event]:
    """Fold a batch of results into the stored states, in the caller's transaction.

    The one place results reach the database: ``apply_results`` ends the database as
    ``apply_result`` one by one would (property-tested) with a handful of statements per batch.
    """
    return apply_results(session, items, Policy(), now, policies=policies)


@dataclass(slots=True)
class WriterStats:
    batches: int = 0
    written: int = 0
    errors: int = 0
    """Items that could not be written even alone (logged)."""
    refused: int = 0
    """Items refused because their lease was taken by another node (logged)."""
    outages: int = 0
    """Batches that found the database unreachable and were kept to be written again."""


class ResultWriter:
    """Queue of results and ticks, written in batches by one task (see the module docstring)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        policy_of: Callable[[str], Policy],
        *,
        batch_size: int = 200,
        flush_s: float = 0.25,
        correlation_window_s: float = 0.0,
        on_batch: Callable[[float, int], None] | None = None,
        clock: Callable[[], datetime] = utcnow,
        close_retry_s: float = 10.0,
    ) -> None:
        self.sessions = sessions
        self.close_retry_s = close_retry_s
        self.policy_of = policy_of
        self.batch_size = batch_size
        self.flush_s = flush_s
        self.correlation_window = (
            timedelta(seconds=correlation_window_s) if correlation_window_s > 0 else None
        )
        self._correlate = True
        """Correlate after the next batch: one moved a state, or the last pass gave way
        (and once at start, for what a previous process left)."""
        self.on_batch = on_batch
        self.clock = clock
        self.stats = WriterStats()
        self._queue: asyncio.Queue[Queued] = asyncio.Queue()
        self._closing_until: float | None = None
        """Monotonic deadline past which a closing writer stops waiting for the database."""
        self._task: asyncio.Task[None] | None = None
        self._writing: asyncio.Future[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="vigie-writer")

    def put(self, item: Item, epoch: int | None = None) -> None:
        """Queue a result or a tick (``epoch``: its lease's, with leases); never waits."""
        self._queue.put_nowait((item, epoch))

    def __len__(self) -> int:
        return self._queue.qsize()

    async def close(self) -> None:
        """Write everything queued, then stop."""
        self._closing_until = time.monotonic() + self.close_retry_s
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if self._writing is not None:  # the batch being written when the stop came: in order
            await asyncio.gather(self._writing, return_exceptions=True)
        while not self._queue.empty():
            await self._write(self._take_ready())

    def _take_ready(self) -> list[Queued]:
        batch: list[Queued] = []
        while len(batch) < self.batch_size and not self._queue.empty():
            batch.append(self._queue.get_nowait())
        return batch

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            deadline = loop.time() + self.flush_s
            while len(batch) < self.batch_size:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    async with asyncio.timeout(remaining):
                        batch.append(await self._queue.get())
                except TimeoutError:
                    break
            batch += self._take_ready()[: self.batch_size - len(batch)]
            # Shielded: a stop during the write lets the transaction finish (no half batch).
            self._writing = asyncio.ensure_future(self._write(batch))
            await asyncio.shield(self._writing)
            self._writing = None

    async def _write(self, batch: list[Queued]) -> None:
        if not batch:
            return
        started = time.perf_counter()
        try:
            await self._write_through_outages(batch)
        except _GaveUpError:
            return
        except Exception:
            log.warning("writer: a batch of %d failed; writing its items one by one", len(batch))
            for item in batch:
                try:
                    await self._write_through_outages([item])
                except _GaveUpError:
                    return
                except UnknownCameraError:  # deleted while being checked: nothing to store
                    log.info(
                        "writer: %s dropped: the camera left the inventory", _describe(item[0])
                    )
                except Exception:
                    self.stats.errors += 1
                    log.exception("writer: cannot store %r", _describe(item[0]))
        if self.correlation_window is not None and self._correlate:
            await asyncio.to_thread(self._correlate_sync)
        self.stats.batches += 1
        self.stats.written += len(batch)
        if self.on_batch is not None:
            self.on_batch(time.perf_counter() - started, len(batch))

    async def _write_through_outages(self, batch: list[Queued]) -> None:
        """Write ``batch``; while the database cannot be reached, wait and write it again.

        Raises ``_GaveUpError`` when closing and the database stayed away past ``close_retry_s``
        (the batch is lost, logged); any other error is the caller's.
        """
        delay = RETRY_MIN_S
        attempts = 0
        counted = False
        while True:
            try:
                await asyncio.to_thread(self._write_sync, batch)
                if counted:
                    log.warning(
                        "writer: database back; a batch of %d written after %d attempt(s)",
                        len(batch),
                        attempts + 1,
                    )
                return
            except OperationalError as err:
                attempts += 1
                gave_way = str(getattr(err.orig, "sqlstate", "") or "").startswith("40")
                if gave_way:  # a deadlock or serialization conflict broken by the database
                    log.info("writer: a batch gave way (%s); writing it again", _first_line(err))
                elif not counted:
                    counted = True
                    self.stats.outages += 1
                    log.warning(
                        "writer: database unreachable (%s); keeping a batch of %d and %d queued",
                        _first_line(err),
                        len(batch),
                        len(self),
                    )
                if self._closing_until is not None and time.monotonic() >= self._closing_until:
                    self.stats.errors += len(batch)
                    log.error(
                        "writer: stopping while the database is unreachable: %d result(s) "
                        "not stored",
                        len(batch),
                    )
                    raise _GaveUpError from err
                await asyncio.sleep(delay)
                delay = min(RETRY_MAX_S, delay * 2)

    def _correlate_sync(self) -> None:
        """Cause incidents in their own transaction, after the batch committed.

        Its locks come in the order ``event_head`` then incidents, opposite to a batch's; the
        incidents are taken without waiting (``NOWAIT``): when another writer's batch or an
        acknowledgement holds one, this pass gives way and the next batch tries again, so no
        deadlock.
        """
        assert self.correlation_window is not None
        try:
            with session_scope(self.sessions) as session:
                correlate(session, self.clock(), self.correlation_window)
        except DBAPIError as err:
            log.info("writer: correlation gave way (%s); again after the next batch", err.orig)
            self._correlate = True
        except Exception:
            self.stats.errors += 1
            log.exception("writer: correlation failed; again after the next batch")
            self._correlate = True
        else:
            self._correlate = False

    def _write_sync(self, batch: list[Queued]) -> None:
        now = self.clock()
        with session_scope(self.sessions) as session:
            items = self._fenced(session, batch)
            results = [item for item in items if isinstance(item, CheckResult)]
            ticks = [item for item in items if isinstance(item, Tick)]
            policies = {r.camera_id: self.policy_of(r.camera_id) for r in results}
            events = store_batch(session, results, policies, now)
            if ticks:
                ids = list(dict.fromkeys(tick.camera_id for tick in ticks))
                events += apply_ticks(
                    session, ids, Policy(), now, policies={i: self.policy_of(i) for i in ids}
                )
            if events:  # only a batch that moved a state or an incident can change a cause
                self._correlate = True

    def _fenced(self, session: Session, batch: list[Queued]) -> list[Item]:
        """The batch's items whose lease is still at their epoch (all of them without leases)."""
        leased = {item.camera_id for item, epoch in batch if epoch is not None}
        if not leased:
            return [item for item, _ in batch]
        current = leases.fence(session, leased)
        items = []
        for item, epoch in batch:
            if epoch is None or current.get(item.camera_id) == epoch:
                items.append(item)
            else:
                self.stats.refused += 1
                log.info("writer: %s refused: its lease was taken", _describe(item))
        return items


class _GaveUpError(Exception):
    """The writer stopped while the database was unreachable."""


def _first_line(err: BaseException) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def _describe(item: Item) -> str:
    if isinstance(item, Tick):
        return f"tick of camera {item.camera_id}"
    return f"{item.kind} result of camera {item.camera_id} at {item.time.isoformat()}"
