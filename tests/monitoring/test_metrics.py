"""`GET /metrics`: parsed by prometheus_client's own parser; loopback or an admin's token."""

from __future__ import annotations

from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from control.api_monitoring import Monitoring
from control.config import Settings
from control.core import Core
from control.live import LIVE
from control.metrics import MetricsAccess
from media.sources import PatternSpec, TestPatternSource
from tests.conftest import auth, login
from tests.media.peers import wait_until
from tests.monitoring.conftest import monitored_app


def samples(text: str) -> dict[str, list]:
    out: dict[str, list] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out.setdefault(s.name, []).append(s)
    return out


def value(found: dict[str, list], name: str, **labels: str) -> float:
    return sum(s.value for s in found[name] if all(s.labels.get(k) == v
                                                   for k, v in labels.items()))


async def test_metrics_parse_and_say_what_the_node_does(client: TestClient,
                                                       tokens: dict[str, str],
                                                       mon: Monitoring,
                                                       services: Core) -> None:
    source = TestPatternSource(client.app[LIVE].streams, "rooms/HL0102-01/main",
                               PatternSpec("m", width=320, height=180, gop_s=1, duration_s=2))
    await source.start()
    try:
        assert await wait_until(lambda: mon.watch.probes.stats.video_decodes >= 1
                                and mon.watch.probes.stats.audio_windows >= 1, 5)
        await mon.alerts.raise_alert("HL0102-02", "main", "frozen")
        r = await client.get("/api/courtrooms", headers=auth(tokens["admin"]))
        assert r.status == 200
        r = await client.get("/api/courtrooms/NOPE-99", headers=auth(tokens["admin"]))
        assert r.status == 404
        r = await client.get("/metrics")  # the test client is on loopback
        assert r.status == 200 and r.content_type == "text/plain"
        found = samples(await r.text())
    finally:
        await source.stop()
    assert value(found, "courtav_streams", state="live") == 1
    assert value(found, "courtav_stream_readers", kind="probe") == 1
    assert value(found, "courtav_media_received_bytes_total") > 0
    assert value(found, "courtav_rooms", status="live") == 1
    assert value(found, "courtav_rooms") == 888
    assert value(found, "courtav_alerts_open", severity="major", kind="frozen") == 1
    assert value(found, "courtav_probed_feeds") == 1
    assert value(found, "courtav_probe_decode_seconds_count", kind="video") >= 1
    assert value(found, "courtav_probe_decode_seconds_count", kind="audio") >= 1
    assert value(found, "courtav_http_request_duration_seconds_count",
                 route="/api/courtrooms", method="GET", status="2xx") == 1
    # Routes, not raw paths, label the latencies: room codes do not multiply the series.
    assert value(found, "courtav_http_request_duration_seconds_count",
                 route="/api/courtrooms/{code}", status="4xx") == 1
    assert value(found, "courtav_bus_events_total") > 0
    assert "process_cpu_seconds_total" in found


async def test_metrics_need_loopback_or_an_admin(aiohttp_client, settings: Settings,
                                                services: Core) -> None:
    # As seen from another host: loopback no longer counts.
    app = monitored_app(settings, services, access=MetricsAccess(allow_loopback=False))
    client = await aiohttp_client(app)
    assert (await client.get("/metrics")).status == 401
    president = await login(client, "pres.hl")
    admin = await login(client, "admin")
    client.session.cookie_jar.clear()
    assert (await client.get("/metrics", headers=auth(president))).status == 403
    r = await client.get("/metrics", headers=auth(admin))
    assert r.status == 200 and "courtav_rooms" in samples(await r.text())
