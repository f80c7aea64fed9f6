// The header every page shares (webui/routes.py puts <header id="shell"> on every page).
// Staff pages: product, navigation by what /api/me grants, the user, language, log out.
//
//   import { startShell } from "../lib/shell.js";
//   const me = await startShell({ action: "hearing.view" });
//   if (!me) return;  // not logged in (sent to the login page) or not granted (the page says so)
//
// Visitors' pages (no account): visitorShell({ product, links, langId, tools }).
import { api, currentUser, el } from "./api.js";
import { may } from "./grants.js";
import { addStrings, applyTranslations, lang, localName, onLangChange, setLang, t } from "./i18n.js";

addStrings({
  "shell.product": ["庭审音视频", "Court audio/video"],
  "shell.skip": ["跳到正文", "Skip to content"],
  "shell.nav": ["主导航", "Main navigation"],
  "shell.lang": ["语言", "Language"],
  "shell.logout": ["退出", "Log out"],
  "shell.user": ["当前用户", "Signed in as"],
  "shell.forbidden": ["您的角色不能使用此页面。", "This page is not available for your role."],
  "shell.home": ["返回我的首页", "Go to my home page"],
  "nav.dashboard": ["总览", "Dashboard"],
  "nav.wall": ["监控墙", "Monitoring wall"],
  "nav.playback": ["录像回放", "Playback"],
  "nav.clerk": ["庭审控制台", "Clerk console"],
  "nav.cases": ["案件与排期", "Cases and schedule"],
  "nav.admin": ["系统管理", "Administration"],
  "nav.public": ["公开庭审", "Public portal"],
  "role.admin": ["管理员", "Administrator"],
  "role.president": ["院领导", "President"],
  "role.judge": ["法官", "Judge"],
  "role.clerk": ["书记员", "Clerk"],
  "role.security": ["安保", "Security"],
  "role.public": ["公众", "Public"],
});

// Each page and the action it is for (null: everyone); a link shows where /api/me grants it.
export const NAV = [
  { key: "dashboard", href: "/dashboard", action: "hearing.view" },
  { key: "wall", href: "/wall", action: "wall.use" },
  { key: "playback", href: "/playback", action: "recording.view" },
  { key: "clerk", href: "/clerk", action: "hearing.mark" },
  { key: "cases", href: "/cases", action: "hearing.view" },
  { key: "admin", href: "/admin", action: "user.manage" },
  { key: "public", href: "/public", action: null },
];

export const LANGUAGES = [["zh-CN", "中文"], ["en", "English"]];

// The page a user starts on, by what they may do: who watches rooms but sees no hearings goes
// to the wall; who records hearings (and does not run the system) to the clerk console.
export function homeFor(me) {
  if (!may(me, "hearing.view")) return may(me, "wall.use") ? "/wall" : "/public";
  if (may(me, "room.record") && !may(me, "user.manage")) return "/clerk";
  return "/dashboard";
}

export function navFor(me) {
  return NAV.filter((item) => item.action === null || may(me, item.action));
}

// A <select> that switches the page language; shared by the header and the login page.
export function languageSelect(id = "shell-lang") {
  const select = el("select", { id, "data-i18n-label": "shell.lang" },
    ...LANGUAGES.map(([code, label]) => el("option", { value: code, lang: code, text: label })));
  select.value = lang();
  select.addEventListener("change", () => setLang(select.value));
  onLangChange((next) => { select.value = next; });
  return select;
}

function skipLink() {
  const main = document.querySelector("main");
  if (!main) return null;
  main.id ||= "main";
  main.tabIndex = -1;
  return el("a", { class: "shell-skip", href: `#${main.id}`, "data-i18n": "shell.skip" });
}

function render(header, me) {
  const here = location.pathname;
  const links = navFor(me).map((item) => el("li", {},
    el("a", { href: item.href, "data-i18n": `nav.${item.key}`, dataset: { nav: item.key },
      "aria-current": here === item.href ? "page" : null })));
  const who = el("span", { class: "shell-user", id: "shell-user" });
  const fillWho = () => {
    const court = localName({ name_zh: me.court_name_zh, name_en: me.court_name_en });
    who.textContent = [me.username, t(`role.${me.role}`), court].filter(Boolean).join(" · ");
  };
  fillWho();
  onLangChange(fillWho);
  const logout = el("button", { type: "button", id: "shell-logout", "data-i18n": "shell.logout" });
  logout.addEventListener("click", async () => {
    await api("/api/logout", { method: "POST" }).catch(() => {});
    location.assign("/");
  });
  header.replaceChildren(
    el("a", { class: "shell-product", href: homeFor(me) },
      el("span", { class: "shell-mark", text: "courtav" }),
      el("span", { "data-i18n": "shell.product" })),
    el("nav", { "data-i18n-label": "shell.nav" }, el("ul", { class: "shell-nav" }, ...links)),
    el("div", { class: "shell-tools" },
      el("span", { class: "visually-hidden", "data-i18n": "shell.user" }), who,
      languageSelect(), logout),
  );
}

function refuse() {
  const main = document.querySelector("main");
  const home = el("a", { href: "/", "data-i18n": "shell.home" });
  main?.replaceChildren(el("section", { class: "card shell-refused", role: "alert" },
    el("p", { "data-i18n": "shell.forbidden" }), home));
}

function shellHeader() {
  let header = document.getElementById("shell");
  if (!header) {
    header = el("header", { id: "shell" });
    document.body.prepend(header);
  }
  header.classList.add("shell");
  const skip = skipLink();
  if (skip) document.body.prepend(skip);
  return header;
}

// Builds the header for the logged-in user and returns them (/api/me: who, grants, limits).
// Returns null when nobody is logged in (the browser goes to the login page) or when `action`
// is given and /api/me does not grant it anywhere (the page says so).
export async function startShell({ action = null } = {}) {
  const me = await currentUser();
  if (!me) {
    location.replace(`/?next=${encodeURIComponent(location.pathname + location.search)}`);
    return null;
  }
  render(shellHeader(), me);
  const allowed = !action || may(me, action);
  if (!allowed) refuse();
  applyTranslations();
  return allowed ? me : null;
}

// The header of a page for visitors without an account: the page's name (an i18n key), its
// links ([{href, key}]), any page tools (elements) and the language.
export function visitorShell({ product = "shell.product", links = [], langId = "shell-lang",
  tools = [] } = {}) {
  const nav = links.length ? el("nav", { "data-i18n-label": "shell.nav" },
    el("ul", { class: "shell-nav" }, ...links.map(({ href, key }) =>
      el("li", {}, el("a", { href, "data-i18n": key }))))) : null;
  const name = el("span", { class: "shell-product" },
    el("span", { class: "shell-mark", text: "courtav" }), el("span", { "data-i18n": product }));
  const side = el("div", { class: "shell-tools" }, ...tools, languageSelect(langId));
  shellHeader().replaceChildren(...[name, nav, side].filter(Boolean));
  applyTranslations();
}
