"""Prometheus series of the supervisor, in a registry of the app's own (never the global one).

Live series (observed as they happen): check latency by kind, check errors by kind and error,
writer batch latency. Read at scrape time: cameras by state (from the database, so every
worker's view agrees), scheduler lag p50/p99/max, skipped checks, writer queue length and
supervisor exceptions (from the running supervisor).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from supervision.conditions import State
from vigie.clock import utcnow
from vigie.models import Camera, CameraStatus
from vigie.notify import metrics as notify_metrics
from vigie.webhooks import metrics as webhook_metrics

__all__ = ["SupervisorMetrics", "SupervisorSnapshot"]

_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


@dataclass(frozen=True)
class SupervisorSnapshot:
    """What a scrape reads of the running supervisor, taken when it asks (the metrics never hold
    the supervisor itself)."""

    lag_p50_s: float
    lag_p99_s: float
    lag_max_s: float
    skipped: int
    queued: int
    failures: int
    supervised: int
    refused: int = 0
    """Results refused because another node took the camera's lease (several nodes)."""
    leased: bool = False
    """Whether this node shares the cameras with others through leases (PostgreSQL)."""


class SupervisorMetrics:
    """The app's registry and the series the supervisor feeds."""

    def __init__(self, sessions: Callable[[], sessionmaker[Session] | None]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.check_latency = Histogram(
            "vigie_check_duration_seconds",
            "Duration of one camera check, by kind.",
            ["kind"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.check_errors = Counter(
            "vigie_check_errors",
            "Checks that found the camera unreachable, by check kind and error.",
            ["kind", "error"],
            registry=self.registry,
        )
        self.batch_latency = Histogram(
            "vigie_writer_batch_duration_seconds",
            "Time to write one batch of results (one transaction).",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.supervisor_snapshot: Callable[[], SupervisorSnapshot] | None = None
        """Set by the app once the supervisor runs: its :meth:`snapshot` method."""
        self.live_hub: Any = None
        """The live stream's hub (``supervision.live``), for its client counts."""
        self.webhooks: Any = None
        """The running webhook dispatcher (``vigie.webhooks.dispatcher``), for its outcomes."""
        self.webhook_unhealthy_after = 5
        self.notifier: Any = None
        """The running notifier (``vigie.notify.dispatcher``), for its outcomes."""
        self.registry.register(_Scraped(self, sessions))


class _Scraped(Collector):
    def __init__(
        self, metrics: SupervisorMetrics, sessions: Callable[[], sessionmaker[Session] | None]
    ) -> None:
        self.metrics = metrics
        self.sessions = sessions

    def describe(self) -> Iterator:
        return iter(())  # computed at scrape time; nothing to check at registration

    def collect(self) -> Iterator:
        cameras = GaugeMetricFamily(
            "vigie_cameras", "Cameras of the inventory by supervision state.", labels=["state"]
        )
        for state, count in self._states().items():
            cameras.add_metric([state], count)
        yield cameras
        snapshot = self.metrics.supervisor_snapshot
        lag = GaugeMetricFamily(
            "vigie_scheduler_lag_seconds",
            "Scheduler lag (due to started) over the latest checks.",
            labels=["quantile"],
        )
        skipped = CounterMetricFamily(
            "vigie_checks_skipped", "Checks not run: the previous one of the job still ran."
        )
        queue = GaugeMetricFamily("vigie_writer_queue", "Results waiting to be written.")
        exceptions = CounterMetricFamily(
            "vigie_supervisor_exceptions",
            "The supervisor's own failures (bugs, database errors), logged with a traceback.",
        )
        supervised = GaugeMetricFamily("vigie_supervised_cameras", "Cameras being polled.")
        refused = CounterMetricFamily(
            "vigie_results_refused",
            "Results not stored: another node had taken the camera's lease (several nodes).",
        )
        if snapshot is not None:
            value = snapshot()
            for name, seconds in (
                ("0.5", value.lag_p50_s),
                ("0.99", value.lag_p99_s),
                ("1", value.lag_max_s),
            ):
                lag.add_metric([name], seconds)
            skipped.add_metric([], value.skipped)
            queue.add_metric([], value.queued)
            exceptions.add_metric([], value.failures)
            supervised.add_metric([], value.supervised)
            refused.add_metric([], value.refused)
        yield from (lag, skipped, queue, exceptions, supervised, refused)
        yield from self._live()
        yield from self._webhooks()
        yield from self._notifications()

    def _live(self) -> Iterator:
        hub = self.metrics.live_hub
        if hub is None:
            return
        stats = hub.stats()
        yield GaugeMetricFamily(
            "vigie_live_clients", "Live stream clients connected (WebSocket and SSE).",
            value=stats.clients,
        )  # fmt: skip
        for name, value, text in (
            ("vigie_live_delivered", stats.delivered, "Messages handed to live clients."),
            ("vigie_live_dropped", stats.dropped, "Slow live clients dropped (they resync)."),
        ):
            yield CounterMetricFamily(name, text, value=value)

    def _webhooks(self) -> Iterator:
        """The outbox's series (README: Webhooks), read from the database at scrape time."""
        factory = self.sessions()
        if factory is None:
            return
        dispatcher = self.metrics.webhooks
        with factory() as session:
            stats = webhook_metrics.collect(
                session,
                utcnow(),
                unhealthy_after=self.metrics.webhook_unhealthy_after,
                outcomes=dispatcher.outcomes if dispatcher is not None else None,
            )
        yield from _families(stats.samples(), webhook_metrics.HELP)

    def _notifications(self) -> Iterator:
        """The escalation outbox's series (README: Escalation), read at scrape time."""
        factory = self.sessions()
        if factory is None:
            return
        notifier = self.metrics.notifier
        with factory() as session:
            stats = notify_metrics.collect(
                session, utcnow(), outcomes=notifier.outcomes if notifier is not None else None
            )
        yield from _families(stats.samples(), notify_metrics.HELP)

    def _states(self) -> dict[str, int]:
        counts = {state.value: 0 for state in State}
        factory = self.sessions()
        if factory is None:
            return counts
        with factory() as session:
            rows = session.execute(
                select(CameraStatus.state, func.count())
                .select_from(Camera)
                .outerjoin(CameraStatus, CameraStatus.camera_id == Camera.id)
                .group_by(CameraStatus.state)
            )
            for state, count in rows:  # never checked: no status row, UNKNOWN
                counts[state or State.UNKNOWN.value] += count
        return counts


def _families(
    samples: Iterable[tuple[str, dict[str, str], float]], help_: dict[str, str]
) -> Iterator:
    """``(name, labels, value)`` samples as metric families (``_total``: a counter)."""
    families: dict[str, Any] = {}
    for name, labels, value in samples:
        if name not in families:
            kind = CounterMetricFamily if name.endswith("_total") else GaugeMetricFamily
            families[name] = kind(name.removesuffix("_total"), help_[name], labels=sorted(labels))
        families[name].add_metric([labels[k] for k in sorted(labels)], value)
    yield from families.values()
