// What the server refused and why, said in the page's language, in a role="alert" box next to
// the form; the field at fault is marked aria-invalid, described by the box and focused.
import { addStrings, t } from "../lib/i18n.js";

addStrings({
  "refusal.offline": ["无法连接服务器，请稍后再试。", "The server cannot be reached; try again later."],
  "refusal.401": ["登录已失效，请重新登录。", "Your session has ended; log in again."],
  "refusal.403": ["您的角色无权执行此操作。", "Your role may not do this."],
  "refusal.404": ["未找到，或您无权查看。", "Not found, or not yours to see."],
  "refusal.other": ["请求被拒绝：{reason}", "Refused: {reason}"],
  "refusal.missing": ["请填写“{field}”。", "Please fill in “{field}”."],
  "refusal.order": ["结束时间须晚于开始时间。", "The end must be after the start."],
  "refusal.exists": ["案号 {number} 已存在。", "Case {number} already exists."],
  "refusal.number": ["案号格式不正确（{part}）：{reason}", "Invalid case number ({part}): {reason}"],
  "refusal.part.brackets": ["括号", "brackets"],
  "refusal.part.year": ["年份", "year"],
  "refusal.part.court": ["法院代字", "court code"],
  "refusal.part.type": ["类型代字", "case-type code"],
  "refusal.part.sequence": ["序号", "sequence number"],
  "refusal.part.number": ["案号", "number"],
  "refusal.judge": ["审判长“{name}”不是本院在职法官。",
    "“{name}” is not an active judge of this court."],
  "refusal.clerk": ["书记员“{name}”不是本院在职书记员。",
    "“{name}” is not an active clerk of this court."],
  "refusal.panel": ["合议庭成员“{name}”不是本院在职法官。",
    "“{name}” is not an active judge of this court."],
  "refusal.private": ["本案不公开审理，不能列入公开排期。",
    "This case is heard in private; it cannot be on the public schedule."],
  "refusal.noPerson.presiding_judge": ["本案未指定审判长，请填写审判长。",
    "The case names no presiding judge; enter one."],
  "refusal.noPerson.clerk": ["本案未指定书记员，请填写书记员。", "The case names no clerk; enter one."],
  "refusal.passed": ["所选时段已经过去。", "That time has already passed."],
});

const FIELD_OF_PART = { brackets: "number", year: "number", court: "number", type: "number",
  sequence: "number", number: "number" };

// {text, field}: a sentence for the error and the name of the form field at fault, if any.
export function explain(err) {
  const status = err?.status;
  const detail = err?.detail && typeof err.detail === "object" ? err.detail : {};
  if (status === undefined) return { text: t("refusal.offline") };
  if (status === 401 || status === 403 || status === 404) return { text: t(`refusal.${status}`) };
  if (status === 409 && detail.number) return { text: t("refusal.exists", { number: detail.number }), field: "number" };
  if (status === 400 && detail.part && FIELD_OF_PART[detail.part]) {
    const part = t(`refusal.part.${detail.part}`);
    return { text: t("refusal.number", { part, reason: detail.message || err.message }), field: "number" };
  }
  if (status === 400 && ["presiding_judge", "clerk", "panel"].includes(detail.field)) {
    const key = detail.field === "presiding_judge" ? "judge" : detail.field;
    return { text: t(`refusal.${key}`, { name: detail.username || "" }), field: detail.field };
  }
  if (status === 400 && Array.isArray(detail.restrictions)) return { text: t("refusal.private"), field: "public" };
  if (status === 400 && err.message === "the window has already passed") {
    return { text: t("refusal.passed"), field: "starts_at" };
  }
  if (status === 400 && err.message === "ends_at must be after starts_at") {
    return { text: t("refusal.order"), field: "ends_at" };
  }
  const named = /^missing field '(\w+)'/.exec(err.message || "");
  if (named && ["presiding_judge", "clerk"].includes(named[1])) {
    return { text: t(`refusal.noPerson.${named[1]}`), field: named[1] };
  }
  return { text: t("refusal.other", { reason: err.message || String(status) }), field: named?.[1] };
}

// Takes back the marks of an earlier report.
export function clearMarks(form) {
  for (const input of form?.querySelectorAll("[aria-invalid]") ?? []) {
    input.removeAttribute("aria-invalid");
    const ids = (input.getAttribute("aria-describedby") || "").split(" ")
      .filter((id) => id && id !== input.dataset.errorBox);
    if (ids.length) input.setAttribute("aria-describedby", ids.join(" "));
    else input.removeAttribute("aria-describedby");
    delete input.dataset.errorBox;
  }
}

// Marks the named field of `form` as wrong, described by `box`, and focuses it.
export function markField(form, box, name) {
  const input = form?.elements?.namedItem?.(name);
  if (!input || !(input instanceof HTMLElement)) return;
  input.setAttribute("aria-invalid", "true");
  if (box.id) {
    const ids = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (!ids.includes(box.id)) input.setAttribute("aria-describedby", [...ids, box.id].join(" "));
    input.dataset.errorBox = box.id;
  }
  input.focus();
}

// Says `err` in `box` (or empties it for null) and marks the field at fault in `form`.
export function report(box, err, form = null) {
  clearMarks(form);
  if (!err) {
    box.replaceChildren();
    return;
  }
  const { text, field } = explain(err);
  box.textContent = text;
  if (field) markField(form, box, field);
}

// The first required field of `form` left empty, reported in `box`; true when all are filled.
export function filled(form, box) {
  clearMarks(form);
  for (const input of form.querySelectorAll("[required]")) {
    if (input.value.trim()) continue;
    const label = form.querySelector(`label[for="${input.id}"] span, label[for="${input.id}"]`);
    box.textContent = t("refusal.missing", { field: (label?.textContent || input.name).trim() });
    markField(form, box, input.name);
    return false;
  }
  return true;
}
