// WHIP/WHEP clients (RFC 9725): one offer with all candidates, one answer, DELETE to end.

async function waitForIce(pc, ms = 2000) {
  if (pc.iceGatheringState === "complete") return;
  await new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") { clearTimeout(timer); resolve(); }
    });
  });
}

// `token`: a bearer credential that is not the session cookie (a remote site's, a lawyer's key).
const bearer = (token) => (token ? { Authorization: `Bearer ${token}` } : {});

async function exchange(url, pc, token) {
  await pc.setLocalDescription(await pc.createOffer());
  await waitForIce(pc);
  const resp = await fetch(url, {
    method: "POST", headers: { "Content-Type": "application/sdp", ...bearer(token) },
    body: pc.localDescription.sdp, credentials: "same-origin",
  });
  if (resp.status !== 201) {
    let message = resp.statusText;
    try { const body = await resp.json(); message = body.detail || body.error; } catch { /* not JSON */ }
    const err = new Error(`${resp.status} ${message}`);
    err.status = resp.status; // 404 on a consultation's path: it is over, or not up yet
    throw err;
  }
  await pc.setRemoteDescription({ type: "answer", sdp: await resp.text() });
  return new URL(resp.headers.get("Location"), window.location.href).toString();
}

export class Session {
  constructor(pc, location, token) { this.pc = pc; this.location = location; this.token = token; }
  async close() {
    this.pc.close();
    if (this.location) {
      await fetch(this.location, { method: "DELETE", credentials: "same-origin", headers: bearer(this.token) });
    }
  }
}

export async function watch(path, video, { token } = {}) {
  const pc = new RTCPeerConnection();
  pc.addTransceiver("video", { direction: "recvonly" });
  pc.addTransceiver("audio", { direction: "recvonly" });
  const stream = new MediaStream();
  pc.addEventListener("track", (ev) => { stream.addTrack(ev.track); video.srcObject = stream; });
  return new Session(pc, await exchange(`/whep/${path}`, pc, token), token);
}

// Puts `mimeType` (e.g. "video/H264") first in the transceiver's offer, if the browser has it.
function preferCodec(transceiver, mimeType) {
  const caps = RTCRtpSender.getCapabilities?.("video")?.codecs || [];
  const wanted = caps.filter((c) => c.mimeType.toLowerCase() === mimeType.toLowerCase());
  if (!wanted.length || !transceiver.setCodecPreferences) return;
  try {
    transceiver.setCodecPreferences([...wanted, ...caps.filter((c) => !wanted.includes(c))]);
  } catch { /* the browser's default order then */ }
}

// `videoCodec: "video/H264"` where the stream is recorded (the recorder keeps H.264 and Opus).
export async function publish(path, media, { videoCodec, token } = {}) {
  const pc = new RTCPeerConnection();
  for (const track of media.getTracks()) {
    const transceiver = pc.addTransceiver(track, { direction: "sendonly" });
    if (videoCodec && track.kind === "video") preferCodec(transceiver, videoCodec);
  }
  return new Session(pc, await exchange(`/whip/${path}`, pc, token), token);
}
