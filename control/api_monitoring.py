"""Monitoring routes: alerts, the operations summary, the viewing audit.

The services behind them (alert book, feed watch, node load, metrics, webhooks) are built by
`create_app` and reached as `app[MONITORING]`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from control.alerts import (
    ALERT_STATES,
    AlertBook,
    AlertQuery,
    AlertView,
    query_alerts,
    visible_alert,
)
from control.errors import ApiError
from control.http import client_address, core_of, field, query_int, read_json, require, require_user
from control.iso8601 import iso, parse_iso
from control.metrics import Metrics
from control.models import Alert, AuditEvent
from control.operations import FeedWatch, NodeLoad, OperationsView
from control.policy import Principal, Target
from control.province import COURT_CODE, ROOM_CODE
from control.upcoming import UpcomingWatch
from control.webhooks import Webhooks

MAX_PAGE = 500
_KIND = re.compile(r"^[a-z][a-z_.]{0,31}$")
_ACTION = re.compile(r"^[a-z][a-z_.]{0,47}\*?$")


@dataclass
class Monitoring:
    """This node's monitoring services, as `app[MONITORING]`."""

    alerts: AlertBook
    load: NodeLoad
    operations: OperationsView
    watch: FeedWatch
    metrics: Metrics
    webhooks: Webhooks | None
    upcoming: UpcomingWatch | None


MONITORING = web.AppKey("monitoring", Monitoring)
routes = web.RouteTableDef()


def _monitoring(request: web.Request) -> Monitoring:
    return request.config_dict[MONITORING]


async def _courts(request: web.Request, action: str) -> tuple[Principal, frozenset[str]]:
    """The caller's courts for `action`, narrowed to `?court=` (its subtree) when given."""
    who = await require_user(request)
    svc = core_of(request)
    visible = svc.policy.visible_courts(who, action)
    if not visible:
        raise ApiError(403, "forbidden", {"action": action})
    court = request.query.get("court", "")
    if court:
        if not COURT_CODE.match(court) or court not in visible:
            raise ApiError(404, "unknown court", {"court": court[:32]})
        visible = visible & svc.registry.subtree(court)
    return who, visible


# ---- alerts ----

@routes.get("/api/alerts")
async def list_alerts(request: web.Request) -> web.Response:
    _who, courts = await _courts(request, "alert.view")
    kind = request.query.get("kind") or None
    if kind is not None and not _KIND.match(kind):
        raise ApiError(400, "malformed kind")
    state = request.query.get("state") or None
    if state is not None and state not in (*ALERT_STATES, "active"):
        raise ApiError(400, "unknown state", {"allowed": [*ALERT_STATES, "active"]})
    room = request.query.get("room") or None
    if room is not None and not ROOM_CODE.match(room):
        raise ApiError(400, "malformed room code")
    q = AlertQuery(courts, kind, state, room, query_int(request, "limit", 100, 1, MAX_PAGE),
                   query_int(request, "offset", 0, 0, 10_000_000))
    total, rows = await core_of(request).db.run(lambda s: query_alerts(s, q))
    return web.json_response({"total": total, "limit": q.limit, "offset": q.offset,
                              "items": [a.to_json() for a in rows]})


async def _alert(request: web.Request, action: str) -> tuple[Principal, AlertView]:
    who = await require_user(request)
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 12:
        raise ApiError(404, "unknown alert")
    svc = core_of(request)
    alert_id = int(raw)
    view = await svc.db.run(lambda s: AlertView.of(r) if (r := s.get(Alert, alert_id)) else None)
    view = visible_alert(view, who, svc)
    if not svc.policy.can(who, action, view.target):
        raise ApiError(403, "forbidden", {"action": action})
    return who, view


@routes.get("/api/alerts/{id}")
async def get_alert(request: web.Request) -> web.Response:
    _who, view = await _alert(request, "alert.view")
    return web.json_response(view.to_json())


@routes.post("/api/alerts/{id}/ack")
async def ack_alert(request: web.Request) -> web.Response:
    who, view = await _alert(request, "alert.ack")
    body = await read_json(request)
    comment = str(field(body, "comment", str, max_len=500)).strip()
    if not comment:
        raise ApiError(400, "field 'comment' must not be empty")
    acked = await _monitoring(request).alerts.acknowledge(view.id, who, comment)
    return web.json_response(acked.to_json())


# ---- operations ----

@routes.get("/api/operations/summary")
async def operations_summary(request: web.Request) -> web.Response:
    _who, courts = await _courts(request, "alert.view")
    body = _monitoring(request).operations.summary(courts)
    return web.Response(body=body, content_type="application/json",
                        headers={"Cache-Control": "no-store"})


# ---- the viewing audit ----

def _when(request: web.Request, name: str) -> datetime | None:
    raw = request.query.get(name)
    if not raw:
        return None
    return parse_iso(raw, f"query parameter {name!r}", naive_is_utc=True)


def _audit_json(row: AuditEvent) -> dict[str, Any]:
    return {"id": row.id, "at": iso(row.at), "actor": row.actor, "role": row.role,
            "court": row.court, "action": row.action, "target": row.target,
            "address": row.address, "detail": row.detail}


@routes.get("/api/audit")
async def audit_query(request: web.Request) -> web.Response:
    who, courts = await _courts(request, "audit.view")
    svc = core_of(request)
    where: list[ColumnElement[bool]] = []
    # Records without a court (system actions) only the province-wide see, unfiltered.
    province_wide = svc.policy.can(who, "audit.view", Target(kind="system"))
    if request.query.get("court") or not province_wide:
        where.append(AuditEvent.court.in_(courts))
    action = request.query.get("action") or None
    if action is not None:
        if not _ACTION.match(action):
            raise ApiError(400, "malformed action")
        where.append(AuditEvent.action.startswith(action[:-1], autoescape=True)
                     if action.endswith("*") else AuditEvent.action == action)
    actor = request.query.get("actor") or None
    if actor is not None:
        if len(actor) > 64:
            raise ApiError(400, "query parameter 'actor' is longer than 64 characters")
        where.append(AuditEvent.actor == actor)
    start, end = _when(request, "from"), _when(request, "to")
    if start is not None:
        where.append(AuditEvent.at >= start)
    if end is not None:
        where.append(AuditEvent.at < end)
    limit = query_int(request, "limit", 100, 1, MAX_PAGE)
    offset = query_int(request, "offset", 0, 0, 10_000_000)

    def run(session: Session) -> tuple[int, list[dict[str, Any]]]:
        total = session.scalar(select(func.count()).select_from(AuditEvent).where(*where)) or 0
        rows = session.scalars(select(AuditEvent).where(*where)
                               .order_by(AuditEvent.id.desc()).limit(limit).offset(offset))
        return total, [_audit_json(r) for r in rows]

    total, items = await svc.db.run(run)
    # Who read the audit is itself on the record.
    filters = {k: v[:64] for k, v in request.query.items() if k in
               ("court", "action", "actor", "from", "to")}
    await svc.audit.record(who, "audit.query", "audit", address=client_address(request),
                           detail={"filters": filters, "results": total})
    return web.json_response({"total": total, "limit": limit, "offset": offset,
                              "items": items})


@routes.get("/api/audit/verify")
async def audit_verify(request: web.Request) -> web.Response:
    svc = core_of(request)
    # The whole chain spans every court: only the province-wide may check it.
    who = await require(request, "audit.view", Target(kind="system"))
    records = await svc.db.run(
        lambda s: s.scalar(select(func.count()).select_from(AuditEvent)) or 0)
    broken = await svc.db.run(svc.audit.verify)
    await svc.audit.record(who, "audit.verify", "audit", address=client_address(request),
                           detail={"intact": broken is None, "broken_at": broken})
    return web.json_response({"intact": broken is None, "broken_at": broken,
                              "records": records})
