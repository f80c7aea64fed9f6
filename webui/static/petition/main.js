// The public petition page: sign up, wait in the court's queue (polled), then a two-way video
// call with the court's reception. The ticket is an HttpOnly cookie the server set at sign-up.
// The court's picture carries a watermark with a random session id, never the petitioner's name.
import { api, el } from "../lib/api.js";
import { addStrings, formatTime, localName, onLangChange, t } from "../lib/i18n.js";
import { visitorShell } from "../lib/shell.js";
import { anonymousId, watermark } from "../lib/watermark.js";
import { Call, MEDIA_STRINGS, mediaErrorKey, openCamera } from "../lib/call.js";

addStrings({
  ...MEDIA_STRINGS,
  "pet.product": ["远程信访", "Remote petitions"],
  "pet.title": ["远程信访登记", "Remote petition sign-up"],
  "pet.intro": ["无需注册账号。登记后您将获得排队号，轮到您时与法院接访人员视频通话。通话将全程录音录像。",
    "No account needed. You get a ticket and a place in the queue; when it is your turn you talk with the court's reception by video. The call is recorded."],
  "pet.court": ["法院", "Court"],
  "pet.name": ["姓名", "Name"],
  "pet.phone": ["联系电话", "Phone"],
  "pet.idNumber": ["身份证号", "ID number"],
  "pet.subject": ["事项", "Subject"],
  "pet.submit": ["取号排队", "Get a ticket"],
  "pet.missing": ["请填写所有项目。", "Please fill in every field."],
  "pet.failed": ["登记失败：{reason}", "Sign-up failed: {reason}"],
  "pet.tooMany": ["登记过于频繁，请 {s} 秒后再试。", "Too many sign-ups; try again in {s} s."],
  "pet.ticket": ["您的排队号", "Your ticket"],
  "pet.number": ["号码", "Number"],
  "pet.waiting": ["排队中", "Waiting"],
  "pet.position": ["前面还有 {ahead} 人，您排第 {n} 位", "{ahead} ahead of you; you are number {n}"],
  "pet.next": ["马上轮到您，请准备好摄像头和麦克风", "You are next: have your camera and microphone ready"],
  "pet.expires": ["未接待的号码将于 {time} 过期", "An unanswered ticket expires at {time}"],
  "pet.inSession": ["法院接访人员已接通", "The court's reception has answered"],
  "pet.offline": ["网络中断，正在重新连接…", "Network interrupted; reconnecting…"],
  "pet.checkMedia": ["检查摄像头和麦克风", "Check camera and microphone"],
  "pet.mediaOk": ["摄像头和麦克风正常", "Camera and microphone work"],
  "pet.leave": ["退出排队", "Leave the queue"],
  "pet.call": ["视频接访", "Video reception"],
  "pet.courtSide": ["法院接访人员", "Court reception"],
  "pet.selfSide": ["我", "Me"],
  "call.connecting": ["正在连接…", "Connecting…"],
  "call.connected": ["通话中", "In the call"],
  "call.retrying": ["正在重新连接…", "Reconnecting…"],
  "pet.ended": ["接访已结束，感谢您的来访。", "The reception has ended. Thank you."],
  "pet.left": ["您已退出排队。", "You have left the queue."],
  "pet.expired": ["您的号码已过期。", "Your ticket has expired."],
  "pet.again": ["重新登记", "Sign up again"],
});

const $ = (id) => document.getElementById(id);
const POLL_MS = 2000;
let courts = [];
let ticket = null;
let media = null;
let call = null;
let pollTimer = null;
let failures = 0;

function show(panel) {
  for (const id of ["petition-form", "ticket-panel", "ended-panel"]) $(id).hidden = id !== panel;
  $("call-panel").hidden = !(panel === "ticket-panel" && ticket?.state === "in_session");
}

async function loadCourts() {
  courts = (await api("/api/petitions/courts")).courts;
  const fill = () => {
    const keep = $("petition-court").value;
    $("petition-court").replaceChildren(...courts.map((c) =>
      el("option", { value: c.code, text: `${localName(c)} (${c.code})` })));
    if (keep) $("petition-court").value = keep;
  };
  fill();
  onLangChange(fill);
}

async function submit(ev) {
  ev.preventDefault();
  const data = Object.fromEntries(new FormData($("petition-form")).entries());
  if (Object.values(data).some((v) => !String(v).trim())) {
    $("petition-error").textContent = t("pet.missing");
    return;
  }
  $("petition-submit").disabled = true;
  $("petition-error").textContent = "";
  try {
    render(await api("/api/petitions", { method: "POST", body: data }));
    poll();
  } catch (err) {
    $("petition-error").textContent = err.status === 429
      ? t("pet.tooMany", { s: err.detail?.retry_after ?? 60 })
      : t("pet.failed", { reason: err.message });
  } finally {
    $("petition-submit").disabled = false;
  }
}

function render(body) {
  ticket = body;
  const court = courts.find((c) => c.code === body.court);
  $("ticket-id").textContent = String(body.id);
  $("ticket-court").textContent = court ? localName(court) : body.court;
  $("ticket-expires").textContent = t("pet.expires", { time: formatTime(body.expires_at, { date: true }) });
  if (body.state === "waiting") {
    $("ticket-state").textContent = body.position === 1 ? t("pet.next") : t("pet.waiting");
    $("ticket-position").textContent = t("pet.position", { ahead: body.position - 1, n: body.position });
  } else {
    $("ticket-state").textContent = t("pet.inSession");
    $("ticket-position").textContent = "";
  }
  for (const id of ["leave", "check-media", "ticket-expires"]) $(id).hidden = body.state !== "waiting";
  show("ticket-panel");
  if (body.state === "in_session") startCall(body);
}

function finish(key) {
  clearTimeout(pollTimer);
  call?.stop();
  call = null;
  media?.getTracks().forEach((track) => track.stop());
  media = null;
  ticket = null;
  $("ended-text").textContent = t(key);
  show("ended-panel");
}

async function poll() {
  clearTimeout(pollTimer);
  try {
    const body = await api("/api/petitions/ticket");
    failures = 0;
    $("net-state").textContent = "";
    render(body);
  } catch (err) {
    if (err.status === 410) return finish(`pet.${err.detail?.state === "left" ? "left" : err.detail?.state === "ended" ? "ended" : "expired"}`);
    if (err.status === 401 || err.status === 404) return ticket ? finish("pet.expired") : show("petition-form");
    failures += 1; // the network or the server is away: keep the ticket, try again
    $("net-state").textContent = t("pet.offline");
  }
  pollTimer = setTimeout(poll, Math.min(POLL_MS * 2 ** Math.min(failures, 3), 15000));
}

async function camera() {
  if (media) return media;
  $("media-error").textContent = "";
  try {
    media = await openCamera();
    $("self-view").srcObject = media;
    return media;
  } catch (err) {
    $("media-error").textContent = t(mediaErrorKey(err));
    throw err;
  }
}

async function startCall(body) {
  if (call) return;
  call = new Call({ media: null, publishPath: body.publish, viewPath: body.view,
    remoteVideo: $("court-video"),
    onState: (direction, state) => { if (direction === "in" || state !== "connected") $("call-state").textContent = t(`call.${state}`); } });
  try {
    call.media = await camera();
  } catch {
    call = null; // the error is shown; the next poll tries again once permission is given
    return;
  }
  call.start();
}

async function leave() {
  try {
    await api("/api/petitions/ticket", { method: "DELETE" });
    finish("pet.left");
  } catch (err) {
    $("net-state").textContent = err.message;
  }
}

async function start() {
  visitorShell({ product: "pet.product", langId: "public-lang" });
  watermark($("court-frame"), `信访 Petition ${anonymousId()}`);
  $("petition-form").addEventListener("submit", submit);
  $("leave").addEventListener("click", leave);
  $("again").addEventListener("click", () => show("petition-form"));
  $("check-media").addEventListener("click", async () => {
    $("media-ok").textContent = "";
    try { await camera(); $("media-ok").textContent = t("pet.mediaOk"); } catch { /* shown */ }
  });
  window.addEventListener("online", poll);
  await loadCourts();
  await poll(); // a returning petitioner (the cookie) sees their ticket again
}

start();
