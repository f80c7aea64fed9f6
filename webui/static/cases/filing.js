// Filing a case (POST /api/cases) and adding a party to it (POST /api/cases/{id}/parties).
import { api } from "../lib/api.js";
import { addStrings, t } from "../lib/i18n.js";
import { filled, report } from "./refusals.js";

addStrings({
  "cases.fileTitle": ["立案", "File a case"],
  "cases.file": ["立案", "File"],
  "cases.filed": ["已立案：{number}", "Filed: {number}"],
  "cases.numberHint": ["例如 {example}；半角括号亦可。", "For example {example}; ASCII brackets work too."],
  "cases.peopleHint": ["填写用户名；须为本院在职的法官或书记员。",
    "User names; each must be an active judge or clerk of the court."],
  "party.add": ["添加当事人", "Add a party"],
  "party.addButton": ["添加", "Add"],
  "party.added": ["已添加当事人：{name}", "Party added: {name}"],
});

const optional = (value) => value.trim() || null;

export class CaseFiling {
  // parts: {form, hint, error, status}; onFiled(case) opens the new case.
  constructor(parts, { me, courts, onFiled }) {
    Object.assign(this, parts);
    this.me = me;
    this.courts = courts;
    this.onFiled = onFiled;
    // A clerk filing a case is its clerk: the field named for the user's role gets their name.
    const own = this.form.elements.namedItem(me.role);
    if (own) own.value = me.username;
    this.form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.submit().catch(() => {});
    });
    this.relabel();
  }

  // The example number uses the user's own court (else the first they see) and this year.
  relabel() {
    const court = this.courts.byCode.get(this.me.court) || this.courts.list[0];
    const prefix = court?.case_prefix || "";
    const example = `（${new Date().getFullYear()}）${prefix}民初101号`;
    this.hint.textContent = t("cases.numberHint", { example });
    this.form.elements.number.placeholder = example;
  }

  async submit() {
    this.status.textContent = "";
    if (!filled(this.form, this.error)) return;
    const f = this.form.elements;
    const body = { number: f.number.value.trim(), cause: f.cause.value,
      presiding_judge: optional(f.presiding_judge.value), clerk: optional(f.clerk.value),
      restriction: f.restriction.value || null };
    let created;
    try {
      created = await api("/api/cases", { method: "POST", body });
    } catch (err) {
      report(this.error, err, this.form);
      throw err;
    }
    report(this.error, null, this.form);
    this.status.textContent = t("cases.filed", { number: created.number });
    for (const name of ["number", "cause"]) f[name].value = "";
    await this.onFiled(created);
  }
}

export class PartyForm {
  // parts: {form, error, status}; onAdded() shows the case again.
  constructor(parts, onAdded) {
    Object.assign(this, parts);
    this.onAdded = onAdded;
    this.caseId = null;
    const f = this.form.elements;
    // Only a natural person can be a minor.
    const kindChanged = () => {
      const natural = f.kind.value === "natural";
      f.minor.disabled = !natural;
      if (!natural) f.minor.checked = false;
    };
    for (const radio of this.form.querySelectorAll("input[name=kind]")) {
      radio.addEventListener("change", kindChanged);
    }
    this.form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.submit().catch(() => {});
    });
  }

  show(caseId) {
    if (caseId !== this.caseId) {
      this.form.reset();
      this.form.elements.minor.disabled = false;
      report(this.error, null, this.form);
      this.status.textContent = "";
    }
    this.caseId = caseId;
  }

  async submit() {
    this.status.textContent = "";
    if (!filled(this.form, this.error)) return;
    const f = this.form.elements;
    const body = { role: f.role.value, kind: f.kind.value, name: f.name.value.trim(),
      id_number: optional(f.id_number.value), phone: optional(f.phone.value),
      address: optional(f.address.value), minor: f.minor.checked };
    let added;
    try {
      added = await api(`/api/cases/${this.caseId}/parties`, { method: "POST", body });
    } catch (err) {
      report(this.error, err, this.form);
      throw err;
    }
    report(this.error, null, this.form);
    this.status.textContent = t("party.added", { name: added.parties[0].name });
    for (const name of ["name", "id_number", "phone", "address"]) f[name].value = "";
    f.minor.checked = false;
    await this.onAdded();
    f.name.focus();
  }
}
