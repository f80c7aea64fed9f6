"""Who sits on a hearing, as the recorder asks it: the hearing package answers (judges see only
the recordings of their own hearings); without it, nobody sits anywhere."""

from __future__ import annotations

from typing import Protocol


class HearingStaff(Protocol):
    """Who sits on a hearing; supplied by the hearing package (judges see only their own).
    Awaited: an answer may need the database, which is never asked on the event loop."""

    async def staff_of(self, hearing_ref: str | None) -> frozenset[str]: ...

    async def hearings_of(self, username: str) -> frozenset[str]: ...


class NoHearingStaff:
    """Without the hearing package: no hearing has staff, so judges see no recordings."""

    async def staff_of(self, hearing_ref: str | None) -> frozenset[str]:
        return frozenset()

    async def hearings_of(self, username: str) -> frozenset[str]:
        return frozenset()
