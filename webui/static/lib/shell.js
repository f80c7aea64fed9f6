// The header every page shares: product name, navigation by role, the user, language, log out.
//
//   import { startShell } from "/static/lib/shell.js";
//   const me = await startShell({ roles: ["admin", "president"] });
//   if (!me) return;  // not logged in (sent to the login page) or not for this role
//
// The page may hold <header id="shell"></header>; otherwise one is put at the top of <body>.
import { api, currentUser, el } from "./api.js";
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

// Where each role may go; `roles: null` is everyone. The server's policy still decides the data.
export const NAV = [
  { key: "dashboard", href: "/dashboard", roles: ["admin", "president", "judge", "clerk"] },
  { key: "wall", href: "/wall", roles: ["admin", "president", "security"] },
  { key: "playback", href: "/playback", roles: ["admin", "president", "judge", "clerk"] },
  { key: "clerk", href: "/clerk", roles: ["admin", "judge", "clerk"] },
  { key: "cases", href: "/cases", roles: ["admin", "president", "judge", "clerk"] },
  { key: "admin", href: "/admin", roles: ["admin"] },
  { key: "public", href: "/public", roles: null },
];

export const LANGUAGES = [["zh-CN", "中文"], ["en", "English"]];

// The page a role starts on after logging in.
export function homeFor(role) {
  if (role === "security") return "/wall";
  if (role === "clerk") return "/clerk";
  if (role === "public") return "/public";
  return "/dashboard";
}

export function navFor(role) {
  return NAV.filter((item) => item.roles === null || item.roles.includes(role));
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
  const links = navFor(me.role).map((item) => el("li", {},
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
    el("a", { class: "shell-product", href: homeFor(me.role) },
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

// Builds the header for the logged-in user and returns them ({username, role, court, ...}).
// Returns null when nobody is logged in (the browser goes to the login page) or when `roles`
// is given and the user's role is not among them (the page says so).
export async function startShell({ roles = null } = {}) {
  const me = await currentUser();
  if (!me) {
    location.replace(`/?next=${encodeURIComponent(location.pathname + location.search)}`);
    return null;
  }
  let header = document.getElementById("shell");
  if (!header) {
    header = el("header", { id: "shell" });
    document.body.prepend(header);
  }
  header.classList.add("shell");
  render(header, me);
  const skip = skipLink();
  if (skip) document.body.prepend(skip);
  const allowed = !roles || roles.includes(me.role);
  if (!allowed) refuse();
  applyTranslations();
  return allowed ? me : null;
}
