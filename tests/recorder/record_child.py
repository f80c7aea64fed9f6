"""Child process of the SIGKILL test: records a live test pattern until it is killed.

Run as `python -m tests.recorder.record_child <data-dir> <segment-seconds>`; prints
`recording <id>` once, then `segment <n>` as each segment is indexed.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from control.app import build_services
from control.policy import Principal
from media import StreamRegistry
from media.sources import PatternSpec, TestPatternSource
from recorder.service import RecorderService
from tests.conftest import make_settings
from tests.media.peers import wait_until

ROOM = "HL0102-01"
MAX_RUN_S = 120.0  # if the parent never kills us, end anyway


async def main(data_dir: Path, segment_s: float) -> None:
    settings = make_settings(data_dir)
    svc = build_services(settings)
    streams = StreamRegistry()
    source = TestPatternSource(streams, f"rooms/{ROOM}/main",
                               PatternSpec("Crash test", gop_s=1, duration_s=2))
    await source.start()
    recorder = RecorderService(svc.db, svc.bus, svc.registry, streams, settings.recordings_dir,
                               segment_s=segment_s)
    await recorder.start()
    events = svc.bus.subscribe()
    assert await wait_until(lambda: streams.latest_keyframe(f"rooms/{ROOM}/main") is not None, 5)
    rec = await recorder.start_recording(svc.registry.rooms[ROOM], "main",
                                         Principal("clerk.daoli", "clerk", "HL0102", 1))
    print(f"recording {rec.id}", flush=True)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + MAX_RUN_S
    while loop.time() < deadline:
        event = await asyncio.wait_for(events.get(), MAX_RUN_S)
        if event is not None and event.kind == "recording.segment":
            print(f"segment {event.data['sequence']}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), float(sys.argv[2])))
