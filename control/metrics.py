"""`GET /metrics` in the Prometheus text format, from a registry of our own.

State (streams, readers, rooms, alerts, probe and webhook work) is read when scraped, so
nothing is counted twice and nothing runs between scrapes; request latencies and probe decode
times are histograms observed as they happen. Allowed from loopback, or with an admin's token.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from control.errors import ApiError, Handler
from control.http import core_of, principal
from control.policy import Target

if TYPE_CHECKING:
    from control.alerts import AlertBook
    from control.core import Core
    from control.operations import NodeLoad
    from control.webhooks import Webhooks
    from media.probeset import ProbeSet

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
DECODE_BUCKETS = (0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1)


@dataclass(frozen=True)
class MetricsAccess:
    """Who may scrape: loopback callers (the local Prometheus agent) and admins."""

    allow_loopback: bool = True


class Metrics:
    """The node's metrics registry; the feed probes report through `count_probes`."""

    def __init__(self, services: Core, load: NodeLoad, alerts: AlertBook,
                 access: MetricsAccess | None = None, webhooks: Webhooks | None = None) -> None:
        self.services = services
        self.load = load
        self.alerts = alerts
        self.access = access or MetricsAccess()
        self.probes: ProbeSet | None = None
        self.webhooks = webhooks
        self.registry = CollectorRegistry(auto_describe=True)
        self.http_latency = Histogram(
            "courtav_http_request_duration_seconds", "HTTP request latency by route",
            ["method", "route", "status"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.probe_decode = Histogram(
            "courtav_probe_decode_seconds", "CPU time of one probe decode job",
            ["kind"], buckets=DECODE_BUCKETS, registry=self.registry)
        ProcessCollector(registry=self.registry)
        self.registry.register(_StateCollector(self))

    def count_probes(self, probes: ProbeSet) -> None:
        """Called by the feed watch that owns `probes`, from its constructor."""
        self.probes = probes

    def observe_probe(self, kind: str, seconds: float) -> None:
        self.probe_decode.labels(kind).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _StateCollector(Collector):
    """Reads the node's state at scrape time."""

    def __init__(self, metrics: Metrics) -> None:
        self.m = metrics

    def describe(self) -> Iterator[Metric]:
        return iter(())  # unchecked: families depend on what is attached

    def collect(self) -> Iterator[Metric]:
        m = self.m
        node = m.load.sample()
        g = GaugeMetricFamily("courtav_streams", "Streams on this node by state", labels=["state"])
        g.add_metric(["live"], node.live_streams)
        g.add_metric(["down"], node.streams - node.live_streams)
        yield g
        g = GaugeMetricFamily("courtav_stream_readers", "Readers of streams by kind",
                              labels=["kind"])
        for kind, n in (("viewer", node.viewers), ("probe", node.probes),
                        ("recorder", node.recorders)):
            g.add_metric([kind], n)
        yield g
        if node.recordings is not None:
            yield GaugeMetricFamily("courtav_recordings_active", "Recordings in progress",
                                    value=node.recordings)
        yield CounterMetricFamily("courtav_media_received_bytes", "Encoded media bytes received",
                                  value=node.bytes_in_total)
        yield GaugeMetricFamily("courtav_node_cpu_cores", "CPU cores used (recent average)",
                                value=node.cpu_cores)
        monitor, rooms = m.services.monitor, list(m.services.registry.rooms)
        g = GaugeMetricFamily("courtav_rooms", "Courtrooms by status", labels=["status"])
        for status, n in monitor.counts(rooms).items():
            g.add_metric([status], n)
        yield g
        open_alerts: dict[tuple[str, str], int] = {}
        for alert in m.alerts.open.values():
            key = (alert.severity, alert.kind)
            open_alerts[key] = open_alerts.get(key, 0) + 1
        g = GaugeMetricFamily("courtav_alerts_open", "Open alerts", labels=["severity", "kind"])
        for (severity, kind), n in sorted(open_alerts.items()):
            g.add_metric([severity, kind], n)
        yield g
        yield CounterMetricFamily("courtav_bus_events", "Events published on the bus",
                                  value=m.services.bus.published)
        if m.probes is not None:
            s = m.probes.stats
            yield GaugeMetricFamily("courtav_probed_feeds", "Feeds being probed",
                                    value=len(m.probes.probes))
            yield CounterMetricFamily("courtav_probe_packets", "Packets seen by probes",
                                      value=s.frames)
            yield CounterMetricFamily("courtav_probe_jobs_dropped", "Probe decodes skipped",
                                      value=s.jobs_dropped)
        if m.webhooks is not None:
            w = m.webhooks.stats
            c = CounterMetricFamily("courtav_webhook_deliveries", "Webhook deliveries by result",
                                    labels=["result"])
            for result in ("delivered", "failed", "dropped", "missed"):
                c.add_metric([result], getattr(w, result))
            yield c
            yield GaugeMetricFamily("courtav_webhook_queued", "Webhook events waiting",
                                    value=m.webhooks.queued)


METRICS = web.AppKey("metrics", Metrics)
routes = web.RouteTableDef()


def _loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    m = request.config_dict[METRICS]
    if not (m.access.allow_loopback and _loopback(request.remote)):
        who = await principal(request)
        if who.is_anonymous:
            raise ApiError(401, "authentication required", headers={"WWW-Authenticate": "Bearer"})
        # Admin only: a province-wide system target no court-bound role reaches.
        if not core_of(request).policy.can(who, "system.metrics", Target(kind="system")):
            raise ApiError(403, "forbidden", {"action": "metrics"})
    return web.Response(body=m.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})


@web.middleware
async def http_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Request latency by method, route pattern (not the raw path) and status class."""
    m = request.config_dict.get(METRICS)
    if m is None:
        return await handler(request)
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        if isinstance(response, web.WebSocketResponse):
            return response  # a socket's lifetime is not a latency
        _observe(m, request, status, started)
        return response
    except web.HTTPException as exc:
        _observe(m, request, exc.status, started)
        raise
    except asyncio.CancelledError:
        raise  # the client went away: no response, no latency
    except BaseException:
        _observe(m, request, status, started)
        raise


def _observe(m: Metrics, request: web.Request, status: int, started: float) -> None:
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else "unmatched"
    m.http_latency.labels(request.method, route, f"{status // 100}xx").observe(
        time.perf_counter() - started)
