// A two-way call over WHIP + WHEP: our camera out, the other side in. Each direction is retried
// until it connects and set up again when its connection drops (a network blip), until stop().
import { publish, watch } from "./webrtc.js";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const DROP_GRACE_MS = 5000; // "disconnected" often heals by itself; wait this long first

// The i18n key explaining why the camera or microphone could not be opened.
export function mediaErrorKey(err) {
  if (!window.isSecureContext || !navigator.mediaDevices?.getUserMedia) return "media.insecure";
  switch (err?.name) {
    case "NotAllowedError": case "SecurityError": return "media.denied";
    case "NotFoundError": case "OverconstrainedError": return "media.missing";
    case "NotReadableError": case "AbortError": return "media.busy";
    default: return "media.failed";
  }
}

export const MEDIA_STRINGS = {
  "media.insecure": ["此页面需通过 HTTPS 打开才能使用摄像头和麦克风。", "Open this page over HTTPS to use the camera and microphone."],
  "media.denied": ["您拒绝了摄像头或麦克风权限。请在浏览器地址栏的权限设置中允许后重试。", "Camera or microphone access was denied. Allow it in the browser's site settings and try again."],
  "media.missing": ["未找到摄像头或麦克风，请连接设备后重试。", "No camera or microphone was found. Connect one and try again."],
  "media.busy": ["摄像头或麦克风正被其他程序占用，请关闭该程序后重试。", "The camera or microphone is in use by another program. Close it and try again."],
  "media.failed": ["无法打开摄像头或麦克风。", "The camera or microphone could not be opened."],
};

export async function openCamera() {
  if (!navigator.mediaDevices?.getUserMedia) throw Object.assign(new Error("insecure"), { name: "InsecureContext" });
  return navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: true });
}

function dropped(pc, stopped) {
  return Promise.race([stopped, new Promise((resolve) => {
    let timer = null;
    const check = () => {
      const state = pc.connectionState;
      if (state === "failed" || state === "closed") resolve();
      else if (state === "disconnected") timer ??= setTimeout(resolve, DROP_GRACE_MS);
      else if (timer) { clearTimeout(timer); timer = null; }
    };
    pc.addEventListener("connectionstatechange", check);
  })]);
}

export class Call {
  // onState(direction "out"|"in", state "connecting"|"connected"|"retrying", error?)
  // `token`: a bearer secret for both directions instead of the cookie (a lawyer's key).
  constructor({ media, publishPath, viewPath, remoteVideo, token, onState = () => {} }) {
    Object.assign(this, { media, publishPath, viewPath, remoteVideo, token, onState });
    this.sessions = { out: null, in: null };
    this.running = false;
    this.stopped = new Promise((resolve) => { this.release = resolve; });
  }

  async stop() {
    this.running = false;
    this.release();
    await Promise.all(Object.values(this.sessions).map((s) => s?.close().catch(() => {})));
  }

  start() {
    this.running = true;
    this.loop("out");
    this.loop("in");
  }

  async open(direction) {
    const token = this.token;
    if (direction === "out") return publish(this.publishPath, this.media, { videoCodec: "video/H264", token });
    return watch(this.viewPath, this.remoteVideo, { token });
  }

  async loop(direction) {
    let delay = 1000;
    for (let attempt = 0; this.running; attempt++) {
      this.onState(direction, attempt ? "retrying" : "connecting");
      try {
        const session = await this.open(direction);
        if (!this.running) { await session.close().catch(() => {}); return; }
        this.sessions[direction] = session;
        this.onState(direction, "connected");
        delay = 1000;
        await dropped(session.pc, this.stopped);
        this.sessions[direction] = null;
        await session.close().catch(() => {});
      } catch (err) {
        this.onState(direction, "retrying", err); // e.g. 404 until the other side is on
      }
      if (this.running) await Promise.race([sleep(delay), this.stopped]);
      delay = Math.min(delay * 2, 8000);
    }
  }
}
