"""The operations summary, node load, and the feed watch from a live stream to an alert."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from control.api_monitoring import MONITORING, Monitoring
from control.config import Settings
from control.core import Core
from control.db import utcnow
from control.live import LIVE
from control.models import Alert
from media.sources import PatternSpec, TestPatternSource
from tests.conftest import auth
from tests.media.peers import wait_until
from tests.monitoring.conftest import monitored_app

ROOM = "HL0102-01"


async def summary(client: TestClient, token: str, query: str = "") -> dict:
    r = await client.get(f"/api/operations/summary{query}", headers=auth(token))
    assert r.status == 200, await r.text()
    return await r.json()


async def test_summary_counts_rooms_by_state_per_subtree(client: TestClient,
                                                        tokens: dict[str, str],
                                                        mon: Monitoring,
                                                        services: Core) -> None:
    services.monitor.set_status(ROOM, "live")
    services.monitor.set_status("HL0102-02", "recording")
    services.monitor.set_status("HL0103-01", "live")
    await mon.alerts.raise_alert(ROOM, "main", "silence", value=-70.0)
    body = await summary(client, tokens["admin"])
    assert body["totals"]["rooms"] == 888
    states = body["totals"]["states"]
    assert (states["live"], states["recording"], states["fault"]) == (2, 1, 0)
    courts = {c["code"]: c for c in body["courts"]}
    assert len(courts) == len(services.registry.courts)
    assert courts["HL01"]["states"]["live"] == 2 and courts["HL01"]["attention"] == 1
    assert courts["HL0102"]["states"]["recording"] == 1
    assert courts["HL"]["rooms"] == 888 and courts["HL"]["attention"] == 1
    [room] = body["attention"]
    assert room["room"] == ROOM and room["alerts"][0]["kind"] == "silence"
    [node] = body["nodes"]
    assert {"streams", "viewers", "cpu_cores", "bitrate_in_bps", "probes"} <= set(node)
    # A president of Daoli sees Daoli only; a judge has no operations view.
    daoli = await summary(client, tokens["pres.daoli"])
    assert [c["code"] for c in daoli["courts"]] == ["HL0102"]
    assert daoli["totals"]["states"]["live"] == 1
    harbin = await summary(client, tokens["pres.harbin"], "?court=HL0103")
    assert [c["code"] for c in harbin["courts"]] == ["HL0103"]
    r = await client.get("/api/operations/summary", headers=auth(tokens["judge.daoli"]))
    assert r.status == 403


async def test_summary_is_cached_until_a_status_or_alert_changes(
        client: TestClient, tokens: dict[str, str], mon: Monitoring,
        services: Core) -> None:
    ops = mon.operations
    await summary(client, tokens["admin"])
    built = ops.builds
    for _ in range(5):
        await summary(client, tokens["admin"])
    assert ops.builds == built
    services.monitor.set_status(ROOM, "live")
    assert (await summary(client, tokens["admin"]))["totals"]["states"]["live"] == 1
    await mon.alerts.raise_alert(ROOM, "main", "video_loss")
    body = await summary(client, tokens["admin"])
    assert body["totals"]["states"]["fault"] == 1 and body["totals"]["alerts_open"] == 1
    assert ops.builds == built + 2


async def test_a_live_feed_is_probed_and_its_loss_alerted(client: TestClient,
                                                         mon: Monitoring,
                                                         services: Core) -> None:
    live = client.app[LIVE]
    path = f"rooms/{ROOM}/main"
    spec = PatternSpec(ROOM, width=320, height=180, gop_s=1, duration_s=2)
    source = TestPatternSource(live.streams, path, spec)
    await source.start()
    try:
        assert await wait_until(lambda: path in mon.watch.probes.probes, 5)
        assert await wait_until(lambda: mon.watch.probes.stats.video_decodes >= 2, 5)
        assert services.monitor.get(ROOM).status == "live"
        assert mon.alerts.open_in(ROOM) == []
        node = mon.load.sample()
        assert node.live_streams == 1 and node.probes == 1 and node.viewers == 0
        # During a hearing the probe stays on a feed that went down, and the loss is an alert.
        mon.alerts.hearing_live = lambda room: room == ROOM
        await source.stop()
        assert await wait_until(lambda: any(a.kind == "video_loss"
                                            for a in mon.alerts.open_in(ROOM)), 5)
        alert = mon.alerts.open_in(ROOM)[0]
        assert alert.escalated and alert.severity == "critical" and alert.feed == "main"
        assert services.monitor.get(ROOM).status == "fault"
        await source.start()  # the encoder is back: the alert clears, the room is live again
        assert await wait_until(lambda: mon.alerts.open_in(ROOM) == [], 5)
        assert services.monitor.get(ROOM).status == "live"
    finally:
        await source.stop()
    # Off the record a feed going down is no fault: the probe lets go.
    mon.alerts.hearing_live = lambda room: False
    await source.start()
    await source.stop()
    assert await wait_until(lambda: path not in mon.watch.probes.probes, 5)
    assert mon.alerts.open_in(ROOM) == []


async def test_probe_alerts_do_not_outlive_the_probes(aiohttp_client, settings: Settings,
                                                     services: Core) -> None:
    # A crash left a probe alert open: stale, cleared at start.
    with services.db.session() as s:
        s.add(Alert(court="HL0102", room=ROOM, feed="main", kind="frozen", severity="major",
                    source="probe", raised_at=utcnow()))
    client = await aiohttp_client(monitored_app(settings, services))
    mon = client.app[MONITORING]
    assert mon.alerts.open_in(ROOM) == []
    # A schedule alert (as for a hearing about to start) is not the probes' to clear.
    await mon.alerts.raise_alert(ROOM, "", "feeds_down", source="schedule")
    # On the way down, what the probes clear is written before the database closes.
    live = client.app[LIVE]
    mon.alerts.hearing_live = lambda room: room == ROOM
    source = TestPatternSource(live.streams, f"rooms/{ROOM}/main",
                               PatternSpec(ROOM, width=320, height=180, gop_s=1, duration_s=2))
    await source.start()
    assert await wait_until(lambda: mon.watch.probes.stats.video_decodes >= 1, 5)
    await source.stop()
    assert await wait_until(lambda: len(mon.alerts.open_in(ROOM)) == 2, 5)
    await client.close()
    with services.db.session() as s:
        open_kinds = {a.kind for a in s.query(Alert).filter(Alert.cleared_at.is_(None))}
    assert open_kinds == {"feeds_down"}
