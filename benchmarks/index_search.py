"""Recorder index on SQLite with 1,000,000 segment rows: search latency and HLS playlist time.

Generates recordings in the province's real rooms (30 s to 3 h each, 6 s segments, markers),
then times the queries the API runs. Goals: <= 50 ms per search, <= 20 ms for the playlist
of a 3-hour recording.

Run: .venv/bin/python benchmarks/index_search.py [--segments 1000000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from control.config import DEFAULT_CONFIG
from control.db import Database
from control.migrate import upgrade
from control.province import load_province
from recorder.models import Marker, Recording, Segment
from recorder.playback import SearchQuery, build_playlist, search_recordings

SEGMENT_S = 6.0
THREE_HOURS = 1800  # segments
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
DAYS = 365
WORDS = ("objection", "exhibit", "witness", "recess", "verdict", "counsel", "defendant",
         "plaintiff", "evidence", "adjourned")


def generate(db: Database, total: int, rng: random.Random) -> dict[str, Any]:
    """Insert recordings, segments and markers; returns facts the queries need."""
    province = load_province(DEFAULT_CONFIG.parent / "province.toml")
    rooms = [(r.code, c.code) for c in province.courts for r in c.rooms]
    parents = {c.code: c.parent for c in province.courts}
    rec_rows: list[dict[str, Any]] = []
    seg_batch: list[dict[str, Any]] = []
    marker_rows: list[dict[str, Any]] = []
    made, rec_id, long_id = 0, 0, 0
    with db.engine.begin() as conn:
        while made < total:  # bounded: each pass adds at least 5 segments
            rec_id += 1
            count = THREE_HOURS if rec_id <= 3 else rng.randint(5, 900)
            count = min(count, total - made)
            room, court = rng.choice(rooms)
            start = EPOCH + timedelta(days=rng.randrange(DAYS), hours=rng.randint(8, 16),
                                      seconds=rng.randrange(3600))
            end = start + timedelta(seconds=count * SEGMENT_S)
            rec_rows.append(dict(
                id=rec_id, room=room, feed="main", court=court, stream_path=f"rooms/{room}/main",
                hearing_ref=f"({start.year})H{rec_id}", directory=f"{court}/{room}/x/{rec_id}/main",
                started_at=start, ended_at=end, state="closed", legal_hold=False,
                started_by="clerk", detail="", segment_count=count, bytes=count * 1_500_000,
                head_sha256="0" * 64))
            if count == THREE_HOURS:
                long_id = rec_id
            prev = "0" * 64
            for seq in range(1, count + 1):
                at = start + timedelta(seconds=(seq - 1) * SEGMENT_S)
                sha = hashlib.sha256(f"{rec_id}/{seq}".encode()).hexdigest()
                seg_batch.append(dict(
                    recording_id=rec_id, sequence=seq, start_at=at,
                    end_at=at + timedelta(seconds=SEGMENT_S), duration=SEGMENT_S,
                    bytes=1_500_000, sha256=sha, prev_sha256=prev,
                    path=f"{court}/{room}/x/{rec_id}/main/{seq:06d}.m4s",
                    init_name="init-000001.mp4", init_sha256=None, audio_dbfs=-30.0,
                    motion=0.01, missing=False))
                prev = sha
            for _ in range(rng.randint(2, 12)):
                marker_rows.append(dict(
                    recording_id=rec_id, hearing_ref=f"({start.year})H{rec_id}",
                    at=start + timedelta(seconds=rng.randrange(int(count * SEGMENT_S))),
                    kind=rng.choice(("bookmark", "speaker", "recess", "resumed")),
                    text=" ".join(rng.choice(WORDS) for _ in range(4)), author="clerk"))
            made += count
            if len(seg_batch) >= 50_000:
                conn.execute(insert(Recording), rec_rows)
                conn.execute(insert(Segment), seg_batch)
                rec_rows, seg_batch = [], []
        if rec_rows:
            conn.execute(insert(Recording), rec_rows)
        if seg_batch:
            conn.execute(insert(Segment), seg_batch)
        conn.execute(insert(Marker), marker_rows)
    harbin = {c for c in parents if c == "HL01" or parents.get(c) == "HL01"}
    return {"recordings": rec_id, "markers": len(marker_rows), "long_id": long_id,
            "rooms": rooms, "harbin": frozenset(harbin)}


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """(median ms, max ms, last result) of `repeat` runs after one warm-up."""
    result = fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), max(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="courtav-index-") as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'index.db'}")
        upgrade(db)
        t0 = time.perf_counter()
        facts = generate(db, args.segments, rng)
        print(f"generated {args.segments:,} segments, {facts['recordings']:,} recordings, "
              f"{facts['markers']:,} markers in {time.perf_counter() - t0:.1f} s")
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
        room = facts["rooms"][0][0]
        week = (EPOCH + timedelta(days=100), EPOCH + timedelta(days=107))
        with db.session() as s:
            long_rec = s.get(Recording, facts["long_id"])
            assert long_rec is not None
            at = long_rec.started_at + timedelta(minutes=95)

            def seek() -> Any:  # which segment shows room X at time T?
                rec_id = s.scalar(select(Recording.id).where(
                    Recording.room == long_rec.room, Recording.started_at <= at,
                    Recording.ended_at > at).limit(1))
                return s.scalar(select(Segment.sequence).where(
                    Segment.recording_id == rec_id, Segment.start_at <= at,
                    Segment.end_at > at))

            cases: list[tuple[str, Callable[[], Any], float]] = [
                ("search: province, one week, page 1", lambda: search_recordings(
                    s, SearchQuery(start=week[0], end=week[1])), 50),
                ("search: Harbin subtree, one week", lambda: search_recordings(
                    s, SearchQuery(courts=facts["harbin"], start=week[0], end=week[1])), 50),
                ("search: one room, whole year", lambda: search_recordings(
                    s, SearchQuery(room=room)), 50),
                ("search: province, offset 2000", lambda: search_recordings(
                    s, SearchQuery(limit=50, offset=2000)), 50),
                ("search: marker kind + text", lambda: search_recordings(
                    s, SearchQuery(marker="speaker", text="objection witness")), 50),
                ("seek: segment of room at time", seek, 50),
                ("playlist: 3-hour recording", lambda: build_playlist(
                    s, long_rec, None, None), 20),
                ("playlist: 10 minutes of it", lambda: build_playlist(
                    s, long_rec, at, at + timedelta(minutes=10)), 20),
            ]
            print(f"{'query':40} {'median ms':>10} {'max ms':>8} {'goal ms':>8}  result")
            for name, fn, goal in cases:
                median, worst, result = timed(fn, args.repeat)
                shown = (f"{result[0]} total" if isinstance(result, tuple) and
                         isinstance(result[0], int) and not isinstance(result[0], bool)
                         else result)
                if name.startswith("playlist"):
                    shown = f"{result[1]} segments, {len(result[0]):,} bytes"
                verdict = "ok" if median <= goal else "SLOW"
                print(f"{name:40} {median:10.2f} {worst:8.2f} {goal:8.0f}  {shown} {verdict}")
        db.close()


if __name__ == "__main__":
    main()
