// The week schedule (GET /api/schedule?week=) of a court or a room: courtrooms down, the
// seven days of the viewer's week across, each hearing linking to its clerk console.
import { api, el } from "../lib/api.js";
import { today } from "../lib/day.js";
import { addStrings, formatTime, lang, localName, t } from "../lib/i18n.js";
import { hearingState } from "../lib/labels.js";
import { report } from "./refusals.js";

addStrings({
  "week.title": ["一周排期", "Week schedule"],
  "week.room": ["法庭", "Courtroom"],
  "week.allRooms": ["全部法庭", "All courtrooms"],
  "week.day": ["日期（所在周）", "A day of the week"],
  "week.prev": ["上一周", "Previous week"],
  "week.this": ["本周", "This week"],
  "week.next": ["下一周", "Next week"],
  "week.caption": ["{first} 至 {last} 的庭审（UTC{tz}），共 {n} 场",
    "Hearings {first} to {last} (UTC{tz}): {n}"],
  "week.empty": ["本周没有庭审。", "No hearings this week."],
  "week.consoleFor": ["打开 {case} 的庭审控制台（{when}）", "Open the console for {case} ({when})"],
  "week.caseFor": ["查看案件 {case}", "Open case {case}"],
  "week.case": ["案件", "Case"],
});

const DAY = 86_400_000;
const pad = (n) => String(n).padStart(2, "0");
const dayText = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;

// The local day (YYYY-MM-DD) of an instant.
export const dayOf = (iso) => dayText(new Date(iso));

export class WeekSchedule {
  // parts: {court, room, day, prev, thisWeek, next, error, info, table}
  // options: {me, courts, canSteer, onOpenCase(caseId)}
  constructor(parts, options) {
    Object.assign(this, parts, options);
    this.body = null;
    this.court.addEventListener("change", () => this.chooseCourt().catch(() => {}));
    this.room.addEventListener("change", () => this.load().catch(() => {}));
    this.day.addEventListener("change", () => { if (this.day.value) this.load().catch(() => {}); });
    this.prev.addEventListener("click", () => this.shift(-7));
    this.next.addEventListener("click", () => this.shift(7));
    this.thisWeek.addEventListener("click", () => this.show(today().day));
  }

  async start() {
    this.courts.fill(this.court, this.me.court || "");
    this.day.value = today().day;
    await this.chooseCourt();
  }

  shift(days) {
    const d = new Date(`${this.day.value || today().day}T12:00`);
    d.setDate(d.getDate() + days);
    this.show(dayText(d));
  }

  // Show the week holding `day` (YYYY-MM-DD, local).
  show(day) {
    this.day.value = day;
    return this.load().catch(() => {});
  }

  async chooseCourt() {
    await this.fillRooms("");
    await this.load();
  }

  // The room picker holds the chosen court's own rooms.
  async fillRooms(value = this.room.value) {
    const court = this.court.value;
    const rooms = court ? await this.courts.roomsOf(court) : [];
    this.room.replaceChildren(this.room.options[0],
      ...rooms.map((r) => el("option", { value: r.code, text: `${localName(r)} ${r.code}` })));
    this.room.value = rooms.some((r) => r.code === value) ? value : "";
  }

  async load() {
    const params = new URLSearchParams({ week: this.day.value || today().day, tz: today().tz });
    if (this.court.value) params.set("court", this.court.value);
    if (this.room.value) params.set("room", this.room.value);
    try {
      this.body = await api(`/api/schedule?${params}`);
      report(this.error, null);
    } catch (err) {
      report(this.error, err);
      throw err;
    }
    this.render();
  }

  // The court's own rooms (so free ones show too) and every room that has a hearing.
  rows() {
    const rows = new Map();
    const own = this.room.value ? [] : this.courts.rooms.get(this.court.value) || [];
    for (const r of own) rows.set(r.code, { room: r.code, name_zh: r.name_zh, name_en: r.name_en, hearings: [] });
    for (const r of this.body.rooms) rows.set(r.room, r);
    if (this.room.value && !rows.size) {
      const r = this.courts.roomByCode.get(this.room.value);
      if (r) rows.set(r.code, { room: r.code, name_zh: r.name_zh, name_en: r.name_en, hearings: [] });
    }
    return [...rows.values()];
  }

  render() {
    if (!this.body) return;
    const from = Date.parse(this.body.from);
    const days = [...Array(7).keys()].map((i) => new Date(from + i * DAY));
    const fmt = new Intl.DateTimeFormat(lang(), { weekday: "short", month: "numeric", day: "numeric" });
    this.info.textContent = t("week.caption", { first: dayText(days[0]), last: dayText(days[6]),
      tz: this.body.tz, n: this.body.total });
    const rows = this.rows();
    if (!rows.length) {
      this.table.replaceChildren(el("p", { class: "muted", text: t("week.empty") }));
      return;
    }
    const head = el("tr", {}, el("th", { scope: "col", text: t("week.room") }),
      ...days.map((d) => el("th", { scope: "col", dataset: { day: dayText(d) }, text: fmt.format(d) })));
    const body = rows.map((r) => {
      const cells = days.map(() => []);
      for (const h of r.hearings) {
        const i = Math.min(6, Math.max(0, Math.floor((Date.parse(h.starts_at) - from) / DAY)));
        cells[i].push(h);
      }
      return el("tr", { dataset: { room: r.room } },
        el("th", { scope: "row", text: `${localName(r)} ${r.room}` }),
        ...cells.map((list, i) => el("td", { dataset: { day: dayText(days[i]) } },
          list.length ? el("ul", { class: "week-hearings" }, ...list.map((h) => this.entry(h))) : null)));
    });
    this.table.replaceChildren(el("table", { class: "week", id: "week-grid" },
      el("caption", { class: "visually-hidden", text: this.info.textContent }),
      el("thead", {}, head), el("tbody", {}, ...body)));
  }

  entry(h) {
    const when = `${formatTime(h.starts_at)}–${formatTime(h.ends_at)}`;
    const label = el("span", {}, el("span", { class: "week-time", text: when }), " ",
      el("strong", { text: h.case.number }));
    const main = this.canSteer
      ? el("a", { href: `/clerk?hearing=${h.id}`, class: "week-console", "aria-label":
        t("week.consoleFor", { case: h.case.number, when }) }, label)
      : label;
    const open = el("a", { href: `/cases?case=${h.case.id}`, class: "week-case", text: t("week.case"),
      "aria-label": t("week.caseFor", { case: h.case.number }) });
    open.addEventListener("click", (ev) => {
      if (ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0) return;
      ev.preventDefault();
      this.onOpenCase(h.case.id);
    });
    return el("li", { dataset: { hearing: h.id, state: h.state } }, main,
      h.title ? el("span", { class: "week-title", text: h.title }) : null,
      el("span", { class: "week-cause", text: h.case.cause }),
      el("span", { class: `hearing-state hearing-${h.state}`, text: hearingState(h.state) }), open);
  }
}
