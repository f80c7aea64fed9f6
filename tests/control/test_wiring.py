"""The app as create_app wires it: who reacts to an event is whoever handles its kind."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from control.core import Core


def reactions(services: Core, kind: str) -> list[str]:
    return [getattr(h, "__qualname__", repr(h)) for h in services.bus.handlers_of(kind)]


async def test_who_reacts_when_a_hearing_opens(client: TestClient, services: Core) -> None:
    assert reactions(services, "hearing.opened") == [
        "OverdueWatch.on_transition",  # watches the hearing's end
        "HearingRecorder._opened",  # records the room's feeds, a gap if none is live
        "Broadcasts.on_transition",  # on air if approved
        "AlertBook._hearing_opened",  # escalates the room's open alerts
        "BenchDirectory._forget",  # benches are read afresh
        "FeedWatch._on_hearing",  # (an ended hearing lets its room's dead feeds go)
        "UpcomingWatch._on_hearing",  # no longer upcoming: its dark-room alert clears
    ]


async def test_who_reacts_to_streams_and_broadcasts(client: TestClient, services: Core) -> None:
    assert reactions(services, "stream.down") == [
        "StreamDirectory._down", "LiveMedia._room_status", "HearingRecorder.on_stream",
        "Arraignment.on_stream", "FeedWatch._on_stream", "UpcomingWatch._on_stream"]
    assert reactions(services, "stream.up") == [
        "StreamDirectory._up", "LiveMedia._room_status", "HearingRecorder.on_stream",
        "PetitionMedia.on_stream", "Arraignment.on_stream", "FeedWatch._on_stream",
        "UpcomingWatch._on_stream"]
    assert reactions(services, "broadcast.ended") == ["LiveMedia._broadcast_ended"]
    assert reactions(services, "recording.failed") == ["HearingRecorder.on_recording_failed"]
    assert reactions(services, "petition.ended") == ["PetitionMedia.on_ended",
                                                     "BenchDirectory._forget"]
    assert reactions(services, "case.changed") == ["Broadcasts.on_case_changed"]


async def test_who_reacts_to_events_of_other_nodes(client: TestClient, services: Core) -> None:
    """Only handlers of state every node shares opt in to remote events."""

    def remote(kind: str) -> list[str]:
        return [getattr(h, "__qualname__", repr(h))
                for h in services.bus.handlers_of(kind, remote=True)]

    assert remote("hearing.opened") == ["BenchDirectory._forget"]
    assert remote("petition.ended") == ["BenchDirectory._forget"]
    # Streams are this node's own; only the directory of where they are is shared.
    assert remote("stream.down") == ["StreamDirectory._down"]
    assert remote("node.down") == ["StreamDirectory._node_down"]
    assert remote("auth.token_revoked") == ["Authenticator._drop_token"]
    assert remote("auth.sessions_ended") == ["Authenticator._drop_user"]
    assert reactions(services, "auth.token_revoked") == ["Authenticator._drop_token"]
