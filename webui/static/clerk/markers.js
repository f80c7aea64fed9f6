// Bookmarks and speaker markers with one key (B, S) or a button. A marker is written on every
// recording of the hearing that is running (one per feed, as the lifecycle's own markers are),
// found by GET /api/recordings?hearing=hearing:<id>; the list shows each moment once.
import { api, el } from "../lib/api.js";
import { addStrings, formatTime, t } from "../lib/i18n.js";
import { markerKind } from "../lib/labels.js";

addStrings({
  "mark.added": ["已添加{kind}（{time}）", "{kind} added at {time}"],
  "mark.nothing": ["当前没有正在录制的录像，无法添加标记。", "Nothing is being recorded, so no marker was added."],
  "mark.failed": ["标记失败：{reason}", "Marker failed: {reason}"],
  "speaker.roles": ["审判长,审判员,人民陪审员,公诉人,原告,被告,第三人,代理人,辩护人,证人,鉴定人,翻译",
    "Presiding judge,Judge,Juror,Prosecutor,Plaintiff,Defendant,Third party,Agent,Defence counsel,Witness,Expert,Interpreter"],
});

const KEYS = { b: "bookmark", s: "speaker" };
const MAX_SHOWN = 100;

// Typing into a field must not mark anything.
function typing(target) {
  return target instanceof HTMLElement && (target.isContentEditable
    || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

export class MarkerDesk {
  constructor({ user, note, speaker, roles, bookmark, speakerButton, result, list }) {
    Object.assign(this, { user, note, speaker, roles, result, list });
    this.hearingId = null;
    this.recordings = []; // this hearing's recordings, newest first
    this.seen = new Set();
    this.items = [];
    bookmark.addEventListener("click", () => this.mark("bookmark"));
    speakerButton.addEventListener("click", () => this.mark("speaker"));
    note.addEventListener("keydown", (ev) => { if (ev.key === "Enter") this.mark("bookmark"); });
    speaker.addEventListener("keydown", (ev) => { if (ev.key === "Enter") this.mark("speaker"); });
    document.addEventListener("keydown", (ev) => this.key(ev));
    this.fillRoles();
  }

  fillRoles() {
    this.roles.replaceChildren(...t("speaker.roles").split(",").map((v) => el("option", { value: v })));
  }

  key(ev) {
    const kind = KEYS[ev.key?.toLowerCase()];
    if (!kind || !this.hearingId || ev.ctrlKey || ev.metaKey || ev.altKey || ev.repeat || typing(ev.target)) return;
    ev.preventDefault();
    this.mark(kind);
  }

  async load(hearingId) {
    this.hearingId = hearingId;
    await this.refresh();
    const details = await Promise.all(this.recordings.map((r) => api(`/api/recordings/${r.id}`)));
    const markers = details.flatMap((d) => d.markers).sort((a, b) => a.at.localeCompare(b.at));
    for (const m of markers) this.show(m);
  }

  async refresh() {
    const page = await api(`/api/recordings?hearing=hearing:${this.hearingId}&limit=50`);
    this.recordings = page.items;
  }

  running() {
    return this.recordings.filter((r) => r.state === "recording");
  }

  owns(recordingId) {
    return this.recordings.some((r) => r.id === recordingId);
  }

  async mark(kind) {
    const at = new Date().toISOString();
    const text = (kind === "speaker" ? this.speaker : this.note).value.trim();
    try {
      await this.refresh();
      const targets = this.running();
      if (!targets.length) {
        this.result.textContent = t("mark.nothing");
        return;
      }
      const made = await Promise.all(targets.map((r) =>
        api(`/api/recordings/${r.id}/markers`, { method: "POST", body: { kind, text, at } })));
      made.forEach((m) => this.show(m));
      if (kind === "bookmark") this.note.value = "";
      this.result.textContent = t("mark.added", { kind: markerKind(kind), time: formatTime(at, { seconds: true }) });
    } catch (err) {
      this.result.textContent = t("mark.failed", { reason: err.message });
    }
  }

  // One line per moment: the same marker on several feeds shows once.
  show(m) {
    const key = `${m.kind}|${m.text}|${m.author}|${String(m.at).slice(0, 19)}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.items.push(m);
    this.list.prepend(this.line(m));
    while (this.list.children.length > MAX_SHOWN) this.list.lastElementChild.remove();
  }

  line(m) {
    return el("li", { dataset: { kind: m.kind } },
      el("time", { datetime: m.at, text: formatTime(m.at, { seconds: true }) }), " ",
      el("strong", { text: markerKind(m.kind) }), m.text ? ` ${m.text}` : "",
      m.author ? el("span", { class: "muted", text: ` · ${m.author}` }) : null);
  }

  // The language changed: words and times again.
  relabel() {
    this.fillRoles();
    this.list.replaceChildren(...this.items.slice(-MAX_SHOWN).reverse().map((m) => this.line(m)));
  }

  // A recording.marker event: the recorder's and other people's markers appear too (one's own
  // are shown from the answer to the POST, with the time they were asked for).
  applyEvent(ev) {
    if (!this.owns(ev.data?.recording) || ev.data.author === this.user.username) return;
    this.show({ kind: ev.data.kind, text: ev.data.text, author: ev.data.author, at: ev.at });
  }
}
