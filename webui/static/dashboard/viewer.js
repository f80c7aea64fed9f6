// Watching one courtroom: every feed over WHEP side by side, sound from the chosen feed only,
// the viewer's watermark over each player. Escape or the close button ends every session.
import { el } from "../lib/api.js";
import { addStrings, localName, t } from "../lib/i18n.js";
import { feedName } from "../lib/labels.js";
import { watermark } from "../lib/watermark.js";
import { watch } from "../lib/webrtc.js";

addStrings({
  "viewer.connecting": ["连接中…", "Connecting…"],
  "viewer.playing": ["正在播放", "Playing"],
  "viewer.failed": ["无法观看：{reason}", "Cannot watch: {reason}"],
  "viewer.sound": ["声音", "Sound"],
  "viewer.soundFrom": ["播放 {feed} 的声音", "Sound from {feed}"],
  "viewer.close": ["关闭", "Close"],
});

export class Viewer {
  constructor(section, { title, players, close, user }) {
    this.section = section;
    this.title = title;
    this.players = players;
    this.user = user;
    this.sessions = [];
    this.cleanups = [];
    this.tiles = [];
    this.room = null;
    this.soundFeed = null;
    this.opener = null;
    close.addEventListener("click", () => this.close());
    section.addEventListener("keydown", (ev) => { if (ev.key === "Escape") this.close(); });
  }

  async open(room, court) {
    const opener = document.activeElement;
    await this.close();
    this.opener = opener;
    this.room = room;
    this.section.hidden = false;
    this.section.dataset.room = room.code;
    this.title.textContent = `${localName(room)} ${room.code} · ${localName(court)}`;
    this.tiles = room.feeds.map((feed) => this.tile(feed));
    this.players.replaceChildren(...this.tiles.map((tile) => tile.node));
    this.title.focus();
    this.chooseSound(room.feeds[0]);
    await Promise.all(this.tiles.map((tile) => this.start(room, tile)));
  }

  tile(feed) {
    const video = el("video", { autoplay: true, playsinline: true, muted: true, dataset: { feed } });
    video.muted = true;
    const frame = el("div", { class: "player" }, video);
    this.cleanups.push(watermark(frame, this.user.username));
    const state = el("span", { class: "player-state", role: "status", text: t("viewer.connecting") });
    const sound = el("button", { type: "button", class: "player-sound", "aria-pressed": "false",
      "aria-label": t("viewer.soundFrom", { feed: feedName(feed) }), text: t("viewer.sound") });
    sound.addEventListener("click", () => this.chooseSound(feed));
    const node = el("figure", { class: "viewer-tile", dataset: { feed } }, frame,
      el("figcaption", {}, el("strong", { text: feedName(feed) }), state, sound));
    return { feed, video, state, sound, node };
  }

  async start(room, tile) {
    try {
      const session = await watch(`rooms/${room.code}/${tile.feed}`, tile.video);
      if (this.room !== room) { await session.close(); return; } // closed meanwhile
      this.sessions.push(session);
      tile.state.textContent = t("viewer.playing");
      tile.node.dataset.state = "playing";
      this.applySound(tile);
    } catch (err) {
      tile.state.textContent = t("viewer.failed", { reason: err.message });
      tile.node.dataset.state = "failed";
    }
  }

  // Sound from one feed at a time; the others stay muted. Players start muted (autoplay is
  // always allowed then); a browser that refuses sound keeps the picture and says so.
  chooseSound(feed) {
    this.soundFeed = feed;
    for (const tile of this.tiles) this.applySound(tile);
  }

  applySound(tile) {
    const on = tile.feed === this.soundFeed && Boolean(tile.video.srcObject);
    tile.video.muted = !on;
    tile.sound.setAttribute("aria-pressed", String(tile.feed === this.soundFeed));
    if (!on) return;
    tile.video.play().catch(() => {
      tile.video.muted = true;
      tile.sound.setAttribute("aria-pressed", "false");
      tile.video.play().catch(() => {});
    });
  }

  async close() {
    const sessions = this.sessions;
    this.sessions = [];
    for (const fn of this.cleanups) fn();
    this.cleanups = [];
    this.room = null;
    this.tiles = [];
    this.players.replaceChildren();
    this.section.hidden = true;
    delete this.section.dataset.room;
    if (this.opener?.isConnected) this.opener.focus(); // back to the card that opened it
    this.opener = null;
    await Promise.all(sessions.map((s) => s.close().catch(() => {})));
  }
}
