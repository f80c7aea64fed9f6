// The wall's side panel: every visible court and room (filtered by court subtree and text), and
// the open alarms. Rooms, their feeds and alarms are dragged onto tiles, or chosen with Enter
// and then put on the focused tile with Enter there.
import { api, el } from "../lib/api.js";
import { addStrings, localName, t } from "../lib/i18n.js";
import { feedName, roomStatus } from "../lib/labels.js";

addStrings({
  "rooms.allCourts": ["全部法院", "All courts"],
  "rooms.more": ["还有 {n} 间，请缩小范围", "{n} more; narrow the search"],
  "rooms.chosen": ["已选中 {what}：在画面上按 Enter 放入", "{what} chosen: press Enter on a tile"],
  "rooms.noAlarms": ["无告警", "No alarms"],
});

export const DRAG_TYPE = "application/x-courtav-tile";
const PAGE = 1000;
const SHOWN = 300;

export class RoomIndex {
  constructor() {
    this.courts = new Map();   // code -> {code, name_zh, name_en, parent, depth}
    this.order = [];           // court codes, parents before children
    this.rooms = new Map();    // code -> room as /api/courtrooms gives it
  }

  async load() {
    const tree = await api("/api/courts");
    const walk = (node, depth) => {
      this.courts.set(node.code, { ...node, depth });
      this.order.push(node.code);
      for (const child of node.children) walk(child, depth + 1);
    };
    for (const root of tree.courts) walk(root, 0);
    for (let offset = 0; offset < 100 * PAGE; offset += PAGE) {  // bounded
      const page = await api(`/api/courtrooms?limit=${PAGE}&offset=${offset}`);
      for (const room of page.items) this.rooms.set(room.code, room);
      if (offset + PAGE >= page.total) break;
    }
  }

  // Is `court` the court `top` or below it? (An empty `top` is everything.)
  within(court, top) {
    for (let c = court; c; c = this.courts.get(c)?.parent) if (c === top) return true;
    return !top;
  }

  roomsOf(top) {
    return [...this.rooms.values()].filter((r) => this.within(r.court, top)).map((r) => r.code);
  }
}

export class RoomPanel {
  constructor({ index, list, court, search, alarms, status, onChoose }) {
    Object.assign(this, { index, list, court, search, alarmList: alarms, status, onChoose });
    this.chosen = null;
    court.addEventListener("change", () => this.render());
    search.addEventListener("input", () => this.render());
  }

  fillCourts(selected = "") {
    const options = [el("option", { value: "", text: t("rooms.allCourts") })];
    for (const code of this.index.order) {
      const c = this.index.courts.get(code);
      options.push(el("option", { value: code, text: `${"\u00a0\u00a0".repeat(c.depth)}${localName(c)}` }));
    }
    this.court.replaceChildren(...options);
    this.court.value = selected;
  }

  render() {
    const text = this.search.value.trim().toLowerCase();
    const top = this.court.value;
    const rooms = [...this.index.rooms.values()].filter((r) => this.index.within(r.court, top) &&
      (!text || `${r.code} ${r.name_zh} ${r.name_en}`.toLowerCase().includes(text)));
    const items = rooms.slice(0, SHOWN).map((room) => this.item(room));
    if (rooms.length > SHOWN) {
      items.push(el("li", { class: "muted", text: t("rooms.more", { n: rooms.length - SHOWN }) }));
    }
    this.list.replaceChildren(...items);
  }

  item(room) {
    const main = this.source({ room: room.code, feed: null }, `${room.code} ${localName(room)}`, "wall-room");
    main.append(el("span", { class: `status status-${room.status}`, text: roomStatus(room.status) }));
    const feeds = room.feeds.map((feed) => this.source({ room: room.code, feed }, feedName(feed), "wall-feed"));
    return el("li", { dataset: { room: room.code } }, main, ...feeds);
  }

  // A button that is dragged onto a tile, or chosen (Enter) for the focused tile.
  source(value, label, cls) {
    const button = el("button", { type: "button", class: cls, draggable: "true", "aria-pressed": "false",
      dataset: { room: value.room, feed: value.feed || "" }, text: label });
    button.addEventListener("dragstart", (ev) => {
      ev.dataTransfer.setData(DRAG_TYPE, JSON.stringify(value));
      ev.dataTransfer.effectAllowed = "copy";
    });
    button.addEventListener("click", () => this.choose(value, label, button));
    return button;
  }

  choose(value, label, button) {
    for (const b of document.querySelectorAll(".wall-side [aria-pressed='true']")) b.setAttribute("aria-pressed", "false");
    this.chosen = value;
    button.setAttribute("aria-pressed", "true");
    this.status.textContent = t("rooms.chosen", { what: label });
    this.onChoose(value);
  }

  clearChoice() {
    this.chosen = null;
    for (const b of document.querySelectorAll(".wall-side [aria-pressed='true']")) b.setAttribute("aria-pressed", "false");
    this.status.textContent = "";
  }

  // The open alarms (worst first), each draggable onto a tile.
  renderAlarms(alarms) {
    const items = [];
    for (const [room, list] of alarms) {
      const a = list[0];
      const label = `${room} ${localName(this.index.rooms.get(room))} · ${t(`alert.${a.kind}`)}`;
      const button = this.source({ room, feed: a.feed || null, alert: a.id }, label, "wall-alarm");
      button.dataset.severity = a.severity;
      items.push(el("li", {}, button));
    }
    if (!items.length) items.push(el("li", { class: "muted", text: t("rooms.noAlarms") }));
    this.alarmList.replaceChildren(...items);
  }
}
