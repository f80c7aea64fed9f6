// One page of courtroom cards (GET /api/courtrooms with court, status, q, limit, offset): live
// state, the current hearing and a thumbnail. Thumbnails load only for cards on screen and for
// rooms with a picture, and refresh while they stay on screen.
import { api, el } from "../lib/api.js";
import { addStrings, formatTime, localName, t } from "../lib/i18n.js";
import { hearingState, roomStatus } from "../lib/labels.js";

addStrings({
  "cards.nopicture": ["无画面", "No picture"],
  "cards.nohearing": ["今日无庭审", "No hearing today"],
  "cards.judge": ["审判长 {name}", "Presiding: {name}"],
  "cards.watch": ["观看 {name}", "Watch {name}"],
});

export const PAGE_SIZE = 24;
const THUMB_REFRESH_MS = 10_000;
const HAS_PICTURE = new Set(["live", "recording", "fault"]);

export class RoomCards {
  constructor(list, { index, schedule, onOpen }) {
    this.list = list;
    this.index = index;
    this.schedule = schedule;
    this.onOpen = onOpen;
    this.cards = new Map(); // room code -> {room, node, img, ...}
    this.visible = new Set();
    this.observer = new IntersectionObserver((entries) => this.seen(entries));
    this.timer = setInterval(() => this.refreshThumbs(), THUMB_REFRESH_MS);
    this.total = 0;
  }

  // Fetch and show one page; query = {court, status, q, offset}.
  async load(query) {
    const params = new URLSearchParams({ limit: PAGE_SIZE, offset: query.offset || 0 });
    for (const key of ["court", "status", "q"]) if (query[key]) params.set(key, query[key]);
    const page = await api(`/api/courtrooms?${params}`);
    this.total = page.total;
    this.observer.disconnect();
    this.visible.clear();
    this.cards.clear();
    this.list.replaceChildren(...page.items.map((room) => this.card(room)));
    for (const card of this.cards.values()) this.observer.observe(card.node);
    return page;
  }

  card(room) {
    const name = `${localName(room)} ${room.code}`;
    const img = el("img", { class: "room-thumb", alt: "", hidden: true, width: 320, height: 180 });
    const none = el("span", { class: "room-nopic", "data-i18n": "cards.nopicture", text: t("cards.nopicture") });
    img.addEventListener("load", () => { img.hidden = false; none.hidden = true; });
    img.addEventListener("error", () => { img.hidden = true; none.hidden = false; });
    const open = el("button", { type: "button", class: "room-open", "aria-label": t("cards.watch", { name }) },
      el("span", { class: "room-picture" }, img, none),
      el("span", { class: "room-name", text: localName(room) }),
      el("span", { class: "room-code", text: room.code }));
    open.addEventListener("click", () => this.onOpen(room.code));
    const status = el("span", { class: "status" });
    const detail = el("span", { class: "room-detail" });
    const hearing = el("p", { class: "room-hearing" });
    const node = el("li", { class: "room-card", dataset: { room: room.code } },
      open, el("p", { class: "room-state" }, status, detail), hearing,
      el("p", { class: "room-court", text: localName(this.index.courts.get(room.court)) }));
    const card = { room, node, img, none, status, detail, hearing, open, thumbAt: 0 };
    this.cards.set(room.code, card);
    this.paint(card);
    return node;
  }

  paint(card) {
    const room = this.index.rooms.get(card.room.code) || card.room;
    card.node.dataset.status = room.status;
    card.status.className = `status status-${room.status}`;
    card.status.textContent = roomStatus(room.status);
    card.detail.textContent = room.status_detail || "";
    const h = this.schedule.current(room.code);
    card.hearing.replaceChildren();
    if (!h) {
      card.hearing.textContent = t("cards.nohearing");
      delete card.node.dataset.hearing;
      return;
    }
    card.node.dataset.hearing = h.id;
    card.hearing.append(
      el("span", { class: "room-case", text: h.case.number }),
      el("span", { class: `hearing-state hearing-${h.state}`, text: hearingState(h.state) }),
      el("span", { text: `${formatTime(h.starts_at)}–${formatTime(h.ends_at)}` }),
      el("span", { text: t("cards.judge", { name: h.presiding_judge }) }));
  }

  // The room's status (or hearing) changed: repaint its card if it is on this page.
  update(code, { thumb = false } = {}) {
    const card = this.cards.get(code);
    if (!card) return;
    this.paint(card);
    if (thumb) setTimeout(() => this.thumb(card, true), 1500); // a keyframe needs a moment
  }

  repaintAll() {
    for (const card of this.cards.values()) {
      card.open.setAttribute("aria-label", t("cards.watch", { name: `${localName(card.room)} ${card.room.code}` }));
      this.paint(card);
    }
  }

  seen(entries) {
    for (const entry of entries) {
      const code = entry.target.dataset.room;
      if (entry.isIntersecting) {
        this.visible.add(code);
        this.thumb(this.cards.get(code));
      } else {
        this.visible.delete(code);
      }
    }
  }

  thumb(card, force = false) {
    if (!card || !this.visible.has(card.room.code)) return;
    const room = this.index.rooms.get(card.room.code) || card.room;
    if (!HAS_PICTURE.has(room.status)) {
      card.img.hidden = true;
      card.none.hidden = false;
      return;
    }
    const now = Date.now();
    if (!force && now - card.thumbAt < THUMB_REFRESH_MS - 500) return;
    card.thumbAt = now;
    const feed = room.feeds?.[0] || "main";
    card.img.src = `/api/courtrooms/${encodeURIComponent(room.code)}/feeds/${feed}/thumbnail.jpg?t=${now}`;
  }

  refreshThumbs() {
    if (document.hidden) return;
    for (const code of this.visible) this.thumb(this.cards.get(code));
  }
}
