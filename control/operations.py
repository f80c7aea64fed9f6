"""The information centre's view: node load, the province summary, and the feed watch that
probes every live feed and turns what the probes find into alerts.

The summary for 888 rooms is rebuilt only when a room status or an alert changes (the cache
is keyed by both versions); node load is sampled at most once a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from control.alerts import SEVERITIES, AlertBook, AlertView
from control.bus import Event
from control.core import Core
from control.db import utcnow
from control.iso8601 import iso
from control.live import LiveMedia
from control.media_paths import parse_room_path, room_of_path, room_path
from control.metrics import Metrics
from control.monitoring import ROOM_STATES
from media.probes import FEED_TYPES, PROBE_LABEL, Finding, ProbeThresholds
from media.probeset import ProbeSet
from media.stream import StreamRegistry

log = logging.getLogger(__name__)

ATTENTION_MAX = 200
_CACHE_MAX = 256
FINDING_QUEUE = 1000
# States in which a hearing has ended (its room is no longer kept under watch for it).
ENDED = frozenset({"closed", "adjourned", "cancelled"})


@dataclass(frozen=True)
class NodeSample:
    """The load of this media node at one moment."""

    node: str
    at: str
    streams: int
    live_streams: int
    viewers: int
    probes: int
    recorders: int
    recordings: int | None
    cpu_cores: float  # CPU time per wall second since the previous sample (threads included)
    bitrate_in_bps: float
    bytes_in_total: int


class NodeLoad:
    """Samples the node's streams and CPU, at most once per `min_interval_s`."""

    def __init__(self, streams: StreamRegistry, *, node: str | None = None,
                 recordings: Callable[[], int] | None = None,
                 min_interval_s: float = 1.0) -> None:
        self.streams = streams
        self.node = node or f"{socket.gethostname()}:{os.getpid()}"
        self.recordings = recordings
        self.min_interval_s = min_interval_s
        self.bytes_in_total = 0  # monotonic, though streams come and go
        self._seen: dict[str, tuple[object, int]] = {}  # path -> (stream, bytes_in counted)
        self._last_wall = time.monotonic()
        self._last_cpu = self._cpu()
        self._last_bytes = 0
        self._sample: NodeSample | None = None

    @staticmethod
    def _cpu() -> float:
        t = os.times()
        return t.user + t.system

    def sample(self) -> NodeSample:
        now = time.monotonic()
        if self._sample is not None and now - self._last_wall < self.min_interval_s:
            return self._sample
        streams = live = viewers = probes = recorders = 0
        seen: dict[str, tuple[object, int]] = {}
        for path in self.streams.paths():
            stream = self.streams.get(path)
            if stream is None:
                continue
            streams += 1
            live += stream.is_live
            for reader in stream.readers:
                if reader.label == PROBE_LABEL:
                    probes += 1
                elif reader.label == "recorder":
                    recorders += 1
                else:
                    viewers += 1
            before = self._seen.get(path)
            counted = before[1] if before is not None and before[0] is stream else 0
            self.bytes_in_total += max(0, stream.bytes_in - counted)
            seen[path] = (stream, stream.bytes_in)
        self._seen = seen
        cpu, wall = self._cpu(), max(1e-6, now - self._last_wall)
        recordings = None
        if self.recordings is not None:
            with contextlib.suppress(Exception):
                recordings = int(self.recordings())
        self._sample = NodeSample(
            node=self.node, at=iso(utcnow()) or "", streams=streams, live_streams=live,
            viewers=viewers, probes=probes, recorders=recorders, recordings=recordings,
            cpu_cores=round((cpu - self._last_cpu) / wall, 3),
            bitrate_in_bps=round((self.bytes_in_total - self._last_bytes) * 8 / wall),
            bytes_in_total=self.bytes_in_total)
        self._last_wall, self._last_cpu, self._last_bytes = now, cpu, self.bytes_in_total
        return self._sample


    def heartbeat(self) -> dict[str, Any]:
        """What this node's heartbeat carries: the sample without its node and time."""
        sample = asdict(self.sample())
        return {k: v for k, v in sample.items() if k not in ("node", "at", "bytes_in_total")}


def _worst(alerts: list[AlertView]) -> int:
    return max((SEVERITIES.index(a.severity) for a in alerts), default=-1)


class OperationsView:
    """The province summary: rooms by state per court subtree, rooms needing attention, nodes."""

    def __init__(self, services: Core, alerts: AlertBook, load: NodeLoad) -> None:
        self.services = services
        self.alerts = alerts
        self.load = load
        self._parts: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self.builds = 0  # summaries computed rather than served from the cache

    def summary(self, courts: frozenset[str]) -> bytes:
        """JSON of the summary over `courts` (the caller's visible subtree)."""
        key = (courts, self.services.monitor.version, self.alerts.version)
        part = self._parts.get(key)
        if part is None:
            part = json.dumps(self._build(courts), ensure_ascii=False,
                              separators=(",", ":")).encode()
            self._parts[key] = part
            while len(self._parts) > _CACHE_MAX:
                self._parts.popitem(last=False)
        else:
            self._parts.move_to_end(key)
        nodes = json.dumps([asdict(self.load.sample())], separators=(",", ":")).encode()
        return part[:-1] + b',"nodes":' + nodes + b"}"

    def _build(self, courts: frozenset[str]) -> dict[str, Any]:
        self.builds += 1
        reg, monitor = self.services.registry, self.services.monitor
        direct: dict[str, dict[str, int]] = {c: dict.fromkeys(ROOM_STATES, 0) for c in courts}
        by_room: dict[str, list[AlertView]] = {}
        for alert in self.alerts.open.values():
            if alert.court in courts:
                by_room.setdefault(alert.room, []).append(alert)
        attention: list[tuple[int, datetime, str]] = []
        for room in reg.rooms_of(courts):
            status = monitor.get(room.code)
            direct[room.court][status.status] += 1
            alerts = by_room.get(room.code, [])
            if alerts or status.status == "fault":
                attention.append((-_worst(alerts), status.since, room.code))
        attention.sort()
        needing = {code for _w, _s, code in attention}
        totals: dict[str, dict[str, int]] = {}
        flagged: dict[str, int] = {}

        def roll(code: str) -> dict[str, int]:
            if code not in totals:
                sums = dict(direct[code])
                count = sum(1 for r in reg.rooms_of((code,)) if r.code in needing)
                for child in reg.courts[code].children:
                    if child in courts:
                        for state, n in roll(child).items():
                            sums[state] += n
                        count += flagged[child]
                totals[code], flagged[code] = sums, count
            return totals[code]

        out_courts = []
        for code in reg.courts:  # the province file's order, parents before children
            if code in courts:
                node = reg.courts[code]
                states = roll(code)
                out_courts.append({
                    "code": code, "parent": node.parent, "name_zh": node.name_zh,
                    "name_en": node.name_en, "rooms": sum(states.values()), "states": states,
                    "attention": flagged[code]})
        province = dict.fromkeys(ROOM_STATES, 0)
        for states in direct.values():
            for state, n in states.items():
                province[state] += n
        items = []
        for _w, _s, code in attention[:ATTENTION_MAX]:
            room, status = reg.rooms[code], monitor.get(code)
            alerts = sorted(by_room.get(code, []), key=lambda a: -SEVERITIES.index(a.severity))
            items.append({
                "room": code, "court": room.court, "name_en": room.name_en,
                "name_zh": room.name_zh, "status": status.status,
                "status_since": iso(status.since), "detail": status.detail,
                "alerts": [a.to_json() for a in alerts],
            })
        return {
            "versions": {"rooms": monitor.version, "alerts": self.alerts.version},
            "generated_at": iso(utcnow()),
            "totals": {"rooms": sum(province.values()), "states": province,
                       "attention": len(attention),
                       "alerts_open": sum(len(v) for v in by_room.values())},
            "courts": out_courts,
            "attention": items,
        }


class FeedWatch:
    """Probes every live feed of this node and raises or clears alerts from the findings."""

    def __init__(self, services: Core, live: LiveMedia, alerts: AlertBook, *,
                 metrics: Metrics | None = None,
                 thresholds: Mapping[str, ProbeThresholds] = FEED_TYPES) -> None:
        self.services = services
        self.thresholds = thresholds  # by feed name; "main" is the fallback
        self.live = live
        self.alerts = alerts
        self.probes = ProbeSet(live.streams, self.on_finding,
                               on_timing=metrics.observe_probe if metrics else None)
        if metrics is not None:
            metrics.count_probes(self.probes)
        self.findings_dropped = 0
        self._findings: asyncio.Queue[Finding] = asyncio.Queue(FINDING_QUEUE)
        self._tasks: list[asyncio.Task[None]] = []
        self._running = False
        services.bus.on("stream.up", self._on_stream)
        services.bus.on("stream.down", self._on_stream)
        services.bus.on("hearing.*", self._on_hearing)

    def feed_live(self, room: str, feed: str) -> bool:
        stream = self.live.streams.get(room_path(room, feed))
        return stream is not None and stream.is_live

    def main_feed_live(self, room: str) -> bool:
        info = self.services.registry.rooms.get(room)
        return info is not None and bool(info.feeds) and self.feed_live(room, info.feeds[0])

    def on_finding(self, finding: Finding) -> None:
        """From the probes, on the loop; the alert is written by the worker, in order."""
        try:
            self._findings.put_nowait(finding)
        except asyncio.QueueFull:
            self.findings_dropped += 1
            log.warning("finding dropped (queue full): %s", finding)

    def watch(self, path: str) -> None:
        parsed = parse_room_path(path)
        if parsed is None or parsed[0] not in self.services.registry.rooms:
            return
        self.probes.watch(path, self.thresholds.get(parsed[1]) or self.thresholds["main"])

    def _resync(self) -> None:
        for path in self.live.streams.paths():
            stream = self.live.streams.get(path)
            if stream is not None and stream.is_live:
                self.watch(path)

    async def start(self) -> None:
        # Probe alerts left open by a crash are stale: the probes raise again what persists.
        await self.alerts.clear_source("probe")
        await self.probes.start()
        self._running = True
        self._resync()
        self._tasks = [asyncio.create_task(self._apply(), name="feedwatch-alerts")]

    async def stop(self) -> None:
        """Stop probing; what the probes clear on the way out is written before returning."""
        self._running = False
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self.probes.stop()
        while not self._findings.empty():  # bounded by the queue's size
            await self._apply_one(self._findings.get_nowait())

    def _on_stream(self, event: Event) -> None:
        """`stream.up`: probe the feed; `stream.down`: let it go, unless a hearing is live."""
        path = str(event.data.get("path", ""))
        if not self._running or event.target.room is None:
            return
        if event.kind == "stream.up":
            self.watch(path)
        elif not self.alerts.hearing_live(event.target.room):
            # Off the record, a feed going down is a room going idle, not a fault.
            self.probes.unwatch(path)

    async def _apply(self) -> None:
        while True:
            await self._apply_one(await self._findings.get())

    async def _apply_one(self, finding: Finding) -> None:
        parsed = parse_room_path(finding.path)
        if parsed is None:
            return
        room, feed = parsed
        try:
            if finding.active:
                await self.alerts.raise_alert(room, feed, finding.kind, value=finding.value,
                                              detail=finding.detail)
            else:
                await self.alerts.clear_alert(room, feed, finding.kind)
        except Exception:  # a database hiccup must not end the watch
            log.exception("alert for %s failed", finding)

    async def _on_hearing(self, event: Event) -> None:
        """A feed kept watched for a hearing is let go once the hearing has ended."""
        room = event.target.room
        if event.data.get("state") not in ENDED or not room:
            return
        for path in list(self.probes.probes):
            stream = self.live.streams.get(path)
            if room_of_path(path) == room and (stream is None or not stream.is_live):
                self.probes.unwatch(path)
