// Publishing this computer's camera and microphone as one of the room's feeds (WHIP), for a
// courtroom without an encoder. Only shown to those who may publish (clerks, admins).
import { el } from "../lib/api.js";
import { addStrings, t } from "../lib/i18n.js";
import { feedName } from "../lib/labels.js";
import { publish } from "../lib/webrtc.js";

addStrings({
  "publish.title": ["推送本机摄像头", "Publish this computer's camera"],
  "publish.feed": ["画面", "Feed"],
  "publish.start": ["开始推流", "Start publishing"],
  "publish.stop": ["停止推流", "Stop publishing"],
  "publish.on": ["推流中：{path}", "Publishing: {path}"],
  "publish.failed": ["无法推流：{reason}", "Cannot publish: {reason}"],
});

export class PublishPanel {
  constructor({ panel, feed, start, stop, state, preview }) {
    Object.assign(this, { panel, feed, start, stop, state, preview });
    this.session = null;
    this.room = null;
    start.addEventListener("click", () => this.begin());
    stop.addEventListener("click", () => this.end());
    window.addEventListener("pagehide", () => this.end());
  }

  show(room) {
    this.room = room;
    this.panel.hidden = false;
    this.feed.replaceChildren(...room.feeds.map((f) => el("option", { value: f, text: feedName(f) })));
  }

  async begin() {
    const path = `rooms/${this.room.code}/${this.feed.value}`;
    this.start.disabled = true;
    try {
      const media = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
      this.preview.srcObject = media;
      this.preview.hidden = false;
      this.session = await publish(path, media);
      this.state.textContent = t("publish.on", { path });
      this.stop.disabled = false;
      this.feed.disabled = true;
    } catch (err) {
      this.state.textContent = t("publish.failed", { reason: err.message });
      this.stopTracks();
      this.start.disabled = false;
    }
  }

  stopTracks() {
    this.preview.srcObject?.getTracks().forEach((track) => track.stop());
    this.preview.srcObject = null;
    this.preview.hidden = true;
  }

  async end() {
    const session = this.session;
    this.session = null;
    this.stopTracks();
    this.start.disabled = false;
    this.stop.disabled = true;
    this.feed.disabled = false;
    this.state.textContent = "";
    if (session) await session.close().catch(() => {});
  }
}
