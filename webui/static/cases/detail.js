// One case (GET /api/cases/{id}): its facts, its parties (personal data only as the API gives
// it) and its hearings, with reschedule and cancel (POST .../transitions) for schedulers.
import { api, el } from "../lib/api.js";
import { addStrings, formatTime, t } from "../lib/i18n.js";
import { hearingState } from "../lib/labels.js";
import { report } from "./refusals.js";
import { caseStatus, caseType, partyKind, partyRole, restriction } from "./words.js";

addStrings({
  "party.withheld": ["不予显示", "Withheld"],
  "party.withheldWhy": ["您无权查看当事人的个人信息。", "You may not see the parties' personal data."],
  "party.none": ["尚无当事人。", "No parties yet."],
  "party.minorMark": ["（未成年人）", "(minor)"],
  "hearingCol.id": ["编号", "No."],
  "hearingCol.time": ["时间", "Time"],
  "hearingCol.room": ["法庭", "Courtroom"],
  "hearingCol.state": ["状态", "State"],
  "hearingCol.actions": ["操作", "Actions"],
  "caseHearing.none": ["尚未排期。", "No hearing booked yet."],
  "caseHearing.console": ["控制台", "Console"],
  "caseHearing.consoleFor": ["打开庭审 {id} 的控制台", "Open the console of hearing {id}"],
  "caseHearing.reschedule": ["改期", "Reschedule"],
  "caseHearing.rescheduleFor": ["庭审 {id} 改期", "Reschedule hearing {id}"],
  "caseHearing.cancel": ["撤销", "Cancel"],
  "caseHearing.cancelFor": ["撤销庭审 {id}", "Cancel hearing {id}"],
  "caseHearing.cancelReason": ["撤销事由（可选）", "Reason (optional)"],
  "caseHearing.cancelConfirm": ["确认撤销", "Cancel the hearing"],
  "caseHearing.cancelBack": ["返回", "Back"],
  "caseHearing.cancelled": ["庭审 {id} 已撤销。", "Hearing {id} is cancelled."],
  "blockers.note": ["本案不公开审理（{reasons}），其庭审不能列入公开排期。",
    "This case is heard in private ({reasons}); its hearings cannot be public."],
});

const withheld = () => el("span", { class: "muted", text: t("party.withheld") });

export class CaseDetail {
  // parts: {section, title, cause, facts, blockers, parties, hearings, error, status, close}
  // options: {courts, canSchedule, canSteer, onShown(case), onReschedule(hearingId), onChanged()}
  constructor(parts, options) {
    Object.assign(this, parts, options);
    this.item = null;
    this.close.addEventListener("click", () => this.hide());
    // Those who can neither steer nor schedule have no actions column.
    this.acts = this.canSteer || this.canSchedule;
    if (!this.acts) this.hearings.closest("table").querySelector("thead th:last-child")?.remove();
  }

  async open(caseId, { focus = true } = {}) {
    if (focus && !this.section.contains(document.activeElement)) this.opener = document.activeElement;
    const item = await api(`/api/cases/${caseId}`);
    this.item = item;
    const url = new URL(location.href);
    url.searchParams.set("case", String(item.id));
    history.replaceState(null, "", url);
    await this.courts.roomsOf(item.court).catch(() => []);
    this.render();
    this.section.hidden = false;
    await this.onShown(item);
    if (focus) this.title.focus();
  }

  async reload() {
    if (this.item) await this.open(this.item.id, { focus: false });
  }

  hide() {
    this.item = null;
    this.section.hidden = true;
    const url = new URL(location.href);
    url.searchParams.delete("case");
    history.replaceState(null, "", url);
    // Back to where the case was opened from (a result, a week entry), else to the search.
    const back = this.opener?.isConnected ? this.opener : document.getElementById("search-number");
    back?.focus();
  }

  render() {
    const c = this.item;
    if (!c) return;
    this.section.dataset.case = c.id;
    this.title.textContent = c.number;
    this.cause.textContent = c.cause || t("cases.none");
    const facts = [
      ["cases.court", this.courts.name(c.court)], ["cases.type", caseType(c.type)],
      ["cases.status", caseStatus(c.status)], ["cases.judge", c.presiding_judge || t("cases.none")],
      ["cases.clerk", c.clerk || t("cases.none")],
      ["cases.restriction", c.restriction ? restriction(c.restriction) : t("cases.none")],
      ["cases.createdBy", c.created_by], ["cases.createdAt", formatTime(c.created_at, { date: true })],
    ];
    this.facts.replaceChildren(...facts.flatMap(([key, value]) =>
      [el("dt", { text: t(key) }), el("dd", { text: value })]));
    const blockers = c.broadcast_blockers || [];
    this.blockers.hidden = !blockers.length;
    this.blockers.textContent = blockers.length
      ? t("blockers.note", { reasons: blockers.map(restriction).join("、") }) : "";
    this.renderParties(c.parties || []);
    this.renderHearings(c.hearings || []);
  }

  renderParties(parties) {
    if (!parties.length) {
      this.parties.replaceChildren(el("tr", {}, el("td", { colspan: "6", class: "muted", text: t("party.none") })));
      return;
    }
    const personal = (p, key) => (p.personal_data_withheld ? withheld() : p[key] || t("cases.none"));
    this.parties.replaceChildren(...parties.map((p) => el("tr", { dataset: { party: p.id } },
      el("td", { text: partyRole(p.role) }),
      el("td", { text: partyKind(p.kind) }),
      el("th", { scope: "row" }, p.name, p.minor ? el("span", { class: "minor", text: t("party.minorMark") }) : null),
      el("td", {}, personal(p, "id_number")), el("td", {}, personal(p, "phone")),
      el("td", {}, personal(p, "address")))));
    if (parties.some((p) => p.personal_data_withheld)) {
      this.parties.append(el("tr", {}, el("td", { colspan: "6", class: "muted", text: t("party.withheldWhy") })));
    }
  }

  renderHearings(hearings) {
    if (!hearings.length) {
      this.hearings.replaceChildren(el("tr", {}, el("td", { colspan: this.acts ? "5" : "4", class: "muted",
        text: t("caseHearing.none") })));
      return;
    }
    const sorted = [...hearings].sort((a, b) => a.starts_at.localeCompare(b.starts_at));
    this.hearings.replaceChildren(...sorted.map((h) => this.hearingRow(h)));
  }

  hearingRow(h) {
    const actions = el("td", { class: "hearing-actions" });
    if (this.canSteer) {
      actions.append(el("a", { href: `/clerk?hearing=${h.id}`, text: t("caseHearing.console"),
        "aria-label": t("caseHearing.consoleFor", { id: h.id }) }));
    }
    if (this.canSchedule && h.state === "scheduled") {
      const move = el("button", { type: "button", dataset: { reschedule: h.id },
        text: t("caseHearing.reschedule"), "aria-label": t("caseHearing.rescheduleFor", { id: h.id }) });
      move.addEventListener("click", () => this.onReschedule(h.id));
      const cancel = el("button", { type: "button", dataset: { cancel: h.id },
        text: t("caseHearing.cancel"), "aria-label": t("caseHearing.cancelFor", { id: h.id }) });
      cancel.addEventListener("click", () => this.askCancel(h, actions));
      actions.append(move, cancel);
    }
    return el("tr", { dataset: { hearing: h.id, state: h.state } },
      el("th", { scope: "row", text: `#${h.id}` }),
      el("td", { text: `${formatTime(h.starts_at, { date: true })} – ${formatTime(h.ends_at)}` }),
      el("td", { text: this.courts.roomName(h.room) }),
      el("td", {}, el("span", { class: `hearing-state hearing-${h.state}`, text: hearingState(h.state) })),
      this.acts ? actions : null);
  }

  // An inline confirmation instead of a modal dialog: reason, confirm, back; Escape goes back.
  askCancel(h, cell) {
    const before = [...cell.childNodes];
    const reason = el("input", { maxlength: "512", "aria-label": t("caseHearing.cancelReason"),
      placeholder: t("caseHearing.cancelReason"), id: `cancel-reason-${h.id}` });
    const confirm = el("button", { type: "button", class: "danger", dataset: { confirmCancel: h.id },
      text: t("caseHearing.cancelConfirm"), "aria-label": t("caseHearing.cancelFor", { id: h.id }) });
    const back = el("button", { type: "button", text: t("caseHearing.cancelBack") });
    const restore = () => {
      cell.replaceChildren(...before);
      cell.querySelector("[data-cancel]")?.focus();
    };
    back.addEventListener("click", restore);
    cell.addEventListener("keydown", (ev) => { if (ev.key === "Escape" && cell.contains(confirm)) restore(); });
    confirm.addEventListener("click", async () => {
      confirm.disabled = true;
      try {
        await api(`/api/hearings/${h.id}/transitions`, { method: "POST",
          body: { to: "cancelled", reason: reason.value } });
      } catch (err) {
        confirm.disabled = false;
        report(this.error, err);
        return;
      }
      report(this.error, null);
      this.status.textContent = t("caseHearing.cancelled", { id: h.id });
      await this.onChanged();
      this.title.focus();
    });
    cell.replaceChildren(reason, confirm, back);
    reason.focus();
  }
}
