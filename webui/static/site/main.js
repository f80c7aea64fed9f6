// The remote site's page (detention centre, prison): enter the site credential, see the site's
// arraignments, link the camera and microphone to the courtroom (WHIP out, WHEP in), let the
// defendant read and sign the hearing record, and hold a private consultation with the lawyer.
// The credential stays in this page's memory only; it is sent as a Bearer header.
// What the site receives (the courtroom, the lawyer) carries a watermark with the site's code.
import { api, el } from "../lib/api.js";
import { addStrings, lang, onLangChange, t } from "../lib/i18n.js";
import { visitorShell } from "../lib/shell.js";
import { watermark } from "../lib/watermark.js";
import { publish, watch } from "../lib/webrtc.js";

addStrings({
  "site.title": ["远程提讯", "Remote arraignment"],
  "site.login": ["场所登录", "Site sign-in"],
  "site.credential": ["场所凭证", "Site credential"],
  "site.enter": ["进入", "Enter"],
  "site.leave": ["退出", "Leave"],
  "site.bad": ["凭证无效或场所已停用。", "The credential is not valid or the site is disabled."],
  "site.hearings": ["提讯安排", "Arraignments"],
  "site.refresh": ["刷新", "Refresh"],
  "site.none": ["暂无提讯安排。", "No arraignments."],
  "site.connect": ["连线法庭", "Link to the courtroom"],
  "site.signfor": ["签名：{name}", "Sign: {name}"],
  "site.signed": ["已签名：{name}", "Signed: {name}"],
  "site.consultwith": ["律师会见", "Lawyer consultation"],
  "site.live": ["庭审连线", "Courtroom link"],
  "site.courtroom": ["法庭", "Courtroom"],
  "site.self": ["本场所画面", "This site"],
  "site.hangup": ["断开连线", "Hang up"],
  "site.sign": ["阅读并签署庭审记录", "Read and sign the hearing record"],
  "site.digest": ["记录摘要 SHA-256", "Record digest SHA-256"],
  "site.defendant": ["签名人", "Signer"],
  "site.pad": ["签名区", "Signature pad"],
  "site.clear": ["清除", "Clear"],
  "site.submit": ["确认签名", "Sign"],
  "site.back": ["返回", "Back"],
  "site.empty": ["请先在签名区签名。", "Please sign in the pad first."],
  "site.done": ["签名已保存。", "The signature is saved."],
  "site.consult": ["律师会见（不录音录像）", "Lawyer consultation (never recorded)"],
  "site.lawyer": ["辩护律师", "Defence lawyer"],
  "site.endconsult": ["结束会见", "End consultation"],
  "site.consultEnded": ["会见已结束", "The consultation has ended"],
  "link.out.connecting": ["正在发送本场所画面…", "Sending this site's picture…"],
  "link.out.connected": ["本场所画面已送达法庭。", "This site's picture reaches the court."],
  "link.out.retrying": ["发送中断，正在重连…", "Sending interrupted, reconnecting…"],
  "link.in.connecting": ["正在接收对方画面…", "Receiving the other side…"],
  "link.in.connected": ["正在接收对方画面。", "Receiving the other side."],
  "link.in.retrying": ["接收中断，正在重连…", "Receiving interrupted, reconnecting…"],
  "state.scheduled": ["待开庭", "Scheduled"], "state.opened": ["开庭中", "In session"],
  "state.recess": ["休庭", "Recess"], "state.resumed": ["开庭中", "In session"],
  "state.closed": ["已闭庭", "Closed"], "state.adjourned": ["延期审理", "Adjourned"],
});

const $ = (id) => document.getElementById(id);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const RETRY_MS = 3000;
const MAX_ATTEMPTS = 400; // about 20 minutes of retrying, then the person decides
const DROP_GRACE_MS = 5000; // "disconnected" often heals by itself

let credential = "";
let link = null; // the courtroom link or the consultation now running
let signing = null; // {hearing, sha256}
let shown = []; // the hearings last listed, drawn again when the language changes
let unmark = []; // removes the watermarks put up at sign-in

const siteApi = (path, options = {}) => api(path, {
  ...options, headers: { Authorization: `Bearer ${credential}`, ...(options.headers || {}) },
});

function when(iso) {
  return new Date(iso).toLocaleString(lang(), { dateStyle: "short", timeStyle: "short" });
}

// Resolves when the connection fails or closes (or stays "disconnected" for the grace time),
// or when the server closes DTLS: it ended the session, which is seen here at once, whereas
// ICE only notices the silence seconds later.
function dropped(pc, stopped) {
  return Promise.race([stopped, new Promise((resolve) => {
    for (const transport of new Set(pc.getReceivers().map((r) => r.transport).filter(Boolean))) {
      transport.addEventListener("statechange", () => {
        if (transport.state === "closed" || transport.state === "failed") resolve();
      });
    }
    let timer = null;
    pc.addEventListener("connectionstatechange", () => {
      const state = pc.connectionState;
      if (state === "failed" || state === "closed") resolve();
      else if (state === "disconnected") timer ??= setTimeout(resolve, DROP_GRACE_MS);
      else if (timer) { clearTimeout(timer); timer = null; }
    });
  })]);
}

// Our camera out on one path, the other side in from another; each direction reconnects.
// A 404 from either path may mean the link is over (a consultation ended elsewhere): `isOver()`
// asks the server, and if so `onOver(link)` is called once instead of retrying.
class Link {
  constructor({ media, publishPath, viewPath, video, status, isOver, onOver }) {
    Object.assign(this, { media, publishPath, viewPath, video, status });
    this.isOver = isOver || (async () => false);
    this.onOver = onOver || (() => {});
    this.sessions = { out: null, in: null };
    this.states = { out: "connecting", in: "connecting" };
    this.running = true;
    this.stopped = new Promise((resolve) => { this.release = resolve; });
    this.run("out");
    this.run("in");
  }

  show(dir, state) {
    if (!this.running) return; // stopped: the panel says why, not "reconnecting"
    this.states[dir] = state;
    this.status.textContent = `${t(`link.out.${this.states.out}`)} ${t(`link.in.${this.states.in}`)}`;
  }

  async run(dir) {
    for (let attempt = 0; this.running && attempt < MAX_ATTEMPTS; attempt++) {
      try {
        const session = dir === "out"
          ? await publish(this.publishPath, this.media, { videoCodec: "video/H264", token: credential })
          : await watch(this.viewPath, this.video, { token: credential });
        if (!this.running) { await session.close().catch(() => {}); return; }
        this.sessions[dir] = session;
        this.show(dir, "connected");
        await dropped(session.pc, this.stopped);
        if (!this.running) return;
        session.close().catch(() => {});
      } catch (err) {
        console.warn(dir, err.message);
        if (err.status === 404 && await this.isOver().catch(() => false)) {
          if (this.running) this.onOver(this);
          return;
        }
      }
      this.show(dir, "retrying");
      await Promise.race([sleep(RETRY_MS), this.stopped]);
    }
  }

  async stop() {
    this.running = false;
    this.release();
    await Promise.all(Object.values(this.sessions).map((s) => s?.close().catch(() => {})));
    for (const track of this.media.getTracks()) track.stop();
  }
}

async function openCamera(preview) {
  const media = await navigator.mediaDevices.getUserMedia({
    video: { width: 640, height: 480 }, audio: true,
  });
  preview.srcObject = media;
  return media;
}

async function stopLink() {
  if (link) await link.stop();
  link = null;
  $("live-panel").hidden = true;
  $("consult-panel").hidden = true;
}

async function connect(hearing) {
  await stopLink();
  $("live-panel").hidden = false;
  $("live-case").textContent = `${hearing.case} · ${hearing.room_name || hearing.room}`;
  try {
    const media = await openCamera($("self"));
    link = new Link({ media, publishPath: hearing.publish_path, viewPath: hearing.courtroom_path,
      video: $("courtroom"), status: $("live-state") });
  } catch (err) {
    $("live-state").textContent = err.message;
  }
}

async function consult(hearing, consultation) {
  await stopLink();
  $("consult-panel").hidden = false;
  $("end-consult").hidden = false;
  delete $("consult-state").dataset.i18n;
  $("consult-state").textContent = "";
  try {
    const media = await openCamera($("consult-self"));
    link = new Link({ media, publishPath: consultation.site_path,
      viewPath: consultation.lawyer_path, video: $("lawyer"), status: $("consult-state"),
      isOver: () => consultationClosed(consultation.id), onOver: consultationEnded });
    link.consultation = { hearing: hearing.id, id: consultation.id };
  } catch (err) {
    $("consult-state").textContent = err.message;
  }
}

// A 404 on a consultation's path means it is over (the lawyer ended it, or it expired) or that
// the lawyer's stream is not up yet: the site's list, which holds only open ones, says which.
async function consultationClosed(id) {
  const body = await siteApi("/api/site/hearings");
  return !body.hearings.some((h) => h.consultations.some((c) => c.id === id));
}

// Ended elsewhere: hang up here, say so in the panel, and list what is left.
async function consultationEnded(ended) {
  if (link !== ended) return; // already hung up or moved on
  link = null;
  await ended.stop();
  $("lawyer").srcObject = null;
  $("consult-self").srcObject = null;
  $("end-consult").hidden = true;
  $("consult-state").dataset.i18n = "site.consultEnded"; // stays translated
  $("consult-state").textContent = t("site.consultEnded");
  await load().catch((err) => { $("page-error").textContent = err.message; });
}

async function endConsultation() {
  const ending = link?.consultation;
  await stopLink();
  if (ending) {
    await siteApi(`/api/hearings/${ending.hearing}/consultations/${ending.id}`, { method: "DELETE" })
      .catch((err) => { $("page-error").textContent = err.message; });
  }
  await load();
}

// ---- the signature pad ----

const pad = { inked: false, drawing: false };

function setUpPad() {
  const canvas = $("pad");
  const ctx = canvas.getContext("2d");
  ctx.lineWidth = 3;
  ctx.lineCap = "round";
  ctx.strokeStyle = "#000";
  const point = (ev) => {
    const box = canvas.getBoundingClientRect();
    return [(ev.clientX - box.left) * canvas.width / box.width,
      (ev.clientY - box.top) * canvas.height / box.height];
  };
  canvas.addEventListener("pointerdown", (ev) => {
    pad.drawing = true;
    canvas.setPointerCapture(ev.pointerId);
    ctx.beginPath();
    ctx.moveTo(...point(ev));
  });
  canvas.addEventListener("pointermove", (ev) => {
    if (!pad.drawing) return;
    ctx.lineTo(...point(ev));
    ctx.stroke();
    pad.inked = true;
  });
  const end = () => { pad.drawing = false; };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  $("clear").addEventListener("click", () => {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    pad.inked = false;
  });
}

async function openSigning(hearing) {
  const record = await siteApi(`/api/hearings/${hearing.id}/record`);
  signing = { hearing: hearing.id, sha256: record.sha256 };
  $("record").textContent = record.text;
  $("record-sha").textContent = record.sha256;
  const signed = new Set(record.signatures.map((s) => s.party));
  $("signer").replaceChildren(...record.defendants.filter((d) => !signed.has(d.id))
    .map((d) => el("option", { value: String(d.id), text: d.name })));
  $("clear").click();
  $("sign-state").textContent = "";
  $("sign-panel").hidden = false;
  $("sign-panel").scrollIntoView();
}

async function submitSignature() {
  if (!signing) return;
  if (!pad.inked) { $("sign-state").textContent = t("site.empty"); return; }
  try {
    await siteApi(`/api/hearings/${signing.hearing}/signature`, {
      method: "POST",
      body: { png: $("pad").toDataURL("image/png"), record_sha256: signing.sha256,
        party_id: Number($("signer").value) },
    });
    $("sign-state").textContent = t("site.done");
    signing = null;
    await load();
  } catch (err) {
    $("sign-state").textContent = err.message;
  }
}

// ---- the list ----

function render(hearings) {
  shown = hearings;
  $("hearings-empty").hidden = hearings.length > 0;
  $("hearings").replaceChildren(...hearings.map((h) => {
    const li = el("li", { dataset: { hearing: String(h.id) } },
      el("strong", { text: h.case }),
      el("span", { text: h.room_name || h.room }),
      el("span", { class: "when", text: `${when(h.starts_at)} – ${when(h.ends_at)}` }),
      el("span", { class: "status", text: t(`state.${h.state}`) }));
    if (h.may_connect) {
      const button = el("button", { type: "button", class: "connect", text: t("site.connect") });
      button.addEventListener("click", () => connect(h));
      li.append(button);
    }
    if (h.may_sign) {
      for (const d of h.defendants) {
        const button = el("button", { type: "button", class: "sign", disabled: d.signed,
          text: t(d.signed ? "site.signed" : "site.signfor", { name: d.name }) });
        button.addEventListener("click", () => openSigning(h)
          .catch((err) => { $("page-error").textContent = err.message; }));
        li.append(button);
      }
    }
    for (const c of h.consultations) {
      const button = el("button", { type: "button", class: "consult", text: t("site.consultwith") });
      button.addEventListener("click", () => consult(h, c));
      li.append(button);
    }
    return li;
  }));
}

async function load() {
  $("page-error").textContent = "";
  const body = await siteApi("/api/site/hearings");
  $("site-name").textContent = `${body.site.name} (${body.site.code})`;
  render(body.hearings);
  return body;
}

async function enter(ev) {
  ev.preventDefault();
  credential = $("credential").value.trim();
  let body;
  try {
    body = await load();
  } catch (err) {
    credential = "";
    $("login-error").textContent = err.status === 401 ? t("site.bad") : err.message;
    return;
  }
  $("credential").value = "";
  $("login-error").textContent = "";
  unmark = ["courtroom-frame", "lawyer-frame"].map((id) => watermark($(id), body.site.code));
  $("login").hidden = true;
  $("leave").hidden = false;
  $("hearings-panel").hidden = false;
}

async function leave() {
  await stopLink();
  credential = "";
  signing = null;
  for (const remove of unmark.splice(0)) remove();
  for (const id of ["hearings-panel", "sign-panel", "leave"]) $(id).hidden = true;
  $("login").hidden = false;
}

function start() {
  visitorShell({ product: "site.title", langId: "site-lang", tools: [
    el("small", { id: "site-name" }),
    el("button", { id: "leave", type: "button", hidden: true, "data-i18n": "site.leave" })] });
  $("login").addEventListener("submit", enter);
  $("leave").addEventListener("click", leave);
  $("refresh").addEventListener("click", () => load()
    .catch((err) => { $("page-error").textContent = err.message; }));
  $("hang-up").addEventListener("click", stopLink);
  $("end-consult").addEventListener("click", endConsultation);
  $("submit-sign").addEventListener("click", submitSignature);
  $("close-sign").addEventListener("click", () => { $("sign-panel").hidden = true; });
  onLangChange(() => render(shown));
  setUpPad();
}

start();
