"""Node credentials: a node proves itself to another with a signature over its id and expiry."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from control.core import Core
from control.node_auth import TTL_S, NodeCredential

SECRET = "the province's node secret"


def test_a_credential_verifies_only_with_the_same_secret_before_it_expires() -> None:
    now = [1_000_000.0]
    n1 = NodeCredential("n1", SECRET, clock=lambda: now[0])
    n2 = NodeCredential("n2", SECRET, clock=lambda: now[0])
    stranger = NodeCredential("n3", "another secret", clock=lambda: now[0])
    scheme, _, value = n1.header().partition(" ")
    assert scheme == "Node"
    who = n2.verify(value)
    assert who is not None and (who.username, who.role) == ("node:n1", "node")
    assert not who.is_anonymous
    assert stranger.verify(value) is None
    # Claiming another id with n1's signature fails; so does a changed expiry.
    node_id, expiry, signature = value.split(".")
    assert n2.verify(f"n9.{expiry}.{signature}") is None
    assert n2.verify(f"{node_id}.{int(expiry) + 60}.{signature}") is None
    for junk in ("", "n1", "n1..", "n1.x.y", "../etc.1.2", f"n1.{expiry}.{'0' * 64}"):
        assert n2.verify(junk) is None, junk
    now[0] += TTL_S + 1
    assert n2.verify(value) is None


def test_without_a_shared_secret_a_node_speaks_only_for_itself(monkeypatch) -> None:
    monkeypatch.delenv("COURTAV_NODE_SECRET", raising=False)
    a, b = NodeCredential("a"), NodeCredential("b")
    assert not a.shared
    assert b.verify(a.header().partition(" ")[2]) is None
    assert a.verify(a.header().partition(" ")[2]) is not None


async def test_a_node_may_view_streams_and_status_but_not_manage(
    client: TestClient, services: Core
) -> None:
    peer = NodeCredential("peer", SECRET)
    services.credential = NodeCredential(services.settings.node.id, SECRET)
    headers = {"Authorization": peer.header()}
    r = await client.get("/api/courtrooms", headers=headers)
    body = await r.json()
    assert r.status == 200 and len(body["items"]) > 0, body
    r = await client.get("/api/users", headers=headers)
    assert r.status == 403
    # A forged credential is nobody: the public, refused where the public may not go.
    forged = "Node peer.9999999999." + "0" * 64
    r = await client.get("/api/users", headers={"Authorization": forged})
    assert r.status == 401
