"""The supervisor's writer: batches in one transaction, a bad item loses only itself, close
drains the queue; both databases."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from supervision.states import Policy
from tests.helpers.service import seed
from tests.helpers.supervision_data import STEP, T0, add_cameras, ok, outage
from vigie import db
from vigie.models import CameraStatus, IncidentRow, Observation
from vigie.supervisor.writer import ResultWriter, Tick


def test_batches_are_written_and_a_bad_item_loses_only_itself(engine: Engine) -> None:
    seed(engine)
    add_cameras(engine)
    sessions = db.session_factory(engine)
    batches: list[int] = []
    results = [
        ok("cam-a2", T0),
        *outage("cam-a1", T0, failures=3, recoveries=0),
        ok("cam-gone", T0),  # not in the inventory (deleted meanwhile)
        ok("cam-a2", T0 + STEP),
    ]

    async def scenario() -> ResultWriter:
        writer = ResultWriter(
            sessions,
            lambda _camera: Policy(),
            batch_size=100,
            flush_s=0.2,
            on_batch=lambda _seconds, size: batches.append(size),
            clock=lambda: T0 + 10 * STEP,
        )
        writer.start()
        for result in results:
            writer.put(result)
        writer.put(Tick("cam-b1"))
        await asyncio.sleep(0.5)  # one flush period: the whole queue is one batch
        writer.put(ok("cam-b1", T0 + 2 * STEP))  # queued at the stop: written by close()
        await writer.close()
        return writer

    writer = asyncio.run(scenario())
    assert batches == [len(results) + 1, 1]
    assert writer.stats.errors == 0 and writer.stats.written == len(results) + 2
    with sessions() as session:
        states = dict(session.execute(select(CameraStatus.camera_id, CameraStatus.state)).all())
        assert states == {"cam-a1": "down", "cam-a2": "up", "cam-b1": "up"}
        assert session.scalar(select(func.count()).select_from(IncidentRow)) == 1
        assert (
            session.scalar(
                select(func.count())
                .select_from(Observation)
                .where(Observation.camera_id == "cam-a1")
            )
            == 3
        )


def test_correlation_that_gives_way_runs_again_after_the_next_batch(
    engine: Engine, monkeypatch
) -> None:
    """A correlation pass that meets a lock (NOWAIT) is retried, never lost nor waited for."""
    from sqlalchemy.exc import OperationalError

    from vigie.supervisor import writer as writer_module

    seed(engine)
    calls: list[str] = []

    def busy(session, now, window) -> int:
        calls.append("busy" if not calls else "done")
        if len(calls) == 1:
            raise OperationalError("SELECT ... FOR UPDATE NOWAIT", {}, Exception("lock"))
        return 0

    monkeypatch.setattr(writer_module, "correlate", busy)
    writer = ResultWriter(
        db.session_factory(engine), lambda _camera: Policy(), correlation_window_s=30
    )
    writer._correlate_sync()
    assert writer._correlate  # gave way: again after the next batch
    writer._correlate_sync()
    assert not writer._correlate and calls == ["busy", "done"]
