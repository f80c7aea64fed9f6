// The defence lawyer's private consultation with a defendant at a remote site (no account): the
// lawyer enters the hearing id and the court's one-time code; the page spends the code for a
// lawyer key (kept in this page's memory only), publishes camera and microphone by WHIP and
// watches the site by WHEP with that key. Nothing of it is recorded; court staff cannot view it.
import { api } from "../lib/api.js";
import { addStrings, formatTime, onLangChange, t } from "../lib/i18n.js";
import { visitorShell } from "../lib/shell.js";
import { watermark } from "../lib/watermark.js";
import { Call, MEDIA_STRINGS, mediaErrorKey, openCamera } from "../lib/call.js";

addStrings({
  ...MEDIA_STRINGS,
  "consult.product": ["律师会见", "Lawyer consultation"],
  "consult.private": ["这是不录音录像的私密会见", "This private consultation is never recorded"],
  "consult.privateMore": ["法院工作人员无法观看或收听；任何一方结束会见，画面和声音立即断开。",
    "Court staff cannot watch or listen; when either side ends it, picture and sound stop at once."],
  "consult.title": ["辩护律师远程会见", "Remote consultation for the defence lawyer"],
  "consult.intro": ["无需账号。请输入法院提供的庭审编号和一次性会见码。开始前浏览器会请求使用摄像头和麦克风；会见码只能使用一次。",
    "No account needed. Enter the hearing number and the one-time code the court gave you. The browser asks for the camera and microphone first; the code works only once."],
  "consult.hearing": ["庭审编号", "Hearing number"],
  "consult.code": ["一次性会见码", "One-time code"],
  "consult.join": ["开始会见", "Start the consultation"],
  "consult.missing": ["请填写庭审编号（数字）和会见码。", "Enter the hearing number (digits) and the code."],
  "consult.badCode": ["会见码无效、已使用或已过期，或不属于该庭审。请向法院申请新的会见码。",
    "The code is not valid, already used or expired, or is for another hearing. Ask the court for a new code."],
  "consult.notNow": ["该庭审目前不能会见：{reason}", "This hearing has no consultation now: {reason}"],
  "consult.failed": ["无法开始会见：{reason}", "The consultation could not start: {reason}"],
  "consult.call": ["会见中", "In consultation"],
  "consult.siteSide": ["当事人（远程场所）", "Your client (remote site)"],
  "consult.selfSide": ["我", "Me"],
  "consult.out.connecting": ["正在发送您的画面…", "Sending your picture…"],
  "consult.out.connected": ["对方能看到并听到您。", "The other side sees and hears you."],
  "consult.out.retrying": ["发送中断，正在重连…", "Sending interrupted, reconnecting…"],
  "consult.in.connecting": ["正在接收对方画面…", "Receiving the other side…"],
  "consult.in.connected": ["正在接收对方画面。", "Receiving the other side."],
  "consult.in.retrying": ["等待远程场所接入…", "Waiting for the remote site to join…"],
  "consult.expires": ["会见最迟于 {time} 自动结束", "The consultation ends by itself at {time} at the latest"],
  "consult.keepOpen": ["请勿刷新或关闭此页面：会见码已使用，关闭后需向法院申请新的会见码。",
    "Do not reload or close this page: the code is spent, and reopening needs a new code from the court."],
  "consult.sound": ["开启声音", "Turn sound on"],
  "consult.end": ["结束会见", "End the consultation"],
  "consult.ended": ["会见已结束。", "The consultation has ended."],
  "consult.over": ["会见已由对方结束或已过期。", "The consultation was ended by the other side or has expired."],
  "consult.expired": ["会见时间已到，会见已结束。", "The consultation time is over."],
  "consult.endFailed": ["本机已断开，但未能通知服务器：{reason}", "This computer has hung up, but the server was not told: {reason}"],
  "consult.again": ["如需再次会见，请向法院申请新的会见码。", "For another consultation, ask the court for a new code."],
  "consult.back": ["返回", "Back"],
});

const $ = (id) => document.getElementById(id);
const bearer = (secret) => ({ Authorization: `Bearer ${secret}` });
// A refused WHIP on our own path means the consultation is no longer open (ended or expired).
const OVER = /^(401|403|404) /;

let media = null;
let call = null;
let consultation = null; // {hearing, id, key, party, expires_at}
let unmark = null;
let expiryTimer = null;
const states = { out: "connecting", in: "connecting" };

const endUrl = (c) => `/api/hearings/${c.hearing}/consultations/${c.id}`;

function showStates() {
  $("call-state").textContent = `${t(`consult.out.${states.out}`)} ${t(`consult.in.${states.in}`)}`;
  if (consultation) {
    $("call-expires").textContent = t("consult.expires",
      { time: formatTime(consultation.expires_at, { date: true }) });
  }
}

// The lawyer must hear the client: try with sound, else play muted and offer a button.
function playWithSound() {
  const video = $("site-video");
  video.muted = false;
  video.play().catch(() => {
    video.muted = true;
    video.play().catch(() => {});
    $("consult-sound").hidden = false;
  });
}

function onState(direction, state, err) {
  if (!consultation || consultation.ending) return;
  if (direction === "out" && state === "retrying" && OVER.test(err?.message || "")) {
    finish("consult.over");
    return;
  }
  states[direction] = state;
  showStates();
  if (direction === "in" && state === "connected") playWithSound();
}

function fail(key, vars) {
  $("consult-error").textContent = t(key, vars);
  $("consult-join").disabled = false;
}

function closeCamera() {
  media?.getTracks().forEach((track) => track.stop());
  media = null;
}

async function join(ev) {
  ev.preventDefault();
  const hearing = $("consult-hearing").value.trim();
  const code = $("consult-code").value.trim();
  $("consult-error").textContent = "";
  if (!/^[1-9][0-9]{0,17}$/.test(hearing) || !code) return fail("consult.missing");
  $("consult-join").disabled = true;
  // The camera first: the code is spent when redeemed, so a refused permission or a missing
  // device shows up while the code is still good.
  try {
    media ??= await openCamera();
  } catch (err) {
    return fail(mediaErrorKey(err));
  }
  let opened;
  try {
    opened = await api(`/api/hearings/${hearing}/consultations`, { method: "POST", headers: bearer(code) });
  } catch (err) {
    closeCamera(); // not left on behind the form while the lawyer sorts out the code
    if (err.status === 401) return fail("consult.badCode");
    if (err.status === 409) return fail("consult.notNow", { reason: err.message });
    return fail("consult.failed", { reason: err.message });
  }
  $("consult-code").value = "";
  $("consult-join").disabled = false;
  start(opened);
}

function start(opened) {
  consultation = { hearing: opened.hearing, id: opened.id, key: opened.lawyer_key,
    party: opened.party, expires_at: opened.expires_at };
  Object.assign(states, { out: "connecting", in: "connecting" });
  $("consult-form").hidden = true;
  $("ended-panel").hidden = true;
  $("call-panel").hidden = false;
  $("consult-end").disabled = false;
  $("self-video").srcObject = media;
  unmark = watermark($("site-frame"), `律师 Lawyer #${opened.party} ${opened.id.slice(0, 6)}`);
  showStates();
  call = new Call({ media, token: consultation.key, publishPath: opened.lawyer_path,
    viewPath: opened.site_path, remoteVideo: $("site-video"), onState });
  call.start();
  const left = new Date(opened.expires_at).getTime() - Date.now();
  expiryTimer = setTimeout(() => finish("consult.expired"), Math.max(left, 0));
  $("consult-end").focus({ preventScroll: true });
}

async function end() {
  if (!consultation || consultation.ending) return;
  consultation.ending = true; // the streams drop now: that is not "ended by the other side"
  $("consult-end").disabled = true;
  let warning = "";
  try {
    await api(endUrl(consultation), { method: "DELETE", headers: bearer(consultation.key) });
  } catch (err) {
    // 404: the site ended it first or it expired; either way it is over.
    if (err.status !== 404) warning = t("consult.endFailed", { reason: err.message });
  }
  await finish("consult.ended", warning);
}

// Hangs up here whatever the server said: camera and microphone off, the key forgotten.
async function finish(key, warning = "") {
  if (!consultation) return;
  const running = call;
  call = null;
  consultation = null;
  clearTimeout(expiryTimer);
  unmark?.();
  unmark = null;
  await running?.stop();
  closeCamera();
  $("site-video").srcObject = null;
  $("self-video").srcObject = null;
  $("consult-sound").hidden = true;
  $("call-panel").hidden = true;
  $("ended-text").dataset.i18n = key; // stays translated when the language changes
  $("ended-text").textContent = t(key);
  $("ended-warning").textContent = warning;
  $("ended-panel").hidden = false;
}

function back() {
  $("ended-panel").hidden = true;
  $("consult-form").hidden = false;
  $("consult-code").focus();
}

function boot() {
  visitorShell({ product: "consult.product", langId: "consult-lang" });
  onLangChange(showStates);
  const hearing = new URLSearchParams(location.search).get("hearing");
  if (hearing && /^[0-9]+$/.test(hearing)) $("consult-hearing").value = hearing;
  $("consult-form").addEventListener("submit", join);
  $("consult-end").addEventListener("click", end);
  $("consult-back").addEventListener("click", back);
  $("consult-sound").addEventListener("click", () => {
    $("site-video").muted = false;
    $("site-video").play().catch(() => {});
    $("consult-sound").hidden = true;
  });
  // Leaving loses the key (memory only), so ask first, and end the consultation on the way out
  // so the site is not left waiting.
  window.addEventListener("beforeunload", (ev) => { if (consultation) ev.preventDefault(); });
  window.addEventListener("pagehide", () => {
    if (!consultation) return;
    fetch(endUrl(consultation), { method: "DELETE", headers: bearer(consultation.key), keepalive: true,
      credentials: "same-origin" }).catch(() => {});
  });
}

boot();
