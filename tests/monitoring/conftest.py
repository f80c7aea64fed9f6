"""The app as `create_app` builds it, with the monitoring wired in as app.py will wire it."""

from __future__ import annotations

from dataclasses import replace

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from control.api_monitoring import MONITORING, Monitoring
from control.app import create_app
from control.config import Settings
from control.core import Core
from control.metrics import MetricsAccess
from media.probes import FEED_TYPES

# Probe thresholds short enough for a test to wait for them in real time.
FAST = {name: replace(t, keyframe_every_s=0.5, audio_every_s=0.5, audio_window_s=0.2,
                      video_loss_s=1.0) for name, t in FEED_TYPES.items()}


def monitored_app(settings: Settings, services: Core,
                  access: MetricsAccess | None = None) -> web.Application:
    return create_app(settings, services, probe_thresholds=FAST, metrics_access=access)


@pytest.fixture
async def client(aiohttp_client, settings: Settings, services: Core) -> TestClient:
    """Replaces the shared `client`: the same app plus monitoring."""
    return await aiohttp_client(monitored_app(settings, services))


@pytest.fixture
def mon(client: TestClient) -> Monitoring:
    return client.app[MONITORING]
