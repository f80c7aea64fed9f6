// One tile of the wall: a muted player on a WHEP stream, the room's name, the viewer's
// watermark, and the alarm bar with its acknowledge button. The tile switches streams only when
// the path it should show changes, so re-ordering and re-rendering cost no reconnects.
import { el } from "../lib/api.js";
import { addStrings, applyTranslations, localName, t } from "../lib/i18n.js";
import { feedName } from "../lib/labels.js";
import { watermark } from "../lib/watermark.js";
import { watch } from "../lib/webrtc.js";
import { feedOf } from "./layout.js";

addStrings({
  "tile.empty": ["空", "Empty"],
  "tile.emptyHint": ["拖入法庭", "Drop a courtroom here"],
  "tile.noSignal": ["无信号", "No signal"],
  "tile.connecting": ["连接中…", "Connecting…"],
  "tile.failed": ["无法观看", "Cannot watch"],
  "tile.keyframes": ["关键帧", "Keyframes"],
  "tile.ack": ["确认", "Acknowledge"],
  "tile.ackComment": ["备注（可选）", "Comment (optional)"],
  "tile.ackDefault": ["已在监控墙确认", "Acknowledged on the wall"],
  "tile.label": ["第 {n} 格：{what}", "Tile {n}: {what}"],
  "alert.video_loss": ["视频中断", "Video lost"],
  "alert.frozen": ["画面冻结", "Frozen picture"],
  "alert.black": ["黑屏", "Black picture"],
  "alert.blank": ["画面空白", "Blank picture"],
  "alert.blur": ["画面模糊", "Blurred picture"],
  "alert.silence": ["无声音", "Silence"],
  "alert.bitrate": ["码率过低", "Low bitrate"],
  "alert.feeds_down": ["庭审将开始但无信号", "Hearing due, feed down"],
  "severity.warning": ["提示", "Warning"],
  "severity.major": ["严重", "Major"],
  "severity.critical": ["紧急", "Critical"],
});

export class Tile {
  constructor(key, { user, onAck, onActivate }) {
    this.key = key;
    this.entry = null;
    this.path = null;       // the stream shown (or being connected)
    this.session = null;
    this.generation = 0;    // bumped per switch, so a slow connect never lands late
    this.video = el("video", { autoplay: true, playsinline: true, muted: true });
    this.video.muted = true;
    this.name = el("span", { class: "tile-name" });
    this.mode = el("span", { class: "tile-mode" });
    this.state = el("span", { class: "tile-state" });
    this.alertText = el("span", { class: "tile-alert-text" });
    this.comment = el("input", { class: "tile-comment", type: "text", maxlength: "500",
      "data-i18n-placeholder": "tile.ackComment" });
    this.ackButton = el("button", { type: "button", class: "tile-ack", "data-i18n": "tile.ack" });
    this.alertBar = el("div", { class: "tile-alert", hidden: true },
      this.alertText, this.comment, this.ackButton);
    this.el = el("div", { class: "tile", tabindex: "-1", role: "group", dataset: { key } },
      this.video, el("div", { class: "tile-caption" }, this.name, this.mode, this.state),
      this.alertBar);
    this.removeWatermark = watermark(this.el, user.username);
    this.ackButton.addEventListener("click", (ev) => { ev.stopPropagation(); onAck(this); });
    this.comment.addEventListener("keydown", (ev) => {
      ev.stopPropagation();  // typing a comment is not a wall shortcut
      if (ev.key === "Enter") onAck(this);
    });
    this.el.addEventListener("dblclick", () => onActivate(this));
    this.video.addEventListener("resize", () => { this.el.dataset.width = String(this.video.videoWidth); });
    applyTranslations(this.el);
  }

  // Show `entry` ({room, feed, alert, popin}) of `room` on the stream `path` (null: none live).
  update(entry, room, path, { index, full }) {
    this.entry = entry;
    const { el: node } = this;
    node.dataset.slot = entry.slot ?? "";
    node.dataset.room = entry.room || "";
    node.dataset.alert = entry.alert ? String(entry.alert.id) : "";
    node.classList.toggle("empty", !entry.room);
    node.classList.toggle("alarm", Boolean(entry.alert));
    node.classList.toggle("popin", entry.popin);
    node.classList.toggle("full", full);
    const what = entry.room ? `${entry.room} ${localName(room)}` : t("tile.empty");
    this.name.textContent = entry.room
      ? `${entry.room} ${localName(room)}${entry.feed ? ` · ${feedName(entry.feed)}` : ""}`
      : t("tile.emptyHint");
    node.setAttribute("aria-label", t("tile.label", { n: index + 1, what }));
    if (entry.alert) {
      const a = entry.alert;
      this.alertText.textContent = `${t(`severity.${a.severity}`)} · ${t(`alert.${a.kind}`)}` +
        (a.feed ? ` (${feedName(a.feed)})` : "");
    }
    this.alertBar.hidden = !entry.alert;
    this.show(entry.room ? path : null);
    this.labels();
  }

  labels() {
    const path = this.path;
    this.mode.textContent = path?.includes("keyframes=1") ? t("tile.keyframes")
      : path ? feedName(feedOf(path)) : "";
    if (!this.entry?.room) this.state.textContent = "";
    else if (!path) this.state.textContent = t("tile.noSignal");
    else if (this.state.dataset.phase) this.state.textContent = t(`tile.${this.state.dataset.phase}`);
    else this.state.textContent = "";
  }

  show(path) {
    if (path === this.path) return;
    this.path = path;
    this.el.dataset.stream = path || "";
    const generation = ++this.generation;
    const old = this.session;
    this.session = null;
    old?.close().catch(() => {});
    this.video.srcObject = null;
    delete this.el.dataset.width;
    this.el.classList.toggle("nosignal", Boolean(this.entry?.room) && !path);
    this.phase(path ? "connecting" : "");
    if (!path) return;
    watch(path, this.video).then((session) => {
      if (generation !== this.generation) { session.close().catch(() => {}); return; }
      this.session = session;
      this.phase("");
    }, () => {
      if (generation === this.generation) this.phase("failed");
    });
  }

  phase(name) {
    if (name) this.state.dataset.phase = name; else delete this.state.dataset.phase;
    this.labels();
  }

  close() {
    this.generation += 1;
    this.session?.close().catch(() => {});
    this.session = null;
    this.removeWatermark();
  }
}
