// Booking a hearing of the open case (POST /api/hearings) or moving one (PATCH
// /api/hearings/{id}). Times are entered in the browser's local time and sent as UTC; a double
// booking (409) names every hearing it collides with.
import { api, el } from "../lib/api.js";
import { addStrings, formatTime, localName, t } from "../lib/i18n.js";
import { today } from "../lib/day.js";
import { filled, markField, report } from "./refusals.js";

addStrings({
  "booking.new": ["为本案排期", "Book a hearing of this case"],
  "booking.edit": ["庭审 #{id} 改期", "Reschedule hearing #{id}"],
  "booking.book": ["排期", "Book"],
  "booking.save": ["保存改期", "Save the new time"],
  "booking.stopEdit": ["放弃改期", "Stop rescheduling"],
  "booking.room": ["法庭", "Courtroom"],
  "booking.start": ["开始时间", "Starts"],
  "booking.end": ["结束时间", "Ends"],
  "booking.tz": ["按本机时区（UTC{tz}）填写。", "In this computer's time zone (UTC{tz})."],
  "booking.title": ["庭审名称", "Title"],
  "booking.site": ["远程场所（提讯）", "Remote site (arraignment)"],
  "booking.noSite": ["无", "None"],
  "booking.public": ["公开审理（列入公开排期）", "Public (on the public schedule)"],
  "booking.private": ["本案不公开审理，不能列入公开排期。", "This case is heard in private."],
  "booking.defaultPerson": ["默认：{name}", "Default: {name}"],
  "booking.booked": ["已排期：庭审 #{id}，{when}。", "Booked: hearing #{id}, {when}."],
  "booking.moved": ["已改期：庭审 #{id}，{when}。", "Rescheduled: hearing #{id}, {when}."],
  "booking.unchanged": ["没有改动。", "Nothing changed."],
  "conflict.lead": ["时段冲突，未能排期：", "Not booked: the time collides with"],
  "conflict.item": ["庭审 #{id}（{case}），{room}，{when}", "hearing #{id} ({case}), {room}, {when}"],
  "conflict.room": ["法庭已被占用", "the courtroom is taken"],
  "conflict.presiding_judge": ["审判长 {who} 已有庭审", "presiding judge {who} is booked"],
  "conflict.panel": ["合议庭成员 {who} 已有庭审", "panel member {who} is booked"],
  "conflict.clerk": ["书记员 {who} 已有庭审", "clerk {who} is booked"],
});

const pad = (n) => String(n).padStart(2, "0");

// "2025-03-01T09:30" in local time, for <input type=datetime-local>.
export function localInput(iso) {
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

// A datetime-local value (the browser's local time) as an ISO 8601 UTC instant, or null.
export function utcInstant(value) {
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString().replace(".000Z", "Z");
}

const span = (h) => `${formatTime(h.starts_at, { date: true })}–${formatTime(h.ends_at)}`;

export class Booking {
  // parts: {form, title, submit, stopEdit, tz, publicNote, error, status}
  // options: {courts, sites, onBooked(hearing)}
  constructor(parts, options) {
    Object.assign(this, parts, options);
    this.item = null; // the case
    this.editing = null; // the hearing being moved
    this.form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.send().catch(() => {});
    });
    // Stopping a move (button or Escape) leaves the focus on the form's heading, not nowhere.
    const stop = () => this.book(this.item).then(() => this.title.focus());
    this.stopEdit.addEventListener("click", stop);
    this.form.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape" && this.editing) stop();
    });
  }

  // Book a new hearing of `item` (a case): an empty form, the room picker aside.
  async book(item) {
    this.item = item;
    this.editing = null;
    await this.fillChoices(null);
    const f = this.form.elements;
    for (const name of ["starts_at", "ends_at", "title", "presiding_judge", "clerk"]) f[name].value = "";
    f.public.checked = false;
    f.remote_site.value = "";
    report(this.error, null, this.form);
    this.relabel();
  }

  // Move the scheduled hearing `id` of the open case.
  async reschedule(id) {
    const h = await api(`/api/hearings/${id}`);
    this.editing = h;
    await this.fillChoices(h);
    const f = this.form.elements;
    f.room.value = h.room;
    f.starts_at.value = localInput(h.starts_at);
    f.ends_at.value = localInput(h.ends_at);
    f.title.value = h.title || "";
    f.presiding_judge.value = h.presiding_judge || "";
    f.clerk.value = h.clerk || "";
    f.public.checked = h.public;
    f.remote_site.value = h.remote_site || "";
    report(this.error, null, this.form);
    this.status.textContent = "";
    this.relabel();
    this.title.focus();
  }

  async fillChoices(h) {
    const f = this.form.elements;
    const rooms = await this.courts.roomsOf(this.item.court);
    const room = f.room.value;
    f.room.replaceChildren(...rooms.map((r) => el("option", { value: r.code, text: `${localName(r)} ${r.code}` })));
    if (rooms.some((r) => r.code === room)) f.room.value = room;
    const sites = this.sites.filter((s) => s.enabled !== false && this.courts.within(this.item.court, s.court));
    if (h?.remote_site && !sites.some((s) => s.code === h.remote_site)) {
      sites.push({ code: h.remote_site, name: h.remote_site }); // linked before, disabled since
    }
    const site = f.remote_site.value;
    f.remote_site.replaceChildren(el("option", { value: "", text: t("booking.noSite") }),
      ...sites.map((s) => el("option", { value: s.code, text: `${s.name} (${s.code})` })));
    f.remote_site.value = sites.some((s) => s.code === site) ? site : "";
  }

  relabel() {
    if (!this.item) return;
    const f = this.form.elements;
    this.title.textContent = this.editing ? t("booking.edit", { id: this.editing.id }) : t("booking.new");
    this.submit.textContent = this.editing ? t("booking.save") : t("booking.book");
    this.stopEdit.hidden = !this.editing;
    this.form.dataset.mode = this.editing ? "reschedule" : "book";
    this.tz.textContent = t("booking.tz", { tz: today().tz });
    const blockers = this.item.broadcast_blockers || [];
    f.public.disabled = blockers.length > 0;
    this.publicNote.textContent = blockers.length ? t("booking.private") : "";
    // Empty seats are taken by the case's own judge and clerk.
    for (const name of ["presiding_judge", "clerk"]) {
      const person = this.item[name];
      f[name].placeholder = person ? t("booking.defaultPerson", { name: person }) : "";
    }
  }

  // The fields as the API takes them; for a move, only those that changed.
  body() {
    const f = this.form.elements;
    const wanted = {
      room: f.room.value, starts_at: utcInstant(f.starts_at.value), ends_at: utcInstant(f.ends_at.value),
      title: f.title.value, public: f.public.checked, remote_site: f.remote_site.value || null,
    };
    for (const name of ["presiding_judge", "clerk"]) {
      if (f[name].value.trim()) wanted[name] = f[name].value.trim();
    }
    if (!this.editing) return { case_id: this.item.id, ...wanted };
    const h = this.editing;
    const same = (key) => (key.endsWith("_at") ? Date.parse(h[key]) === Date.parse(wanted[key])
      : (h[key] ?? null) === (wanted[key] ?? null));
    return Object.fromEntries(Object.entries(wanted).filter(([key]) => !same(key)));
  }

  async send() {
    this.status.textContent = "";
    if (!filled(this.form, this.error)) return;
    const body = this.body();
    if (body.starts_at && body.ends_at && Date.parse(body.ends_at) <= Date.parse(body.starts_at)) {
      this.error.textContent = t("refusal.order");
      markField(this.form, this.error, "ends_at");
      return;
    }
    if (this.editing && !Object.keys(body).length) {
      report(this.error, null, this.form);
      this.status.textContent = t("booking.unchanged");
      return;
    }
    let saved;
    try {
      saved = this.editing
        ? await api(`/api/hearings/${this.editing.id}`, { method: "PATCH", body })
        : await api("/api/hearings", { method: "POST", body });
    } catch (err) {
      if (err.status === 409 && Array.isArray(err.detail?.conflicts)) this.showConflicts(err.detail.conflicts);
      else report(this.error, err, this.form);
      throw err;
    }
    report(this.error, null, this.form);
    const key = this.editing ? "booking.moved" : "booking.booked";
    this.editing = null;
    this.relabel();
    this.status.textContent = t(key, { id: saved.id, when: span(saved) });
    await this.onBooked(saved);
  }

  showConflicts(conflicts) {
    report(this.error, null, this.form);
    const items = conflicts.map((c) => el("li", { dataset: { conflict: c.hearing } },
      t("conflict.item", { id: c.hearing, case: c.case, room: this.courts.roomName(c.room), when: span(c) }),
      " — ", t(`conflict.${c.reason}`, { who: c.who || "" })));
    this.error.replaceChildren(el("p", { text: t("conflict.lead") }), el("ul", {}, ...items));
    markField(this.form, this.error, conflicts[0].reason === "room" ? "room" : "starts_at");
  }
}
