// The playback page: search recordings (court, room, hearing, time, marker), play one with
// hls.js under the viewer's watermark, follow its timeline and markers, export a range; for
// those who may, withhold ranges (confidential, sealed) and place the recording on legal hold.
// Everything shown comes from the API and is set as text; the server decides what is visible
// (of a withheld portion the page learns only when it is, never what is in it).
import { api, el, events } from "../lib/api.js";
import { addStrings, applyTranslations, formatTime, onLangChange, t } from "../lib/i18n.js";
import { feedName, markerKind } from "../lib/labels.js";
import { may } from "../lib/grants.js";
import { startShell } from "../lib/shell.js";
import { ExportPanel } from "./export.js";
import { HoldPanel } from "./hold.js";
import { Player } from "./player.js";
import { PortionPanel } from "./portions.js";
import { Timeline } from "./timeline.js";

addStrings({
  "pb.search": ["检索录像", "Find recordings"],
  "pb.court": ["法院编号", "Court code"],
  "pb.room": ["法庭编号", "Courtroom code"],
  "pb.hearing": ["庭审 / 案件", "Hearing / case"],
  "pb.from": ["开始于", "From"],
  "pb.to": ["结束于", "To"],
  "pb.marker": ["标记类型", "Marker kind"],
  "pb.text": ["标记文字", "Marker text"],
  "pb.any": ["任意", "Any"],
  "pb.find": ["检索", "Search"],
  "pb.prev": ["上一页", "Previous"],
  "pb.next": ["下一页", "Next"],
  "pb.count": ["共 {n} 段录像", "{n} recordings"],
  "pb.page": ["第 {page}/{pages} 页", "Page {page} of {pages}"],
  "pb.none": ["没有符合条件的录像。", "No recordings match."],
  "pb.open": ["打开录像 {name}", "Open recording {name}"],
  "pb.duration": ["时长 {min} 分 {sec} 秒", "{min} min {sec} s"],
  "pb.live": ["录制中", "Recording"],
  "pb.clock": ["画面时间", "Picture time"],
  "pb.timeline": ["录像时间轴", "Recording timeline"],
  "pb.timelineWithheld": ["录像时间轴，{n} 段不公开", "Recording timeline, {n} withheld ranges"],
  "pb.audio": ["音量", "Audio level"],
  "pb.key.ok": ["已录制", "Recorded"],
  "pb.key.withheld": ["不可查看", "Withheld"],
  "pb.key.missing": ["缺失", "Missing"],
  "pb.markers": ["标记", "Markers"],
  "pb.nomarkers": ["无标记", "No markers"],
  "pb.error": ["出错：{reason}", "Error: {reason}"],
  "pb.playerError": ["播放失败：{reason}", "Playback failed: {reason}"],
  "pb.export": ["导出片段", "Export a range"],
  "pb.x.from": ["起点", "From"],
  "pb.x.to": ["终点", "To"],
  "pb.x.here": ["取当前画面", "Use the picture time"],
  "pb.x.reason": ["导出理由（必填）", "Reason (required)"],
  "pb.x.submit": ["开始导出", "Export"],
  "pb.x.needReason": ["请填写导出理由（至少 4 个字）。", "Give a reason (at least 4 characters)."],
  "pb.x.queued": ["排队中…", "Queued…"],
  "pb.x.running": ["导出中 {percent}%", "Exporting {percent}%"],
  "pb.x.done": ["导出完成。SHA-256：{sha}", "Export ready. SHA-256: {sha}"],
  "pb.x.failed": ["导出失败：{reason}", "Export failed: {reason}"],
  "pb.x.download": ["下载 MP4", "Download MP4"],
});

const $ = (id) => document.getElementById(id);
const PAGE = 20;
const MARKERS = ["opened", "recess", "resumed", "closed", "bookmark", "speaker", "alert", "gap"];
let me = null;
let offset = 0;
let current = null;
let player = null;
let timeline = null;
let exporter = null;
let portions = null;
let holds = null;
let refreshTimer = null;

function fail(err) {
  $("pb-error").textContent = t("pb.error", { reason: err.message });
}

function isoOf(localValue) {
  return localValue ? new Date(localValue).toISOString() : "";
}

function describe(rec) {
  const start = formatTime(rec.started_at, { date: true, seconds: true });
  return `${rec.room} · ${feedName(rec.feed)} · ${start}`;
}

function duration(rec) {
  if (rec.duration === null) return t("pb.live");
  const total = Math.round(rec.duration);
  return t("pb.duration", { min: Math.floor(total / 60), sec: total % 60 });
}

async function search() {
  const form = new FormData($("search-form"));
  const params = new URLSearchParams({ limit: PAGE, offset });
  for (const key of ["court", "room", "hearing", "marker", "q"]) {
    const value = String(form.get(key) || "").trim();
    if (value) params.set(key, value);
  }
  for (const key of ["from", "to"]) {
    const value = isoOf(String(form.get(key) || ""));
    if (value) params.set(key, value);
  }
  const page = await api(`/api/recordings?${params}`);
  $("pb-error").textContent = "";
  $("result-count").textContent = page.total ? t("pb.count", { n: page.total }) : t("pb.none");
  const pages = Math.max(1, Math.ceil(page.total / PAGE));
  $("page-info").textContent = t("pb.page", { page: Math.floor(offset / PAGE) + 1, pages });
  $("page-prev").disabled = offset === 0;
  $("page-next").disabled = offset + PAGE >= page.total;
  $("results").replaceChildren(...page.items.map((rec) => {
    const name = describe(rec);
    const button = el("button", { type: "button", dataset: { recording: rec.id },
      "aria-label": t("pb.open", { name }), "aria-current": current?.id === rec.id ? "true" : null },
    el("span", { text: name }),
    el("span", { class: "pb-sub", text: [rec.hearing, duration(rec)].filter(Boolean).join(" · ") }));
    button.addEventListener("click", () => open(rec.id).catch(fail));
    return el("li", {}, button);
  }));
}

async function loadTimeline() {
  if (!current) return;
  timeline.show(await api(`/api/recordings/${current.id}/timeline`));
}

async function open(id) {
  const rec = await api(`/api/recordings/${encodeURIComponent(id)}`);
  current = rec;
  $("player-panel").hidden = false;
  $("player-title").textContent = describe(rec);
  for (const b of $("results").querySelectorAll("button[data-recording]")) {
    b.setAttribute("aria-current", String(Number(b.dataset.recording) === rec.id));
  }
  player.open(rec.playlist);
  await loadTimeline();
  // What /api/me grants on the recording's court; the server still checks each request (a
  // judge may seal only where they sat on the bench).
  exporter.show(rec, may(me, "recording.export", rec.court));
  holds.show(rec, may(me, "recording.hold", rec.court));
  await portions.show(rec, may(me, "recording.seal", rec.court));
  history.replaceState(null, "", `/playback?recording=${rec.id}`);
  $("player-title").focus();
}

function tick() {
  if (!current) return;
  const at = player.playingAt();
  const clock = $("clock");
  if (at === null) return;
  const iso = new Date(at).toISOString();
  if (clock.dateTime !== iso) {
    clock.dateTime = iso;
    clock.textContent = formatTime(iso, { date: true, seconds: true });
  }
  timeline.setPlayhead(at);
}

function onEvent(ev) {
  if (ev.kind === "recording.export") exporter.onEvent(ev.data);
  if (ev.kind === "recording.hold") holds.onEvent(ev.data);
  if (current && ev.data?.recording === current.id
      && ["recording.portion", "recording.portion.lifted"].includes(ev.kind)) {
    portions.reload().catch(fail); // perhaps from another user; the timeline follows
  }
  if (current && ev.data?.recording === current.id
      && ["recording.segment", "recording.marker", "recording.stopped"].includes(ev.kind)) {
    clearTimeout(refreshTimer); // a running recording grows: redraw at most every 2 s
    refreshTimer = setTimeout(() => loadTimeline().catch(fail), 2000);
  }
}

async function start() {
  me = await startShell({ action: "recording.view" });
  if (!me) return;
  $("f-marker").append(...MARKERS.map((kind) => el("option", { value: kind, text: markerKind(kind) })));
  player = new Player($("video"), $("video-box"), me.username);
  player.onError = (reason) => fail(new Error(t("pb.playerError", { reason })));
  timeline = new Timeline({ bar: $("timeline-bar"), audio: $("audio-strip"),
    pins: $("timeline-markers"), spans: $("timeline-spans"), list: $("marker-list"),
    onSeek: (at) => player.seekToWall(at) });
  exporter = new ExportPanel($, player);
  portions = new PortionPanel($, player, { onChanged: (items) => timeline.setPortions(items) });
  holds = new HoldPanel($);
  $("search-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    offset = 0;
    search().catch(fail);
  });
  $("page-prev").addEventListener("click", () => { offset = Math.max(0, offset - PAGE); search().catch(fail); });
  $("page-next").addEventListener("click", () => { offset += PAGE; search().catch(fail); });
  onLangChange(() => {
    for (const option of $("f-marker").querySelectorAll("option[value]:not([value=''])")) {
      option.textContent = markerKind(option.value);
    }
    if (current) $("player-title").textContent = describe(current);
    if (timeline.line) timeline.show(timeline.line);
    portions.render();
    holds.render();
    search().catch(fail);
  });
  applyTranslations();
  setInterval(tick, 250);
  events(onEvent);
  await search();
  const wanted = new URLSearchParams(location.search).get("recording");
  if (wanted && /^\d{1,12}$/.test(wanted)) await open(wanted);
}

start().catch(fail);
