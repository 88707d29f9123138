"""The supervisor `vigie serve` runs: the inventory's cameras polled, results stored, time ticked.

Started and stopped by the app's lifespan (setting ``supervise``). It:

- loads the inventory (credentials decrypted with the key ring, never logged) and schedules each
  camera's liveness, full and stream checks on :class:`supervision.scheduler.Scheduler`;
  re-reads it every ``supervise_inventory_reload_s`` and adds, removes or re-creates the checks of
  the cameras that changed;
- runs the full check with the camera's picture memory read from the database just before and
  written just after (``vigie.supervisor.pictures``): nothing of a camera's pictures stays in
  memory between its checks;
- starts a camera's stream check once a full check learned its stream URI (GetStreamUri), in a
  worker thread (it blocks);
- hands every result to the :class:`~vigie.supervisor.writer.ResultWriter` (batches, one
  transaction each, off the event loop);
- ticks a camera only when it needs it: no result for ``silent_after`` intervals, or a
  maintenance window of it starting or ending;
- stops gracefully: checks in flight get a grace period, then the writer drains its queue. A
  new supervisor on the same database resumes from the stored states (a redelivered result is
  ignored by ``apply_result``);
- records its run (``vigie.supervisor.runs``): at start the time nobody watched since the
  previous run's stop or last heartbeat becomes UNKNOWN, then it beats every liveness interval
  and writes its stop;
- on PostgreSQL, shares the cameras with the other nodes on the same database
  (``vigie.supervisor.leases``): it checks only the cameras it holds a lease on, plays a lease
  round every ``lease_round_s`` (renew, balance, take over a dead node's cameras and check them
  at once), tags every result with its lease's epoch so the database refuses a stale one, and
  at a graceful stop hands its cameras over, checking each until another node has taken it.

In memory per camera: its address (credentials included, needed to log in), policy, stream URI,
maintenance window bounds and the time of its last result. Nothing else.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from cameras.catalogue import load_catalogue
from cameras.client import Camera as OnvifCamera
from cameras.client import OnvifClient
from cameras.errors import CameraError
from cameras.models import CameraAddress, MediaUri, Snapshot
from supervision import imaging
from supervision.probes import events_check, full_check, liveness_check, snapshot_at
from supervision.scheduler import Scheduler
from supervision.states import CheckKind, CheckResult, Policy
from supervision.stream import stream_check
from vigie import audit
from vigie.clock import as_utc, utcnow
from vigie.credentials import CredentialsError, KeyRing, open_camera_password
from vigie.db import session_scope
from vigie.models import Camera, MaintenanceWindowRow
from vigie.settings import Settings
from vigie.supervisor import leases, pictures, runs
from vigie.supervisor.metrics import SupervisorMetrics, SupervisorSnapshot
from vigie.supervisor.store import apply_lapses
from vigie.supervisor.writer import ResultWriter, Tick

__all__ = ["Supervisor", "SupervisorConfig"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class SupervisorConfig:
    """The supervisor's settings (``VIGIE_SUPERVISE_*``; README: How vigie serve supervises)."""

    liveness_interval_s: float = 30.0
    full_interval_s: float = 300.0
    stream_interval_s: float = 300.0
    events_interval_s: float = 15.0
    """How often a camera offering ONVIF events is pulled (0: never)."""
    camera_timeout_s: float = 5.0
    concurrency: int = 64
    inventory_reload_s: float = 60.0
    retry_s: float = 10.0
    """Re-check an unreachable camera this soon (0: only at its interval)."""
    batch_size: int = 200
    flush_s: float = 0.25
    correlation_window_s: float = 30.0
    """Cameras DOWN within this long of each other share a cause incident (0: no correlation)."""
    stop_grace_s: float = 5.0
    lease_ttl_s: float = 30.0
    """Several nodes (PostgreSQL): how long a camera's lease lasts without being renewed; a dead
    node's cameras are taken over within this and one lease round."""
    freeze_heap: bool = True
    """Exempt the objects that live as long as the service from the garbage collector's full
    passes, once started and once every camera had its first full check (:meth:`Supervisor.
    freeze_heap`)."""
    policy: Policy = field(default_factory=Policy)
    thresholds: imaging.Thresholds = field(default_factory=imaging.Thresholds)

    @classmethod
    def from_settings(cls, settings: Settings) -> SupervisorConfig:
        return cls(
            liveness_interval_s=settings.supervise_liveness_interval_s,
            full_interval_s=settings.supervise_full_interval_s,
            stream_interval_s=settings.supervise_stream_interval_s,
            events_interval_s=settings.supervise_events_interval_s,
            camera_timeout_s=settings.supervise_camera_timeout_s,
            concurrency=settings.supervise_concurrency,
            inventory_reload_s=settings.supervise_inventory_reload_s,
            retry_s=settings.supervise_retry_s,
            batch_size=settings.supervise_batch_size,
            flush_s=settings.supervise_flush_s,
            correlation_window_s=settings.supervise_correlation_window_s,
            lease_ttl_s=settings.supervise_lease_ttl_s,
            freeze_heap=settings.supervise_freeze_heap,
            policy=Policy(
                down_after=settings.supervise_down_after,
                up_after=settings.supervise_up_after,
                degrade_after=settings.supervise_degrade_after,
                restore_after=settings.supervise_restore_after,
                max_clock_offset_s=settings.supervise_max_clock_offset_s,
                min_frame_rate=settings.supervise_min_frame_rate,
                max_recording_lag_s=settings.supervise_max_recording_lag_s,
                silent_after=settings.supervise_silent_after,
                check_interval=timedelta(seconds=settings.supervise_liveness_interval_s),
            ),
        )

    @property
    def liveness_timeout_s(self) -> float:
        """A liveness check makes one call (two with a retry of the connection)."""
        return 2 * self.camera_timeout_s

    @property
    def lease_round_s(self) -> float:
        """How often a node renews and balances its leases: a third of their life, at most 5 s,
        so a lease survives two failed rounds and a dead node's cameras wait little more than
        the lease's life."""
        return min(self.lease_ttl_s / 3, 5.0)

    @property
    def full_timeout_s(self) -> float:
        """A full check makes about seven calls, eleven with edge recording (Profile G), each
        bounded by the camera timeout."""
        return 16 * self.camera_timeout_s


@dataclass(frozen=True, slots=True)
class _Inventoried:
    """One camera as the inventory describes it; a change of any field re-creates its checks."""

    camera_id: str
    address: CameraAddress
    model: str
    critical: bool
    windows: tuple[tuple[datetime, datetime], ...]


@dataclass(slots=True)
class _Watched:
    """What the supervisor remembers of a camera it polls (no picture)."""

    spec: _Inventoried
    camera: OnvifCamera
    policy: Policy
    expected_resolution: tuple[int, int] | None
    last_result: float
    """Monotonic time of the last result delivered (or of the start)."""
    stream_uri: tuple[str, ...] | None = None
    """The stream URIs checked (main video source first), credentials included."""
    events: bool = False
    """Whether its events check is scheduled."""
    certificate_reported: str | None = None
    """The unpinned certificate last audited for it (one audit event per certificate)."""


class _Recording:
    """The camera as ``full_check`` sees it, keeping the stream URI and the snapshot's bytes."""

    def __init__(self, camera: OnvifCamera) -> None:
        self._camera = camera
        self.stream_uris: list[MediaUri] = []
        self.snapshot: Snapshot | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._camera, name)

    async def get_stream_uri(self, profile_token: str) -> MediaUri:
        uri = await self._camera.get_stream_uri(profile_token)
        self.stream_uris.append(uri)  # the main video source's, then the other sensors'
        return uri

    async def get_snapshot(self, uri: str) -> Snapshot:
        snapshot = await self._camera.get_snapshot(uri)
        if self.snapshot is None:  # the main video source's is the one kept and shown
            self.snapshot = snapshot
        return snapshot


class Supervisor:
    """Polls the inventory's cameras; see the module docstring."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        keys: KeyRing | None,
        config: SupervisorConfig | None = None,
        metrics: SupervisorMetrics | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.keys = keys
        self.config = config or SupervisorConfig()
        self.metrics = metrics
        self.clock = clock
        self.exceptions = 0
        """The supervisor's own failures outside the scheduler's and writer's (logged)."""
        self.scheduler = Scheduler(self._deliver, concurrency=self.config.concurrency, clock=clock)
        self.writer = ResultWriter(
            sessions,
            self.policy_of,
            batch_size=self.config.batch_size,
            flush_s=self.config.flush_s,
            correlation_window_s=self.config.correlation_window_s,
            on_batch=self._on_batch,
            clock=clock,
        )
        self._watched: dict[str, _Watched] = {}
        self._onvif: OnvifClient | None = None
        self._housekeeping: asyncio.Task[None] | None = None
        self._last_tick_run: datetime | None = None
        self._catalogue = load_catalogue()
        self._frozen = False
        self._run_id: int | None = None
        """This run's ``supervisor_runs`` row (None: it could not be written; no heartbeat)."""
        self.node = f"{socket.gethostname()}:{os.getpid()}"
        self._inventory: dict[str, _Inventoried] = {}
        self._leased = False
        """Whether the cameras are shared with other nodes through leases (PostgreSQL)."""
        self._held: dict[str, int] = {}
        """With leases: the cameras this node holds, with their lease's epoch."""
        self._lease_task: asyncio.Task[None] | None = None
        self._lease_failing = False
        """The last lease round failed (the database is away): the next one only renews."""
        self._soon: set[str] = set()
        """Cameras taken over and not yet checked: their first check comes at once."""

    def __len__(self) -> int:
        return len(self._watched)

    @property
    def failures(self) -> int:
        """The supervisor's own failures so far: checks or deliveries that raised, results the
        writer could not store, housekeeping errors. Each was logged with its traceback."""
        return self.exceptions + self.scheduler.stats.errors + self.writer.stats.errors

    def __contains__(self, camera_id: object) -> bool:
        return camera_id in self._watched

    def address_of(self, camera_id: str) -> CameraAddress | None:
        """Where this process reaches the camera now (the inventory as last read), or None."""
        watched = self._watched.get(camera_id)
        return None if watched is None else watched.spec.address

    def snapshot(self) -> SupervisorSnapshot:
        """Its figures for ``/metrics``, read now."""
        lag = self.scheduler.lag()
        return SupervisorSnapshot(
            lag_p50_s=lag.p50,
            lag_p99_s=lag.p99,
            lag_max_s=lag.max,
            skipped=self.scheduler.stats.skipped,
            queued=len(self.writer),
            failures=self.failures,
            supervised=len(self),
            refused=self.writer.stats.refused,
            leased=self._leased,
        )

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Load the inventory and start polling."""
        self._onvif = OnvifClient()
        self.writer.start()
        try:
            self._leased = await asyncio.to_thread(self._supports_leases)
        except Exception:  # the database is away: the engine's dialect still tells
            self._leased = self.sessions.kw["bind"].dialect.name == "postgresql"
        try:
            await asyncio.to_thread(self._begin_run)
        except Exception:  # supervising matters more than the record of the gap
            self.exceptions += 1
            log.exception("supervisor: cannot record the unwatched time before this start")
        if self._leased and self._run_id is not None:
            await self.play_round(soon=False)
        try:
            await self.reload()
        except Exception:  # the database may come back: housekeeping reloads again
            self.exceptions += 1
            log.exception("supervisor: cannot read the inventory (will retry)")
        await self.scheduler.start()
        if self._leased:
            self._lease_task = asyncio.get_running_loop().create_task(
                self._lease_rounds(), name="vigie-supervisor-leases"
            )
        self._last_tick_run = self.clock()
        self._housekeeping = asyncio.get_running_loop().create_task(
            self._keep_house(), name="vigie-supervisor-housekeeping"
        )
        log.info("supervisor: %d camera(s) supervised", len(self._watched))
        if self.config.freeze_heap:
            self.freeze_heap()

    async def stop(self) -> None:
        """Stop polling (checks in flight get the grace period), write what is queued."""
        for name in ("_housekeeping", "_lease_task"):
            task = getattr(self, name)
            setattr(self, name, None)
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if self._leased and self._run_id is not None:
            await self._hand_over()
        await self.scheduler.stop(grace=self.config.stop_grace_s)
        await self.writer.close()
        if self._leased and self._run_id is not None:
            await self._run_record(lambda s, run, _now: leases.release(s, run), "release")
        await self._run_record(runs.end_run, "stop")
        if self._onvif is not None:
            await self._onvif.aclose()
            self._onvif = None
        if self._frozen:
            gc.unfreeze()  # what the service held can be collected again
            self._frozen = False
        log.info("supervisor stopped")

    async def __aenter__(self) -> Supervisor:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def policy_of(self, camera_id: str) -> Policy:
        """The camera's policy (the settings' one for a camera no longer watched)."""
        watched = self._watched.get(camera_id)
        return watched.policy if watched is not None else self.config.policy

    # --- runs --------------------------------------------------------------------------------

    @property
    def unwatched_bound(self) -> timedelta:
        """How late a check may be before nobody is watching: two liveness intervals and the
        liveness check's timeout (after a crash without heartbeat, or the first start)."""
        seconds = 2 * self.config.liveness_interval_s + self.config.liveness_timeout_s
        return timedelta(seconds=seconds)

    def _supports_leases(self) -> bool:
        with self.sessions() as session:
            return leases.supports_leases(session)

    def _begin_run(self) -> None:
        """Record the time nobody watched since the previous run as unknown; start this one."""
        policies = {camera_id: w.policy for camera_id, w in self._watched.items()}
        with session_scope(self.sessions) as session:
            self._run_id, _ = runs.begin_run(
                session,
                self.clock(),
                bound=self.unwatched_bound,
                policy=self.config.policy,
                policies=policies,
                node=self.node,
                ttl=timedelta(seconds=self.config.lease_ttl_s) if self._leased else None,
            )

    # --- leases (several nodes, PostgreSQL) -------------------------------------------------

    @property
    def held(self) -> dict[str, int]:
        """The cameras this node holds a lease on, with their epochs (empty without leases)."""
        return dict(self._held)

    async def play_round(self, *, soon: bool = True) -> leases.Round | None:
        """One lease round now (renew, balance, take); the watched cameras follow, the ones
        taken checked at once (``soon``; at start they keep their phases, spread over the
        interval). None when the database could not be reached (logged; the next round only
        renews)."""
        take = not self._lease_failing
        try:
            try:
                played = await asyncio.to_thread(self._play_round_sync, take)
            except DBAPIError as err:
                if not _gave_way(err):
                    raise
                log.info("supervisor: lease round gave way (%s); again now", _sqlstate(err))
                played = await asyncio.to_thread(self._play_round_sync, take)
        except Exception as err:
            if not self._lease_failing:
                log.warning("supervisor: lease round failed (%s); renewing when back", err)
            self._lease_failing = True
            return None
        if not take:
            log.info("supervisor: database back; %d lease(s) renewed", len(played.held))
        self._lease_failing = False
        lost = set(self._held) - set(played.held) - set(played.released)
        if lost:
            log.warning(
                "supervisor: %d camera(s) lost to another node (this one was away): %s",
                len(lost),
                ", ".join(sorted(lost)[:10]),
            )
        if played.taken or played.released:
            log.info(
                "supervisor: leases: %d taken, %d released, %d held (%d node(s), share %d)",
                len(played.taken),
                len(played.released),
                len(played.held),
                played.nodes,
                played.share,
            )
        self._held = dict(played.held)
        self._sync_watch(soon=set(played.taken) if soon else set())
        return played

    def _play_round_sync(self, take: bool) -> leases.Round:
        assert self._run_id is not None
        ttl = timedelta(seconds=self.config.lease_ttl_s)
        with session_scope(self.sessions) as session:
            played = leases.play_round(session, self._run_id, ttl, take=take)
            if played.taken:
                # A dead node's camera waits up to a lease's life and a round to be taken: only
                # a camera not checked for longer than that and the usual bound went unwatched.
                bound = self.unwatched_bound + timedelta(
                    seconds=self.config.lease_ttl_s + self.config.lease_round_s
                )
                now = self.clock()
                apply_lapses(
                    session,
                    lambda state: runs.unwatched_from(state.last_check_at, None, bound, now),
                    self.config.policy,
                    now,
                    policies={i: self.policy_of(i) for i in played.taken},
                    only=played.taken,
                )
            return played

    async def _lease_rounds(self) -> None:
        while True:
            await asyncio.sleep(self.config.lease_round_s)
            await self.play_round()

    async def _hand_over(self) -> None:
        """A graceful stop: free every lease, leave the live nodes, and go on checking each
        camera until another node has taken it (or none is alive, or the wait is over)."""
        assert self._run_id is not None
        run_id, held = self._run_id, dict(self._held)

        def leave() -> int:
            with session_scope(self.sessions) as session:
                leases.release(session, run_id)
                return len(leases.live_nodes(session, timedelta(seconds=self.config.lease_ttl_s)))

        def still_mine() -> set[str]:
            with self.sessions() as session:
                current = leases.fence(session, held)
                session.rollback()
            return {i for i, epoch in held.items() if current.get(i) == epoch}

        try:
            others = await asyncio.to_thread(leave)
        except Exception as err:
            log.warning("supervisor: cannot hand the cameras over (%s); stopping", err)
            return
        if not others or not held:
            return
        deadline = time.monotonic() + self.config.lease_round_s + 1.0  # others' next round
        remaining = set(held)
        while remaining and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            try:
                mine = await asyncio.to_thread(still_mine)
            except Exception:
                break
            for camera_id in remaining - mine:
                self.scheduler.remove(camera_id)
                self._watched.pop(camera_id, None)
            remaining &= mine
        log.info(
            "supervisor: handed %d camera(s) over to %d node(s)%s",
            len(held) - len(remaining),
            others,
            f"; {len(remaining)} not taken in time" if remaining else "",
        )

    async def _run_record(
        self, record: Callable[[Session, int, datetime], None], what: str
    ) -> None:
        """Write this run's heartbeat or stop; a failure is logged and counted, never raised."""
        if self._run_id is None:
            return
        run_id, now = self._run_id, self.clock()

        def write() -> None:
            with session_scope(self.sessions) as session:
                record(session, run_id, now)

        try:
            await asyncio.to_thread(write)
        except Exception:
            self.exceptions += 1
            log.exception("supervisor: cannot record its %s", what)

    # --- inventory -------------------------------------------------------------------------

    async def reload(self) -> None:
        """Re-read the inventory; add, drop or re-create the checks of changed cameras."""
        inventory = await asyncio.to_thread(self._read_inventory)
        for camera_id in set(self._inventory) - set(inventory):
            log.info("supervisor: camera %s left the inventory", camera_id)
        self._inventory = inventory
        self._sync_watch()

    def _sync_watch(self, soon: set[str] | frozenset[str] = frozenset()) -> None:
        """Watch the inventory's cameras this node is to check (with leases, those it holds);
        ``soon``: cameras just taken over, checked at once."""
        self._soon = (self._soon | soon) & set(self._held)  # taken before the inventory knew it
        wanted = (
            {i: spec for i, spec in self._inventory.items() if i in self._held}
            if self._leased
            else self._inventory
        )
        for camera_id in set(self._watched) - set(wanted):
            self.scheduler.remove(camera_id)
            del self._watched[camera_id]
        for camera_id, spec in wanted.items():
            watched = self._watched.get(camera_id)
            if watched is not None and watched.spec == spec:
                continue
            if watched is not None and replace(watched.spec, windows=spec.windows) == spec:
                watched.spec = spec  # only its maintenance changed: its checks stay as they are
                continue
            self._watch(spec, soon=camera_id in self._soon)
            self._soon.discard(camera_id)

    def _read_inventory(self) -> dict[str, _Inventoried]:
        now = self.clock()
        with self.sessions() as session:
            windows: dict[str, list[tuple[datetime, datetime]]] = {}
            for row in session.scalars(
                select(MaintenanceWindowRow).where(MaintenanceWindowRow.end > now)
            ):
                windows.setdefault(row.camera_id, []).append((as_utc(row.start), as_utc(row.end)))
            found: dict[str, _Inventoried] = {}
            for camera in session.scalars(select(Camera).order_by(Camera.id)):
                password = self._password(camera)
                if password is None:
                    continue
                found[camera.id] = _Inventoried(
                    camera_id=camera.id,
                    address=CameraAddress(
                        host=camera.host,
                        port=camera.port,
                        username=camera.username,
                        password=password,
                        timeout_s=self.config.camera_timeout_s,
                        basic_auth=bool(camera.basic_auth),
                        tls=bool(camera.tls),
                        tls_pin=camera.tls_fingerprint,
                    ),
                    model=camera.model,
                    critical=bool(camera.critical),
                    windows=tuple(sorted(windows.get(camera.id, ()))),
                )
        return found

    def _password(self, camera: Camera) -> str | None:
        if not camera.password_encrypted:
            return ""
        if self.keys is None:
            self.exceptions += 1
            log.error(
                "camera %s: its password is stored encrypted but VIGIE_CREDENTIALS_KEYS is not "
                "set: not supervised",
                camera.id,
            )
            return None
        try:
            return open_camera_password(self.keys, camera)  # only for its stored address
        except CredentialsError as err:
            self.exceptions += 1
            log.error("camera %s: not supervised: %s", camera.id, err)
            return None

    def _watch(self, spec: _Inventoried, *, soon: bool = False) -> None:
        assert self._onvif is not None
        model = self._catalogue.cameras.get(spec.model) if spec.model else None
        watched = _Watched(
            spec=spec,
            camera=self._onvif.camera(spec.address),
            policy=replace(self.config.policy, critical=spec.critical),
            expected_resolution=model.frame_size if model is not None else None,
            last_result=time.monotonic(),
        )
        self.scheduler.remove(spec.camera_id)
        self._watched[spec.camera_id] = watched
        camera_id = spec.camera_id
        self.scheduler.add(
            camera_id,
            CheckKind.LIVENESS,
            self._timed(CheckKind.LIVENESS, lambda: liveness_check(watched.camera, camera_id)),
            interval=self.config.liveness_interval_s,
            timeout=self.config.liveness_timeout_s,
            retry=self.config.retry_s
            if 0 < self.config.retry_s < self.config.liveness_interval_s
            else None,
            first_within=min(self.config.liveness_interval_s, self.config.lease_round_s)
            if soon
            else None,
        )
        self.scheduler.add(
            camera_id,
            CheckKind.FULL,
            self._timed(CheckKind.FULL, lambda: self._full(watched)),
            interval=self.config.full_interval_s,
            timeout=self.config.full_timeout_s,
        )

    # --- checks ----------------------------------------------------------------------------

    def _timed(
        self, kind: CheckKind, check: Callable[[], Awaitable[CheckResult | None]]
    ) -> Callable[[], Awaitable[CheckResult | None]]:
        async def timed() -> CheckResult | None:
            started = time.perf_counter()
            try:
                return await check()
            finally:
                if self.metrics is not None:
                    self.metrics.check_latency.labels(kind.value).observe(
                        time.perf_counter() - started
                    )

        return timed

    async def _full(self, watched: _Watched) -> CheckResult:
        camera_id = watched.spec.camera_id
        memory = await asyncio.to_thread(self._load_memory, camera_id)
        recording = _Recording(watched.camera)
        reports: list[imaging.ImageReport] = []

        def assess(
            image: Any, reference: Any = None, previous: Any = None, *, chroma: Any = None
        ) -> Any:
            report = imaging.assess(
                image,
                reference=reference,
                previous=previous,
                thresholds=self.config.thresholds,
                camera=camera_id,
                chroma=chroma,
            )
            reports.append(report)
            return report

        outcome = await full_check(
            recording,  # type: ignore[arg-type]  # a Camera with its answers recorded
            camera_id,
            assess=assess,
            reference=memory.reference,  # type: ignore[arg-type]  # assess's Reference
            previous=memory.previous,  # type: ignore[arg-type]  # a fingerprint
            expected_resolution=watched.expected_resolution,
            ptz_home=memory.ptz_home,
            sensors={
                source: (sensor.reference, sensor.previous)
                for source, sensor in memory.sensors.items()
            },
        )
        if recording.stream_uris:
            self._learn_stream(watched, [uri.uri for uri in recording.stream_uris])
        if not watched.events and watched.camera.offers("events"):
            self._watch_events(watched)
        if reports and recording.snapshot is not None and outcome.picture is not None:
            # Learning and storing take milliseconds of CPU: off the event loop, in one thread.
            await asyncio.to_thread(
                functools.partial(
                    self._learn_and_save,
                    camera_id,
                    memory=memory,
                    picture=outcome.picture,
                    report=reports[0],  # the main video source's (the first judged)
                    jpeg=recording.snapshot.content,
                    at=outcome.result.time,
                    learn=not outcome.away,
                    ptz_home=outcome.ptz,
                )
            )
        if outcome.sensors:
            await asyncio.to_thread(self._save_sensors, camera_id, memory, outcome)
        return outcome.result

    def _save_sensors(self, camera_id: str, memory: pictures.PictureMemory, outcome: Any) -> None:
        """A multi-sensor camera's other video sources: learned and stored each on its own."""
        with session_scope(self.sessions) as session:
            for sensor in outcome.sensors:
                if sensor.picture is None or not isinstance(sensor.report, imaging.ImageReport):
                    continue
                known = memory.sensors.get(sensor.source)
                reference = self._learned(
                    known.reference if known else None, sensor.picture, sensor.report, camera_id
                )
                pictures.save_sensor(
                    session,
                    camera_id,
                    sensor.source,
                    loaded_frames=known.reference_frames if known else 0,
                    reference=reference,
                    report=sensor.report,
                    at=outcome.result.time,
                )

    def _learn_and_save(
        self,
        camera_id: str,
        *,
        memory: pictures.PictureMemory,
        picture: Any,
        report: imaging.ImageReport,
        jpeg: bytes,
        at: datetime,
        learn: bool = True,
        ptz_home: Any = None,
    ) -> None:
        """One full check's picture work after ``assess`` (in a worker thread). ``learn``:
        whether the snapshot may be learned (not while a PTZ head is away from its reference
        position); ``ptz_home``: its position now, kept if the reference starts here."""
        reference = self._learned(memory.reference, picture, report, camera_id) if learn else None
        with session_scope(self.sessions) as session:
            pictures.save_check(  # stores nothing for a camera deleted while being checked
                session,
                camera_id,
                keys=self.keys,
                loaded_frames=memory.reference_frames,
                reference=reference,
                report=report,
                jpeg=jpeg,
                at=at,
                ptz_home=ptz_home,
                loaded=memory.reference,
            )

    def _learned(
        self,
        references: imaging.RegimeReferences | None,
        picture: Any,
        report: imaging.ImageReport,
        camera_id: str,
    ) -> imaging.RegimeReferences | None:
        """The references with this snapshot learned into its lighting regime's, if it is
        healthy and that one is still being learned; ``None`` when the stored ones stay as they
        are. ``report`` is ``assess``'s for ``picture``: its measurements are reused."""
        references = references or imaging.RegimeReferences()
        current = references.of(report.regime)
        if current.ready(self.config.thresholds) or not _learnable(report):
            return None
        try:
            learned = current.update(picture, camera=camera_id, report=report)
            return references.learned(report.regime, learned)
        except imaging.ImageError as err:
            log.info("camera %s: snapshot not learned as reference: %s", camera_id, err)
            return None

    def _load_memory(self, camera_id: str) -> pictures.PictureMemory:
        with self.sessions() as session:
            try:
                return pictures.load_memory(session, camera_id)
            except imaging.ImageError as err:
                log.warning("camera %s: %s; learning it again", camera_id, err)
                return pictures.PictureMemory(None, 0, None)

    def _watch_events(self, watched: _Watched) -> None:
        """Pull the camera's own events on their schedule, once a full check found it offers
        them; a camera that turns out not to support them is no longer asked."""
        if self.config.events_interval_s <= 0:
            return
        watched.events = True
        camera_id = watched.spec.camera_id

        async def check() -> CheckResult | None:
            result = await events_check(watched.camera, camera_id)
            if result is None and "events" in watched.camera.unsupported:
                # recorded on the camera: not asked again, and no more job for it
                self.scheduler.discard(camera_id, CheckKind.EVENTS)
            return result

        self.scheduler.add(
            camera_id,
            CheckKind.EVENTS,
            self._timed(CheckKind.EVENTS, check),
            interval=self.config.events_interval_s,
        )

    def _learn_stream(self, watched: _Watched, uris: list[str]) -> None:
        """Check the camera's streams on their schedule: the main video source's and, for a
        multi-sensor camera, each other sensor's (the worst of them is the result)."""
        if self.config.stream_interval_s <= 0:
            return
        urls = tuple(dict.fromkeys(_with_credentials(uri, watched.spec.address) for uri in uris))
        if urls == watched.stream_uri:
            return
        watched.stream_uri = urls
        camera_id = watched.spec.camera_id

        async def check() -> CheckResult:
            results = [
                await asyncio.to_thread(stream_check, camera_id, url, now=self.clock)
                for url in urls
            ]
            worst = _worst_stream(results)
            if not worst.reachable or worst.frame_rate == 0:
                watched.camera.forget_uris()  # it may have moved: the next full check asks
            return worst

        self.scheduler.add(
            camera_id,
            CheckKind.STREAM,
            self._timed(CheckKind.STREAM, check),
            interval=self.config.stream_interval_s,
        )

    async def _deliver(self, result: CheckResult) -> None:
        watched = self._watched.get(result.camera_id)
        if watched is not None:
            watched.last_result = time.monotonic()
            if watched.spec.address.tls:
                await self._certificate_bookkeeping(watched, result)
        if self.metrics is not None and not result.reachable:
            error = result.error.value if result.error is not None else "unreachable"
            self.metrics.check_errors.labels(result.kind.value, error).inc()
        epoch = self._held.get(result.camera_id)
        if self._leased and epoch is None:
            return  # let go since the check started: the node that holds it now checks it
        self.writer.put(result, epoch)

    async def _certificate_bookkeeping(self, watched: _Watched, result: CheckResult) -> None:
        """A TLS camera's certificate: store the one pinned on first use; audit a changed one
        once (the incident itself comes from the ``certificate_changed`` cause)."""
        camera = watched.camera
        stored = watched.spec.address.tls_pin
        if result.certificate_changed is False and camera.pin and camera.pin != stored:
            await asyncio.to_thread(self._store_pin, watched.spec.camera_id, camera.pin)
            watched.spec = replace(
                watched.spec, address=replace(watched.spec.address, tls_pin=camera.pin)
            )
        elif result.certificate_changed and camera.certificate_change is not None:
            pinned, presented = camera.certificate_change
            if watched.certificate_reported != presented:
                watched.certificate_reported = presented
                await asyncio.to_thread(
                    self._audit_certificate, watched.spec.camera_id, pinned, presented
                )

    def _store_pin(self, camera_id: str, fingerprint: str) -> None:
        with session_scope(self.sessions) as session:
            row = session.get(Camera, camera_id)
            if row is None or row.tls_fingerprint is not None:
                return  # deleted meanwhile, or pinned already (by another node, or trusted)
            row.tls_fingerprint = fingerprint
            audit.record(
                session,
                actor="supervisor",
                role="system",
                action="camera.certificate_pinned",
                object_type="camera",
                object_id=camera_id,
                detail={"sha256": fingerprint},
            )
        log.info(
            "camera %s: TLS certificate pinned on first use (SHA-256 %s)", camera_id, fingerprint
        )

    def _audit_certificate(self, camera_id: str, pinned: str, presented: str) -> None:
        with session_scope(self.sessions) as session:
            audit.record(
                session,
                actor="supervisor",
                role="system",
                action="camera.certificate_changed",
                object_type="camera",
                object_id=camera_id,
                detail={"pinned_sha256": pinned, "presented_sha256": presented},
            )
        log.warning(
            "camera %s: TLS certificate changed (pinned SHA-256 %s, presented %s): nothing sent",
            camera_id,
            pinned,
            presented,
        )

    def _on_batch(self, seconds: float, _size: int) -> None:
        if self.metrics is not None:
            self.metrics.batch_latency.observe(seconds)

    # --- time --------------------------------------------------------------------------------

    async def _keep_house(self) -> None:
        """Ticks and inventory reloads, on their own schedule."""
        period = min(self.config.liveness_interval_s, 1.0)  # window edges within a second
        next_reload = time.monotonic() + self.config.inventory_reload_s
        next_beat = time.monotonic() + self.config.liveness_interval_s
        # by then every camera had its first full check, which made its long-lived objects
        freeze_again: float | None = time.monotonic() + self.config.full_interval_s + period
        while True:
            await asyncio.sleep(period)
            try:
                self.tick_due()
                if time.monotonic() >= next_beat:
                    next_beat = time.monotonic() + self.config.liveness_interval_s
                    await self._run_record(runs.beat, "heartbeat")
                if time.monotonic() >= next_reload:
                    next_reload = time.monotonic() + self.config.inventory_reload_s
                    await self.reload()
                if freeze_again is not None and time.monotonic() >= freeze_again:
                    freeze_again = None
                    if self.config.freeze_heap:
                        self.freeze_heap()
            except Exception:
                self.exceptions += 1
                log.exception("supervisor: housekeeping failed (will retry)")

    def freeze_heap(self) -> int:
        """Collect garbage once, then exempt every object left from later full collections.

        Why: a service supervising 5,000 cameras holds about a million long-lived objects (the
        parsed WSDLs, the ORM, each camera's handles); every full collection walks them all, a
        pause of the event loop of several hundred milliseconds that showed as scheduler lag.
        Objects made afterwards are collected as usual; :meth:`stop` unfreezes. Returns how
        many objects are frozen.
        """
        started = time.perf_counter()
        gc.collect()
        gc.freeze()
        self._frozen = True
        frozen = gc.get_freeze_count()
        log.info(
            "supervisor: %d long-lived objects left out of garbage collection (%.0f ms)",
            frozen,
            (time.perf_counter() - started) * 1000,
        )
        return frozen

    def tick_due(self) -> list[str]:
        """Queue a tick for each camera silent too long or whose maintenance window started or
        ended since the last run; returns their ids."""
        now = self.clock()
        since = self._last_tick_run or now
        self._last_tick_run = now
        monotonic = time.monotonic()
        due = []
        for camera_id, watched in self._watched.items():
            silence = watched.policy.silence.total_seconds()
            boundary = any(
                since < edge <= now for window in watched.spec.windows for edge in window
            )
            if boundary or monotonic - watched.last_result > silence:
                if not boundary:
                    watched.last_result = monotonic  # one tick per silence period
                due.append(camera_id)
                self.writer.put(Tick(camera_id), self._held.get(camera_id))
        return due

    # --- on demand ---------------------------------------------------------------------------

    async def fresh_snapshot(self, camera_id: str) -> tuple[bytes, datetime]:
        """Fetch a snapshot from the camera now (main profile); CameraError if it fails."""
        watched = self._watched.get(camera_id)
        if watched is None or self._onvif is None:
            raise CameraError(f"camera {camera_id}: not supervised by this process")
        return await fetch_snapshot(watched.camera), self.clock()


async def fetch_snapshot(camera: OnvifCamera) -> bytes:
    """One JPEG from ``camera``'s main profile (GetProfiles, GetSnapshotUri unless kept, HTTP
    GET)."""
    profiles = await camera.get_profiles()
    if not profiles:
        raise CameraError(f"{camera.address.where}: GetProfiles: no media profile")
    uri = await camera.get_snapshot_uri(profiles[0].token)
    return (await snapshot_at(camera, profiles[0].token, uri)).content


def _sqlstate(err: DBAPIError) -> str:
    return str(getattr(err.orig, "sqlstate", "") or "")


def _gave_way(err: DBAPIError) -> bool:
    """A transaction the database rolled back to break a deadlock or a serialization conflict
    (SQLSTATE class 40): played again at once, the database was never away."""
    return _sqlstate(err).startswith("40")


def _with_credentials(uri: str, address: CameraAddress) -> str:
    """The stream URI with the camera's credentials (RTSP asks for them too), only when it is on
    the camera's own host: a camera advertising another host gets no credentials sent there."""
    parts = urlsplit(uri)
    if not address.username or parts.username:
        return uri
    if (parts.hostname or "").lower() != address.host.strip().lower():
        log.warning(
            "%s: stream URI on another host (%s): opened without the camera's credentials",
            address.where,
            parts.hostname,
        )
        return uri
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    login = f"{quote(address.username, safe='')}:{quote(address.password, safe='')}"
    return urlunsplit(parts._replace(netloc=f"{login}@{host}"))


_MARGINAL = 1.25
"""Score under which a problem judged without a reference is taken for the scene's nature."""


def _worst_stream(results: list[CheckResult]) -> CheckResult:
    """One stream result for a camera of several streams: the first that failed, else the
    lowest frame rate; the resolution is the main stream's."""
    main = results[0]
    for result in results:
        if not result.reachable or (result.frame_rate is not None and result.frame_rate == 0):
            return result
    rates = [r.frame_rate for r in results if r.frame_rate is not None]
    if len(results) == 1 or not rates:
        return main
    return replace(main, frame_rate=min(rates))


def _learnable(report: imaging.ImageReport) -> bool:
    """Whether a snapshot may be learned into a reference still being learned.

    A healthy one may. So may a first one whose only problems were judged by the absolute
    fallbacks (``blurred``, ``covered``, ``glare`` without a reference) and only just cross
    them: a smooth scene (a wall, a field) looks "blurred" to a threshold that knows no scene,
    and would otherwise never learn the reference that judges it properly. Never a frame
    without picture, frozen or moved, nor one a reference found a problem in: a fault in the
    first minutes must not become the scene.
    """
    if not report.problems:
        return True
    if "displaced" not in report.unjudged:  # judged against a reference, and not healthy
        return False
    if not report.problems <= {"blurred", "covered", "glare"}:
        return False
    return all(report.scores.get(problem, _MARGINAL) < _MARGINAL for problem in report.problems)
