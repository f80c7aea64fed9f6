"""Wall API per role: personal layouts kept across logins, shared walls fed within scope only,
every change on the bus for those who may use the wall."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from control.api_monitoring import MONITORING
from control.core import Core
from control.live import LIVE
from control.models import AuditEvent
from control.policy import Principal
from media import TrackInfo
from tests.conftest import auth, login

LAYOUT = {"size": 4, "tiles": [{"room": "HL01-01"}, None, {"room": "HL0102-01", "feed": "sub"}],
          "tour": {"court": "HL01", "interval_s": 10}}


async def put(client: TestClient, url: str, token: str, body: Any) -> Any:
    resp = await client.put(url, json=body, headers=auth(token))
    return resp.status, await resp.json() if resp.content_type == "application/json" else None


async def post(client: TestClient, url: str, token: str, body: Any) -> Any:
    resp = await client.post(url, json=body, headers=auth(token))
    return resp.status, await resp.json()


async def get(client: TestClient, url: str, token: str) -> Any:
    resp = await client.get(url, headers=auth(token))
    return resp.status, await resp.json()


async def test_a_saved_layout_is_returned_after_logging_in_again(
        client: TestClient, tokens: dict[str, str]) -> None:
    status, saved = await put(client, "/api/walls/mine/Harbin rooms", tokens["sec.harbin"],
                              LAYOUT)
    assert status == 200, saved
    assert saved["tiles"] == [{"room": "HL01-01", "feed": None}, None,
                              {"room": "HL0102-01", "feed": "sub"}, None]
    await put(client, "/api/walls/mine/second", tokens["sec.harbin"], {"size": 1, "tiles": []})
    resp = await client.post("/api/logout", headers=auth(tokens["sec.harbin"]))
    assert resp.status == 204
    assert (await get(client, "/api/walls/mine", tokens["sec.harbin"]))[0] == 401
    fresh = await login(client, "sec.harbin")
    client.session.cookie_jar.clear()
    status, body = await get(client, "/api/walls/mine", fresh)
    assert status == 200
    assert [la["name"] for la in body["layouts"]] == ["second", "Harbin rooms"]  # newest first
    again = body["layouts"][1]
    assert again["tiles"] == saved["tiles"] and again["tour"] == LAYOUT["tour"]
    # Layouts are personal.
    assert (await get(client, "/api/walls/mine", tokens["sec.daoli"]))[1]["layouts"] == []
    resp = await client.delete("/api/walls/mine/second", headers=auth(fresh))
    assert resp.status == 204
    resp = await client.delete("/api/walls/mine/second", headers=auth(fresh))
    assert resp.status == 404


async def test_layouts_hold_only_rooms_the_user_may_view(client: TestClient,
                                                         tokens: dict[str, str]) -> None:
    for token, room in ((tokens["sec.harbin"], "HL02-01"),  # another city
                        (tokens["sec.daoli"], "HL01-01"),   # the court above
                        (tokens["sec.harbin"], "HL99-01")):  # no such room
        status, body = await put(client, "/api/walls/mine/x", token,
                                 {"size": 4, "tiles": [{"room": room}]})
        assert (status, body["error"]) == (404, "unknown room"), (room, body)
    bad = [({"size": 5, "tiles": []}, 400), ({"size": 1, "tiles": [None, None]}, 400),
           ({"size": 4, "tiles": [{"room": "HL01-01", "feed": "rear"}]}, 400),
           ({"size": 4, "tiles": [], "tour": {"court": "HL02", "interval_s": 10}}, 404),
           ({"size": 4, "tiles": [], "tour": {"court": "HL01", "interval_s": 1}}, 400)]
    for body, expected in bad:
        status, _ = await put(client, "/api/walls/mine/x", tokens["sec.harbin"], body)
        assert status == expected, body
    # Roles without wall.use have no wall at all.
    assert (await get(client, "/api/walls/mine", tokens["judge.daoli"]))[0] == 403
    assert (await get(client, "/api/walls/mine", tokens["clerk.daoli"]))[0] == 403


async def test_shared_wall_is_fed_within_its_courts_and_followed_on_the_bus(
        client: TestClient, tokens: dict[str, str], services: Core) -> None:
    sec, pres = tokens["sec.harbin"], tokens["pres.harbin"]
    # Operators push; court leaders create.
    status, _ = await post(client, "/api/walls", sec, {"name": "指挥中心", "court": "HL01"})
    assert status == 403
    status, _ = await post(client, "/api/walls", pres, {"name": "x", "court": "HL02"})
    assert status == 404
    status, wall = await post(client, "/api/walls", pres,
                              {"name": "指挥中心", "court": "HL01", "size": 16})
    assert status == 201 and wall["tiles"] == [None] * 16 and wall["version"] == 1
    url = f"/api/walls/{wall['id']}"
    sub = services.bus.subscribe()
    status, changed = await post(client, f"{url}/tiles/5", sec, {"room": "HL0102-01"})
    assert status == 200 and changed["version"] == 2
    assert changed["tiles"][5]["room"] == "HL0102-01" and changed["tiles"][5]["by"] == "sec.harbin"
    event = await sub.next("wall.changed", within=5)
    assert event.data["tile"] == 5 and event.data["tiles"][5]["room"] == "HL0102-01"
    # Who may see the event is who may use the wall: Harbin's staff, not Daoli's.
    policy = services.policy
    assert policy.can(Principal("sec.harbin", "security", "HL01", 7), event.action, event.target)
    assert not policy.can(Principal("sec.daoli", "security", "HL0102", 8), event.action,
                          event.target)
    # Security of Harbin may not push a room of another city; nor admin one outside the wall.
    for token in (sec, tokens["admin"]):
        status, body = await post(client, f"{url}/tiles/0", token, {"room": "HL02-01"})
        assert (status, body["error"]) == (404, "unknown room")
    # Daoli's security does not see Harbin's wall at all.
    assert (await get(client, url, tokens["sec.daoli"]))[0] == 404
    assert (await post(client, f"{url}/tiles/0", tokens["sec.daoli"],
                       {"room": "HL0102-01"}))[0] == 404
    assert (await get(client, "/api/walls", tokens["sec.daoli"]))[1]["walls"] == []
    assert [w["id"] for w in (await get(client, "/api/walls", sec))[1]["walls"]] == [wall["id"]]
    assert (await post(client, f"{url}/tiles/16", sec, {"room": "HL01-01"}))[0] == 404
    resp = await client.delete(f"{url}/tiles/5", headers=auth(sec))
    assert resp.status == 200 and (await resp.json())["tiles"][5] is None
    # Resizing is for leaders; tiles past the new size go.
    await post(client, f"{url}/tiles/2", sec, {"room": "HL01-02", "feed": "sub"})
    await post(client, f"{url}/tiles/9", sec, {"room": "HL01-03"})
    assert (await put(client, url, sec, {"size": 4}))[0] == 403
    status, body = await put(client, url, pres, {"size": 4, "name": "大屏"})
    assert status == 200 and body["size"] == 4 and body["name"] == "大屏"
    assert [t and t["room"] for t in body["tiles"]] == [None, None, "HL01-02", None]
    resp = await client.delete(url, headers=auth(pres))
    assert resp.status == 204
    assert (await get(client, url, sec))[0] == 404
    sub.close()
    # Who put what on the wall is on the record.
    with services.db.session() as s:
        rows = [(r.actor, r.action, r.detail.get("room")) for r in s.scalars(
            select(AuditEvent).where(AuditEvent.action.startswith("wall.")).order_by(AuditEvent.id))]
    assert rows[:2] == [("pres.harbin", "wall.create", None),
                        ("sec.harbin", "wall.tile", "HL0102-01")]
    assert rows[-1] == ("pres.harbin", "wall.delete", None)


async def test_an_alarm_is_pushed_onto_a_shared_wall(client: TestClient,
                                                     tokens: dict[str, str]) -> None:
    alerts = client.app[MONITORING].alerts
    near = await alerts.raise_alert("HL0102-01", "main", "video_loss")
    far = await alerts.raise_alert("HL02-01", "main", "video_loss")
    _, wall = await post(client, "/api/walls", tokens["admin"],
                         {"name": "Harbin", "court": "HL01", "size": 4})
    url = f"/api/walls/{wall['id']}/tiles/1"
    status, body = await post(client, url, tokens["sec.harbin"], {"alert": near.id})
    assert status == 200
    assert body["tiles"][1] | {"at": None} == {"room": "HL0102-01", "feed": "main",
                                               "alert": near.id, "by": "sec.harbin", "at": None}
    # Another city's alarm is unknown to Harbin's security, and foreign to Harbin's wall.
    assert (await post(client, url, tokens["sec.harbin"], {"alert": far.id}))[0] == 404
    assert (await post(client, url, tokens["admin"], {"alert": far.id}))[0] == 404
    assert (await post(client, url, tokens["admin"], {"alert": 999999}))[0] == 404


async def test_live_feeds_of_rooms_in_scope(client: TestClient, tokens: dict[str, str]) -> None:
    streams = client.app[LIVE].streams
    pubs = [streams.publish(path, [TrackInfo("video", "H264", 90000)])
            for path in ("rooms/HL0102-01/sub", "rooms/HL02-01/main")]
    try:
        status, body = await get(client, "/api/walls/feeds?rooms=HL0102-01,HL02-01,HL01-01,bad",
                                 tokens["sec.harbin"])
        assert status == 200
        assert body["feeds"] == {"HL0102-01": ["sub"], "HL01-01": []}
        many = ",".join(f"HL01-{i:02d}" for i in range(1, 70))
        assert (await get(client, f"/api/walls/feeds?rooms={many}", tokens["admin"]))[0] == 400
    finally:
        for pub in pubs:
            pub.close()
