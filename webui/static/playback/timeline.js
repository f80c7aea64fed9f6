// The timeline under the player (GET /api/recordings/{id}/timeline): a bar of segments
// (recorded, withheld, missing) with the playhead, an audio level strip from each segment's
// audio_dbfs, marker pins and a marker list; clicking any of them seeks by wall-clock time.
// Over the bar, bands show what is withheld: from the viewer (the timeline's `withheld`: when,
// never why) and, for those who may seal, the confidential and sealed portions they manage.
import { el } from "../lib/api.js";
import { formatTime, t } from "../lib/i18n.js";
import { markerKind } from "../lib/labels.js";

const COLORS = { ok: "#2e7d32", withheld: "#9e9e9e", missing: "#c62828" };
const FLOOR_DBFS = -60;

const ms = (iso) => new Date(iso).getTime();

export class Timeline {
  constructor({ bar, audio, pins, spans, list, onSeek }) {
    this.bar = bar;
    this.audio = audio;
    this.pins = pins;
    this.spans = spans;
    this.portions = [];
    this.list = list;
    this.onSeek = onSeek;
    this.line = null;
    this.playhead = null;
    for (const canvas of [bar, audio]) {
      canvas.addEventListener("click", (ev) => {
        if (!this.line) return;
        const box = canvas.getBoundingClientRect();
        const f = Math.min(1, Math.max(0, (ev.clientX - box.left) / box.width));
        this.onSeek(this.t0 + f * (this.t1 - this.t0));
      });
    }
    window.addEventListener("resize", () => this.draw());
  }

  show(line) {
    this.line = line;
    const segs = line.segments;
    this.t0 = ms(line.started_at);
    const last = segs.length ? ms(segs[segs.length - 1].end) : this.t0 + 1000;
    this.t1 = Math.max(last, line.ended_at ? ms(line.ended_at) : last, this.t0 + 1000);
    this.renderMarkers(line.markers);
    this.renderSpans();
    this.draw();
  }

  // The portions of the recording ({level, from, to}) as the sealing panel lists them.
  setPortions(portions) {
    this.portions = portions;
    if (this.line) this.renderSpans();
  }

  percent(at) {
    return Math.min(100, Math.max(0, ((at - this.t0) / (this.t1 - this.t0)) * 100));
  }

  renderSpans() {
    const withheld = (this.line.withheld || []).map((w) => ({ ...w, level: "withheld" }));
    const all = [...withheld, ...this.portions];
    this.spans.replaceChildren(...all.map((s) => {
      const a = this.percent(ms(s.from));
      const b = this.percent(ms(s.to));
      const band = el("span", { class: `pb-span pb-span-${s.level}`,
        dataset: { level: s.level, from: s.from, to: s.to } });
      band.style.left = `${a}%`;
      band.style.width = `${Math.max(0.4, b - a)}%`;
      return band;
    }));
    // The bands are drawn for the eye; the bar's name says how many there are.
    this.bar.setAttribute("aria-label", all.length
      ? t("pb.timelineWithheld", { n: all.length }) : t("pb.timeline"));
  }

  x(at, width) {
    return ((at - this.t0) / (this.t1 - this.t0)) * width;
  }

  fit(canvas) {
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(1, Math.round(canvas.clientWidth * ratio));
    const height = Math.round(Number(canvas.getAttribute("height")) * ratio);
    if (canvas.width !== width) canvas.width = width;
    if (canvas.height !== height) canvas.height = height;
    return { ctx: canvas.getContext("2d"), width, height };
  }

  draw() {
    if (!this.line) return;
    const { ctx, width, height } = this.fit(this.bar);
    ctx.fillStyle = "#e4e8ee";
    ctx.fillRect(0, 0, width, height);
    for (const seg of this.line.segments) {
      const a = this.x(ms(seg.start), width);
      const b = this.x(ms(seg.end), width);
      ctx.fillStyle = COLORS[seg.state] || COLORS.ok;
      ctx.fillRect(a, 4, Math.max(1, b - a), height - 8);
    }
    if (this.playhead !== null) {
      ctx.fillStyle = "#ffb300";
      ctx.fillRect(Math.round(this.x(this.playhead, width)) - 1, 0, 3, height);
    }
    const strip = this.fit(this.audio);
    strip.ctx.fillStyle = "#f4f6f9";
    strip.ctx.fillRect(0, 0, strip.width, strip.height);
    for (const seg of this.line.segments) {
      if (seg.audio_dbfs === null || seg.audio_dbfs === undefined) continue;
      const level = Math.min(1, Math.max(0, (seg.audio_dbfs - FLOOR_DBFS) / -FLOOR_DBFS));
      const a = this.x(ms(seg.start), strip.width);
      const b = this.x(ms(seg.end), strip.width);
      const h = Math.max(1, level * strip.height);
      strip.ctx.fillStyle = "#1565c0";
      strip.ctx.fillRect(a, strip.height - h, Math.max(1, b - a - 1), h);
    }
  }

  setPlayhead(at) {
    if (at === this.playhead) return;
    this.playhead = at;
    this.draw();
  }

  renderMarkers(markers) {
    const pins = [];
    const items = [];
    for (const m of markers) {
      const at = ms(m.at);
      const when = formatTime(m.at, { seconds: true });
      const label = `${when} ${markerKind(m.kind)} ${m.text}`.trim();
      const pin = el("button", { type: "button", class: "pb-pin", "aria-label": label,
        title: label, dataset: { marker: m.id, at: m.at } });
      pin.style.left = `${this.percent(at)}%`;
      pin.addEventListener("click", () => this.onSeek(at));
      pins.push(pin);
      const button = el("button", { type: "button", dataset: { marker: m.id, at: m.at } },
        el("time", { datetime: m.at, text: when }),
        el("span", { class: "pb-kind", text: markerKind(m.kind) }),
        el("span", { text: m.text }));
      button.addEventListener("click", () => this.onSeek(at));
      items.push(el("li", {}, button));
    }
    this.pins.replaceChildren(...pins);
    this.list.replaceChildren(...(items.length ? items
      : [el("li", { class: "muted", text: t("pb.nomarkers") })]));
  }
}
