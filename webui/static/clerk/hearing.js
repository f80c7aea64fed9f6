// The hearing and its proceedings: facts, one button per transition (POST
// /api/hearings/{id}/transitions), and the unexplained recording gaps that block closing.
import { api, el } from "../lib/api.js";
import { addStrings, formatTime, t } from "../lib/i18n.js";
import { hearingState } from "../lib/labels.js";

addStrings({
  "clerk.to.opened": ["开庭", "Open"],
  "clerk.to.recess": ["休庭", "Recess"],
  "clerk.to.resumed": ["续开庭", "Resume"],
  "clerk.to.closed": ["闭庭", "Close"],
  "clerk.to.adjourned": ["延期审理", "Adjourn"],
  "clerk.confirm.closed": ["确认闭庭？", "Close the hearing?"],
  "clerk.confirm.adjourned": ["确认延期审理？", "Adjourn the hearing?"],
  "clerk.done": ["已{action}。", "Done: {action}."],
  "clerk.refused": ["未能{action}：{reason}", "Could not {action}: {reason}"],
  "clerk.refusedGaps": ["未能{action}：录像中断须先由审判长说明。",
    "Could not {action}: the presiding judge must first explain the recording gaps."],
  "clerk.cannotSteer": ["只有本院书记员或审判长可以控制此庭审。",
    "Only a clerk of the court or the presiding judge may steer this hearing."],
  "fact.cause": ["案由", "Cause"],
  "fact.room": ["法庭", "Courtroom"],
  "fact.time": ["时间", "Time"],
  "fact.judge": ["审判长", "Presiding judge"],
  "fact.clerk": ["书记员", "Clerk"],
  "gap.line": ["{feed}：{from} 至 {to}，{cause}", "{feed}: {from} to {to}, {cause}"],
  "gap.open": ["仍在中断", "still open"],
  "gap.allFeeds": ["全部画面", "all feeds"],
});

const ACTIONS = ["opened", "recess", "resumed", "closed", "adjourned"];
const CONFIRM = new Set(["closed", "adjourned"]);

export class HearingPanel {
  constructor({ title, state, facts, buttons, reason, result, gaps, gapList, onChange }) {
    Object.assign(this, { title, state, facts, buttons, reason, result, gaps, gapList, onChange });
    this.hearing = null;
    this.roomName = "";
    this.buttonFor = new Map();
    for (const to of ACTIONS) {
      const button = el("button", { type: "button", dataset: { to }, text: t(`clerk.to.${to}`) });
      button.addEventListener("click", () => this.move(to));
      this.buttonFor.set(to, button);
      buttons.append(button);
    }
  }

  async load(id) {
    this.show(await api(`/api/hearings/${id}`));
  }

  show(h) {
    this.hearing = h;
    this.title.textContent = h.case.number;
    this.state.textContent = hearingState(h.state);
    this.state.className = `hearing-state hearing-${h.state}`;
    this.state.dataset.state = h.state;
    const facts = [["cause", h.case.cause], ["room", this.roomName || h.room],
      ["time", `${formatTime(h.starts_at, { date: true })} – ${formatTime(h.ends_at)}`],
      ["judge", h.presiding_judge], ["clerk", h.clerk]];
    this.facts.replaceChildren(...facts.flatMap(([key, value]) =>
      [el("dt", { text: t(`fact.${key}`) }), el("dd", { text: value || "—" })]));
    for (const [to, button] of this.buttonFor) {
      button.textContent = t(`clerk.to.${to}`);
      button.disabled = !h.may?.steer || !h.allowed.includes(to);
    }
    if (!h.may?.steer) this.result.textContent = t("clerk.cannotSteer");
    this.showGaps(h.gaps.filter((g) => !g.explanation).map((g) => g.id));
    this.onChange?.(h);
  }

  async move(to) {
    const action = t(`clerk.to.${to}`);
    if (CONFIRM.has(to) && !window.confirm(t(`clerk.confirm.${to}`))) return;
    const button = this.buttonFor.get(to);
    button.disabled = true;
    try {
      const body = { to };
      const reason = this.reason.value.trim();
      if (reason) body.reason = reason;
      const h = await api(`/api/hearings/${this.hearing.id}/transitions`, { method: "POST", body });
      this.reason.value = "";
      this.show(h);
      this.result.textContent = t("clerk.done", { action });
    } catch (err) {
      const gaps = err.status === 409 && err.detail?.unexplained_gaps;
      this.result.textContent = gaps ? t("clerk.refusedGaps", { action })
        : t("clerk.refused", { action, reason: err.message });
      if (gaps) {
        await this.load(this.hearing.id).catch(() => {});
        this.showGaps(err.detail.unexplained_gaps);
      } else {
        button.disabled = false;
      }
    }
  }

  // The gaps (by id) that still need the presiding judge's explanation.
  showGaps(ids) {
    const wanted = new Set(ids);
    const gaps = (this.hearing?.gaps || []).filter((g) => wanted.has(g.id));
    this.gaps.hidden = !wanted.size;
    this.gapList.replaceChildren(...(gaps.length ? gaps : ids.map((id) => ({ id }))).map((g) =>
      el("li", { dataset: { gap: g.id }, text: g.started_at ? t("gap.line", {
        feed: g.feed || t("gap.allFeeds"), from: formatTime(g.started_at, { seconds: true }),
        to: g.ended_at ? formatTime(g.ended_at, { seconds: true }) : t("gap.open"),
        cause: g.cause || "—" }) : `#${g.id}` })));
  }
}
