// Chinese first, English switchable. Pages register their strings with addStrings() and mark
// elements with data-i18n="key" (text), data-i18n-placeholder, data-i18n-title, data-i18n-label
// (aria-label); applyTranslations() fills them. The choice is kept in localStorage.
const LANGS = ["zh-CN", "en"];
const strings = { "zh-CN": {}, en: {} };
let current = LANGS.includes(localStorage.getItem("lang")) ? localStorage.getItem("lang") : "zh-CN";
const listeners = new Set();

export function addStrings(table) {
  for (const [key, pair] of Object.entries(table)) {
    strings["zh-CN"][key] = pair[0];
    strings.en[key] = pair[1] ?? pair[0];
  }
}

export function lang() {
  return current;
}

// t("rooms.count", {n: 3}) -> "3 间法庭"; unknown keys show themselves so gaps are visible.
export function t(key, vars = {}) {
  const text = strings[current][key] ?? strings["zh-CN"][key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

export function applyTranslations(root = document) {
  document.documentElement.lang = current;
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const [attr, target] of [["i18nPlaceholder", "placeholder"], ["i18nTitle", "title"],
    ["i18nLabel", "aria-label"]]) {
    for (const el of root.querySelectorAll(`[data-${attr.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}]`)) {
      el.setAttribute(target, t(el.dataset[attr]));
    }
  }
}

export function setLang(next) {
  if (!LANGS.includes(next)) return;
  current = next;
  localStorage.setItem("lang", next);
  applyTranslations();
  for (const fn of listeners) fn(next);
}

export function onLangChange(fn) {
  listeners.add(fn);
}

// The name of a court or room in the current language ({name_zh, name_en}).
export function localName(item) {
  if (!item) return "";
  return (current === "en" ? item.name_en : item.name_zh) || item.name_zh || item.name_en || "";
}

// A clock time (or date and time with {date: true}) in the current language's format.
export function formatTime(value, { date = false, seconds = false } = {}) {
  if (!value) return "";
  const when = value instanceof Date ? value : new Date(value);
  const opts = { hour: "2-digit", minute: "2-digit", hour12: false };
  if (seconds) opts.second = "2-digit";
  if (date) Object.assign(opts, { year: "numeric", month: "2-digit", day: "2-digit" });
  return new Intl.DateTimeFormat(current, opts).format(when);
}
