// Today's hearings (GET /api/schedule day view, in the viewer's time zone), listed in a table and
// asked by the room cards for each room's current hearing. hearing.* events keep states fresh.
import { api, el } from "../lib/api.js";
import { addStrings, formatTime, localName, t } from "../lib/i18n.js";
import { today } from "../lib/day.js";
import { hearingState, LIVE_HEARING } from "../lib/labels.js";

addStrings({
  "schedule.time": ["时间", "Time"],
  "schedule.room": ["法庭", "Courtroom"],
  "schedule.case": ["案号", "Case number"],
  "schedule.judge": ["审判长", "Presiding judge"],
  "schedule.state": ["状态", "State"],
  "schedule.none": ["今日没有庭审。", "No hearings today."],
  "schedule.console": ["控制台", "Console"],
  "schedule.consoleFor": ["打开 {case} 的庭审控制台", "Open the console for {case}"],
});

export class Schedule {
  constructor(container, { canSteer }) {
    this.container = container;
    this.canSteer = canSteer;
    this.rooms = []; // [{room, name_zh, name_en, hearings: [...]}]
    this.byId = new Map();
  }

  async load(court) {
    const { day, tz } = today();
    const params = new URLSearchParams({ day, tz });
    if (court) params.set("court", court);
    const body = await api(`/api/schedule?${params}`);
    this.rooms = body.rooms;
    this.byId.clear();
    for (const room of this.rooms) for (const h of room.hearings) this.byId.set(h.id, h);
    this.render();
  }

  // The hearing in session in a room, else its next one today that has not ended.
  current(room) {
    const entry = this.rooms.find((r) => r.room === room);
    if (!entry) return null;
    const live = entry.hearings.find((h) => LIVE_HEARING.includes(h.state));
    if (live) return live;
    const now = Date.now();
    return entry.hearings.find((h) => h.state === "scheduled" && Date.parse(h.ends_at) > now) || null;
  }

  // A hearing.* transition; returns the room whose hearing changed, or null when the schedule
  // must be fetched again (a hearing not known here, or one booked or moved).
  applyEvent(event) {
    const h = this.byId.get(event.data?.hearing);
    if (!h || event.data.starts_at) return null;
    h.state = event.data.state;
    this.render();
    return h.room;
  }

  render() {
    const rows = [];
    for (const room of this.rooms) {
      for (const h of room.hearings) rows.push(this.row(room, h));
    }
    rows.sort((a, b) => a.dataset.start.localeCompare(b.dataset.start));
    if (!rows.length) {
      this.container.replaceChildren(el("p", { class: "muted", text: t("schedule.none") }));
      return;
    }
    const head = el("tr", {}, ...["time", "room", "case", "judge", "state"].map(
      (key) => el("th", { scope: "col", text: t(`schedule.${key}`) })));
    if (this.canSteer) head.append(el("th", { scope: "col", text: t("schedule.console") }));
    this.container.replaceChildren(el("table", { class: "schedule" },
      el("thead", {}, head), el("tbody", {}, ...rows)));
  }

  row(room, h) {
    const tr = el("tr", { dataset: { hearing: h.id, start: h.starts_at, state: h.state } },
      el("td", { text: `${formatTime(h.starts_at)}–${formatTime(h.ends_at)}` }),
      el("td", { text: `${localName(room)} ${room.room}` }),
      el("td", { text: h.case.number }),
      el("td", { text: h.presiding_judge }),
      el("td", {}, el("span", { class: `hearing-state hearing-${h.state}`, text: hearingState(h.state) })));
    if (this.canSteer) {
      tr.append(el("td", {}, el("a", { href: `/clerk?hearing=${h.id}`, text: t("schedule.console"),
        "aria-label": t("schedule.consoleFor", { case: h.case.number }) })));
    }
    return tr;
  }
}
