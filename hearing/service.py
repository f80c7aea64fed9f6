"""The hearing desk of this node: every change to cases and hearings goes through here.

Each change is one database transaction, then an audit record and a bus event. Bookings and
transitions share one lock so that, on SQLite, two of them never interleave between the conflict
check and the write (PostgreSQL row locks do the same across nodes).
"""

from __future__ import annotations

import asyncio
import functools
from datetime import timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import select

from control.bus import Event
from control.core import Core
from control.db import utcnow
from control.policy import Principal, Target
from hearing import cases
from hearing.case_number import CaseNumber, CaseNumberError, parse_case_number
from hearing.errors import HearingError
from hearing.lifecycle import LIVE, Lifecycle
from hearing.models import Case
from hearing.overdue import OverdueWatch
from hearing.redaction import RedactionRules
from hearing.schedule import Slot, reschedule_hearing, schedule_hearing


class HearingService:
    """Cases, the schedule, the lifecycle and its overdue alerts, over the shared services."""

    def __init__(self, services: Core, rules: RedactionRules | None = None,
                 utc_offset: timedelta = timedelta(0)) -> None:
        self.services = services
        self.lock = asyncio.Lock()
        self.lifecycle = Lifecycle(services, self.lock)
        self.overdue = OverdueWatch(services)
        self.rules = rules or RedactionRules()
        self.utc_offset = utc_offset  # of the courts' local day, for day and week views
        self.court_by_prefix = {c.case_prefix: c.code for c in services.registry.courts.values()}

    async def start(self) -> None:
        await self.overdue.start()

    async def stop(self) -> None:
        await self.overdue.stop()

    def parse_number(self, text: str) -> tuple[CaseNumber, str]:
        """The case number and the court it names, or 400 naming the part at fault."""
        try:
            number = parse_case_number(text, self.court_by_prefix)
        except CaseNumberError as exc:
            raise HearingError(400, f"invalid case number: {exc.message}",
                               {"part": exc.part, "message": exc.message}) from None
        return number, self.court_by_prefix[number.court_prefix]

    async def case_id_of(self, text: str) -> int:
        number, _ = self.parse_number(text)
        found = await self.services.db.run(
            lambda s: s.scalar(select(Case.id).where(Case.number == str(number)))
        )
        if found is None:
            raise HearingError(404, "not found")
        return int(found)

    async def file_case(self, who: Principal, text: str, cause: str, judge: str | None,
                        clerk: str | None, status: str, restriction: str | None,
                        parties: list[cases.PartyInput], address: str = "") -> dict[str, Any]:
        number, court = self.parse_number(text)
        svc = self.services
        body = await svc.db.run(functools.partial(
            cases.create_case, policy=svc.policy, who=who, number=number, court=court,
            cause=cause, judge=judge, clerk=clerk, status=status, restriction=restriction,
            parties=parties,
        ))
        await svc.audit.record(who, "case.filed", f"case:{body['id']}", court=court,
                               address=address, detail={"number": body["number"],
                                                        "parties": len(parties)})
        return body

    async def change_case(self, who: Principal, case_id: int, changes: dict[str, Any],
                          address: str = "") -> dict[str, Any]:
        svc = self.services
        async with self.lock:  # may take coming hearings off the public schedule
            body = await svc.db.run(functools.partial(
                cases.update_case, policy=svc.policy, who=who, case_id=case_id, changes=changes,
            ))
        await svc.audit.record(who, "case.changed", f"case:{case_id}", court=body["court"],
                               address=address, detail={"fields": sorted(changes)})
        await self._case_changed(case_id, body["court"])
        return body

    async def add_parties(self, who: Principal, case_id: int, parties: list[cases.PartyInput],
                          address: str = "") -> list[dict[str, Any]]:
        svc = self.services
        async with self.lock:
            added = await svc.db.run(functools.partial(
                cases.add_parties, policy=svc.policy, who=who, case_id=case_id, parties=parties,
            ))
        await svc.audit.record(who, "case.parties_added", f"case:{case_id}", address=address,
                               detail={"parties": [p["id"] for p in added]})
        await self._case_changed(case_id, None)
        return added

    async def schedule(self, who: Principal, case_id: int, slot: Slot, public: bool,
                       title: str, address: str = "",
                       remote_site: str | None = None) -> dict[str, Any]:
        svc = self.services
        now = utcnow()
        async with self.lock:
            body, target = await svc.db.run(functools.partial(
                schedule_hearing, policy=svc.policy, registry=svc.registry, who=who,
                case_id=case_id, slot=slot, public=public, title=title, now=now,
                remote_site=remote_site,
            ))
        await svc.audit.record(who, "hearing.scheduled", f"hearing:{body['id']}",
                               court=body["court"], address=address,
                               detail={"case": body["case"]["number"], "room": body["room"],
                                       "starts_at": body["starts_at"],
                                       "ends_at": body["ends_at"],
                                       "remote_site": body["remote_site"]})
        self._publish("hearing.scheduled", body, target)
        return body

    async def reschedule(self, who: Principal, hearing_id: int, changes: dict[str, Any],
                         address: str = "") -> dict[str, Any]:
        svc = self.services
        now = utcnow()
        async with self.lock:
            body, target = await svc.db.run(functools.partial(
                reschedule_hearing, policy=svc.policy, registry=svc.registry, who=who,
                hearing_id=hearing_id, changes=changes, now=now,
            ))
            if body["state"] in LIVE and "ends_at" in changes:
                self.overdue.watch(hearing_id, changes["ends_at"])
        await svc.audit.record(who, "hearing.rescheduled", f"hearing:{hearing_id}",
                               court=body["court"], address=address,
                               detail={"fields": sorted(changes)})
        self._publish("hearing.rescheduled", body, target)
        return body

    async def _case_changed(self, case_id: int, court: str | None) -> None:
        """`case.changed` (details or parties): broadcasts re-check their restrictions. Private:
        who may see a case is decided per request, not per event."""
        await self.services.bus.publish(Event(
            kind="case.changed", target=Target(kind="case", court=court, private=True),
            action="hearing.view", data={"case": case_id}))

    def _publish(self, kind: str, body: dict[str, Any], target: Target) -> None:
        self.services.bus.post(Event(
            kind=kind, target=target, action="hearing.view",
            data={"hearing": body["id"], "case": body["case"]["number"], "state": body["state"],
                  "starts_at": body["starts_at"], "ends_at": body["ends_at"]},
        ))


HEARINGS = web.AppKey("hearings", HearingService)
