"""`GET /api/admin/settings`: the effective settings an administrator may check (no secrets).

What the server runs with after the config file and environment are applied: recording and
retention, health-probe thresholds per feed type, hearing limits, webhooks (their URLs; never
the signing secrets), login throttling. Changing them is a config change and a restart.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aiohttp import web

from control.http import core_of, require
from control.policy import Target
from media.probes import ProbeThresholds

routes = web.RouteTableDef()
PROBES = web.AppKey("probe_thresholds", dict[str, ProbeThresholds])


@routes.get("/api/admin/settings")
async def settings_view(request: web.Request) -> web.Response:
    await require(request, "user.manage", Target(kind="system"))
    s = core_of(request).settings
    retention = s.recorder.retention
    body: dict[str, Any] = {
        "config_file": str(s.config_file),
        "recorder": {
            "segment_s": s.recorder.segment_s, "analyze": s.recorder.analyze,
            "manifest_signing": bool(s.recorder.signing_key),
            "retention": {
                "enabled": retention.enabled,
                "days_by_level": {"high": retention.high,
                                  "intermediate": retention.intermediate,
                                  "basic": retention.basic},
                "days_by_hearing_type": dict(retention.hearing_types),
                "export_days": retention.export_days,
                "interval_hours": retention.interval_hours,
            },
        },
        "probes": {name: asdict(t) for name, t in request.config_dict[PROBES].items()},
        "hearing": asdict(s.hearing),
        "webhooks": {"urls": list(s.webhooks.urls), "timeout_s": s.webhooks.timeout_s,
                     "retries": s.webhooks.retries, "signed": bool(s.webhooks.secret)},
        "auth": asdict(s.auth),
        "demo": {"enabled": s.demo.enabled,
                 "test_pattern_rooms": list(s.demo.test_pattern_rooms)},
    }
    return web.json_response(body, headers={"Cache-Control": "no-store"})
