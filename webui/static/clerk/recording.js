// What the room is doing: its live state, which feeds are recording (GET
// /api/courtrooms/{code}/recording, kept fresh by recording.* events), and a remote site's link
// (arraignment.site_* events).
import { api, el } from "../lib/api.js";
import { addStrings, formatTime, t } from "../lib/i18n.js";
import { feedName, roomStatus } from "../lib/labels.js";

addStrings({
  "rec.on": ["录制中（录像 #{id}）", "Recording (recording #{id})"],
  "rec.off": ["未录制", "Not recording"],
  "rec.segment": ["最近片段 {time}", "last segment {time}"],
  "rec.failed": ["录制失败：{reason}", "Recording failed: {reason}"],
  "site.unknown": ["连接状态未知", "link state unknown"],
  "site.up": ["已连接", "connected"],
  "site.down": ["已断开", "disconnected"],
});

// The arraignment desk says when the site's stream comes and goes (hearing/arraignment.py).
const SITE_EVENTS = { "arraignment.site_connected": "up", "arraignment.site_lost": "down" };
const SITE_FEED = "remote"; // the site's stream is recorded as this feed of the room

export class RecordingPanel {
  constructor({ status, detail, feeds, site, siteCode, siteLink }) {
    Object.assign(this, { status, detail, feeds, site, siteCode, siteLink });
    this.room = null;
    this.active = {};   // feed -> recording id
    this.notes = {};    // feed -> {key, at | reason}: its last segment or failure
    this.siteState = "unknown";
  }

  async load(room, siteCode) {
    this.room = room;
    this.showStatus(room.status, room.status_detail);
    this.site.hidden = !siteCode;
    this.siteCode.textContent = siteCode || "";
    this.siteName = siteCode;
    this.showSite();
    await this.refresh();
  }

  async refresh() {
    const body = await api(`/api/courtrooms/${encodeURIComponent(this.room.code)}/recording`);
    this.active = body.recording;
    this.render();
  }

  showStatus(status, detail = "") {
    this.status.className = `status status-${status}`;
    this.status.textContent = roomStatus(status);
    this.status.dataset.status = status;
    this.detail.textContent = detail || "";
  }

  render() {
    // Before any event, a recording of the site's feed says the site is there.
    if (this.siteState === "unknown" && this.active[SITE_FEED]) this.siteState = "up";
    if (this.siteName) this.showSite();
    const feeds = [...this.room.feeds, ...Object.keys(this.active).filter((f) => !this.room.feeds.includes(f))];
    this.feeds.replaceChildren(...feeds.map((feed) => {
      const id = this.active[feed];
      const words = id ? t("rec.on", { id }) : t("rec.off");
      return el("li", { dataset: { feed, recording: id ? "true" : "false" } },
        el("strong", { text: feedName(feed) }), ` ${words}`,
        this.notes[feed] ? el("span", { class: "muted", text: ` · ${this.note(this.notes[feed])}` }) : null);
    }));
  }

  note({ key, at, reason }) {
    return t(key, { time: formatTime(at, { seconds: true }), reason });
  }

  showSite() {
    this.siteLink.textContent = t(`site.${this.siteState}`);
    this.siteLink.className = `status status-${this.siteState === "up" ? "live" : this.siteState === "down" ? "fault" : "idle"}`;
  }

  // Events about this room: its status, its recordings, and its remote site's link.
  applyEvent(ev) {
    const link = SITE_EVENTS[ev.kind];
    if (link) {
      if (this.siteName && ev.data?.site === this.siteName) {
        this.siteState = link;
        this.showSite();
      }
      return;
    }
    if (!this.room || ev.room !== this.room.code) return;
    if (ev.kind === "room.status") {
      this.showStatus(ev.data.status, ev.data.detail);
    } else if (ev.kind === "recording.segment") {
      this.notes[ev.data.feed] = { key: "rec.segment", at: ev.at };
      this.render();
    } else if (ev.kind === "recording.failed") {
      this.notes[ev.data.feed] = { key: "rec.failed", reason: ev.data.detail || "" };
      this.refresh().catch(() => {});
    } else if (ev.kind.startsWith("recording.") && ev.kind !== "recording.marker") {
      this.refresh().catch(() => {});
    }
  }
}
