// The public portal (no account): hearings on air (WHEP), the hearing schedule, published
// documents and recordings. Everything shown is redacted by the server; text goes in as text.
// Both players carry a watermark: the viewer is anonymous, so it shows a random per-page-load id.
import { api, el } from "../lib/api.js";
import { addStrings, formatTime, localName, onLangChange, t } from "../lib/i18n.js";
import { visitorShell } from "../lib/shell.js";
import { anonymousId, watermark } from "../lib/watermark.js";
import { watch } from "../lib/webrtc.js";

addStrings({
  "pub.product": ["司法公开", "Open courts"],
  "pub.petition": ["远程信访", "Remote petitions"],
  "pub.login": ["工作人员登录", "Staff login"],
  "pub.live": ["正在直播的公开庭审", "Public hearings live now"],
  "pub.noLive": ["目前没有正在直播的庭审。", "No hearing is being broadcast now."],
  "pub.watch": ["观看", "Watch"],
  "pub.stop": ["停止观看", "Stop watching"],
  "pub.connecting": ["连接中…", "Connecting…"],
  "pub.playing": ["正在播放（静音，可在播放器中开启声音）", "Playing (muted; turn sound on in the player)"],
  "pub.full": ["观看人数已满，请稍后再试。", "The viewer limit is reached; try again later."],
  "pub.ended": ["直播已结束。", "The broadcast has ended."],
  "pub.failed": ["无法观看：{reason}", "Cannot watch: {reason}"],
  "pub.schedule": ["开庭公告", "Hearing schedule"],
  "pub.day": ["日期", "Day"],
  "pub.court": ["法院", "Court"],
  "pub.allCourts": ["全部法院", "All courts"],
  "pub.count": ["共 {n} 场", "{n} hearings"],
  "pub.onAir": ["直播中", "Live"],
  "pub.publications": ["文书与庭审录像", "Documents and recordings"],
  "pub.noPublications": ["暂无公开的文书或录像。", "Nothing published yet."],
  "pub.document": ["文书", "Document"],
  "pub.recording": ["录像", "Recording"],
  "pub.read": ["阅读", "Read"],
  "pub.play": ["播放", "Play"],
  "pub.hlsOnly": ["如浏览器无法播放，可使用支持 HLS 的播放器打开：{url}", "If the browser cannot play it, open it in an HLS player: {url}"],
  "pub.error": ["加载失败：{reason}", "Loading failed: {reason}"],
  "state.scheduled": ["待开庭", "Scheduled"],
  "state.opened": ["庭审中", "In session"],
  "state.recess": ["休庭", "Recess"],
  "state.resumed": ["庭审中", "In session"],
  "state.closed": ["已闭庭", "Closed"],
  "state.adjourned": ["已延期", "Adjourned"],
});

const $ = (id) => document.getElementById(id);
const VIEWER = `公众 Public ${anonymousId()}`;
let courts = [];
let session = null;

const where = (h) => `${localName(h.court)} · ${localName(h.room)}`;

function hearingLine(h, button) {
  return el("li", { dataset: { hearing: h.id } },
    el("strong", { text: h.title || h.case.cause }),
    el("div", { class: "pub-meta", text: `${h.case.number} · ${where(h)}` }),
    el("div", { class: "pub-meta", text: `${formatTime(h.starts_at, { date: true })}–${formatTime(h.ends_at)} · ${t(`state.${h.state}`)}${h.on_air ? ` · ${t("pub.onAir")}` : ""}` }),
    el("div", { class: "pub-meta", text: h.case.parties.map((p) => p.name).join("、") }),
    button);
}

async function loadLive() {
  const { hearings } = await api("/api/public/live");
  $("live-list").replaceChildren(...(hearings.length ? hearings.map((h) => {
    const button = el("button", { type: "button", text: t("pub.watch"), dataset: { whep: h.whep } });
    button.addEventListener("click", () => play(h));
    return hearingLine(h, button);
  }) : [el("li", { class: "muted", text: t("pub.noLive") })]));
}

async function stop() {
  const current = session;
  session = null;
  $("live-player").srcObject = null;
  $("live-player-box").hidden = true;
  await current?.close().catch(() => {});
}

async function play(h) {
  await stop();
  $("live-player-box").hidden = false;
  $("live-player-title").textContent = h.title || h.case.number;
  $("live-state").textContent = t("pub.connecting");
  try {
    session = await watch(h.whep.replace(/^\/whep\//, ""), $("live-player"));
    $("live-state").textContent = t("pub.playing");
    session.pc.addEventListener("connectionstatechange", () => {
      if (["failed", "closed"].includes(session?.pc.connectionState)) $("live-state").textContent = t("pub.ended");
    });
  } catch (err) {
    $("live-state").textContent = err.message.startsWith("503") ? t("pub.full") : t("pub.failed", { reason: err.message });
  }
}

function today() {
  const now = new Date();
  return new Date(now.getTime() - now.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
}

async function loadSchedule() {
  const query = new URLSearchParams({ day: $("schedule-day").value || today() });
  if ($("schedule-court").value) query.set("court", $("schedule-court").value);
  const body = await api(`/api/public/schedule?${query}`);
  $("schedule-count").textContent = t("pub.count", { n: body.total });
  $("schedule").replaceChildren(...body.hearings.map((h) => hearingLine(h, null)));
}

async function openDocument(p) {
  const doc = await api(p.document);
  $("recording-box").hidden = true;
  $("document-box").hidden = false;
  $("document-title").textContent = doc.title;
  $("document-text").textContent = doc.text;
}

let hls = null;

async function openRecording(p) {
  $("document-box").hidden = true;
  $("recording-box").hidden = false;
  $("recording-title").textContent = p.title;
  const video = $("recording-player");
  const url = new URL(p.playlist, location.href).toString();
  hls?.destroy();
  hls = null;
  // hls.js (from npm, served by this server) where the browser has no HLS of its own.
  if (globalThis.Hls?.isSupported()) {
    hls = new globalThis.Hls();
    hls.loadSource(url);
    hls.attachMedia(video);
  } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
    video.src = url;
  }
  $("recording-note").textContent = t("pub.hlsOnly", { url });
}

async function loadPublications() {
  const { items } = await api("/api/public/publications?limit=50");
  $("publications").replaceChildren(...(items.length ? items.map((p) => {
    const isDoc = p.kind === "document";
    const button = el("button", { type: "button", text: t(isDoc ? "pub.read" : "pub.play") });
    button.addEventListener("click", () => (isDoc ? openDocument(p) : openRecording(p)).catch(fail));
    return el("li", { dataset: { publication: p.id } },
      el("strong", { text: p.title }),
      el("div", { class: "pub-meta", text: `${t(isDoc ? "pub.document" : "pub.recording")} · ${p.case.number} · ${localName(p.court)} · ${formatTime(p.published_at, { date: true })}` }),
      button);
  }) : [el("li", { class: "muted", text: t("pub.noPublications") })]));
}

function fail(err) {
  $("pub-error").textContent = t("pub.error", { reason: err.message });
}

function fillCourts() {
  const keep = $("schedule-court").value;
  $("schedule-court").replaceChildren(el("option", { value: "", text: t("pub.allCourts") }),
    ...courts.map((c) => el("option", { value: c.code, text: localName(c) })));
  $("schedule-court").value = keep;
}

async function loadAll() {
  await Promise.all([loadLive(), loadSchedule(), loadPublications()]).catch(fail);
}

async function start() {
  visitorShell({ product: "pub.product", langId: "public-lang", links: [
    { href: "/petition", key: "pub.petition" }, { href: "/", key: "pub.login" }] });
  watermark($("live-frame"), VIEWER);
  watermark($("recording-frame"), VIEWER);
  $("schedule-day").value = today();
  courts = (await api("/api/petitions/courts").catch(() => ({ courts: [] }))).courts;
  fillCourts();
  onLangChange(() => { fillCourts(); loadAll(); });
  $("schedule-day").addEventListener("change", () => loadSchedule().catch(fail));
  $("schedule-court").addEventListener("change", () => loadSchedule().catch(fail));
  $("live-stop").addEventListener("click", stop);
  await loadAll();
  setInterval(() => loadLive().catch(fail), 30000);
}

start();
