// The recording player: hls.js (from npm, /vendor/hls.min.js) on a <video>, the viewer's
// watermark over it, and seeking by wall-clock time through the playlist's
// EXT-X-PROGRAM-DATE-TIME (withheld or missing stretches are not in the playlist).
import { watermark } from "../lib/watermark.js";

export class Player {
  constructor(video, box, username) {
    this.video = video;
    this.box = box;
    this.username = username;
    this.hls = null;
    this.unmark = null;
    this.onError = null;
  }

  open(src) {
    this.close();
    const Hls = window.Hls;
    this.unmark = watermark(this.box, this.username);
    if (Hls?.isSupported()) {
      // No worker: the page's CSP allows scripts from this origin only, not blob: workers.
      const hls = new Hls({ enableWorker: false, startPosition: 0 });
      hls.on(Hls.Events.ERROR, (_event, data) => {
        if (data.fatal) this.onError?.(data.details);
      });
      hls.on(Hls.Events.MANIFEST_PARSED, () => { this.video.play().catch(() => {}); });
      hls.loadSource(src);
      hls.attachMedia(this.video);
      this.hls = hls;
    } else if (this.video.canPlayType("application/vnd.apple.mpegurl")) {
      this.video.src = src; // Safari plays HLS itself
      this.video.play().catch(() => {});
    } else {
      this.onError?.("hls-unsupported");
    }
  }

  close() {
    this.hls?.destroy();
    this.hls = null;
    this.unmark?.();
    this.unmark = null;
    this.video.removeAttribute("src");
  }

  // The playlist's segments as [{start (s, player time), pdt (ms, wall clock), duration (s)}].
  segments() {
    const details = this.hls?.levels?.[this.hls.currentLevel >= 0 ? this.hls.currentLevel : 0]
      ?.details;
    return (details?.fragments || [])
      .filter((f) => Number.isFinite(f.programDateTime))
      .map((f) => ({ start: f.start, pdt: f.programDateTime, duration: f.duration }));
  }

  // Wall-clock time (ms) of what is on screen, or null before the first frame.
  playingAt() {
    // From the playhead and the playlist: hls.playingDate follows a seek only a moment later.
    const t = this.video.currentTime;
    const seg = this.segments().find((s) => t >= s.start && t < s.start + s.duration);
    if (seg) return seg.pdt + (t - seg.start) * 1000;
    return this.hls?.playingDate?.getTime() ?? null;
  }

  // Seek to a wall-clock time; a time in a gap goes to the next recorded instant.
  seekToWall(ms) {
    for (const seg of this.segments()) {
      if (ms < seg.pdt + seg.duration * 1000) {
        this.video.currentTime = seg.start + Math.max(0, (ms - seg.pdt) / 1000);
        this.video.play().catch(() => {});
        return true;
      }
    }
    return false;
  }
}
