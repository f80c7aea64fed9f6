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

async function exchange(url, pc) {
  await pc.setLocalDescription(await pc.createOffer());
  await waitForIce(pc);
  const resp = await fetch(url, {
    method: "POST", headers: { "Content-Type": "application/sdp" },
    body: pc.localDescription.sdp, credentials: "same-origin",
  });
  if (resp.status !== 201) {
    let message = resp.statusText;
    try { const body = await resp.json(); message = body.detail || body.error; } catch { /* not JSON */ }
    throw new Error(`${resp.status} ${message}`);
  }
  await pc.setRemoteDescription({ type: "answer", sdp: await resp.text() });
  return new URL(resp.headers.get("Location"), window.location.href).toString();
}

export class Session {
  constructor(pc, location) { this.pc = pc; this.location = location; }
  async close() {
    this.pc.close();
    if (this.location) await fetch(this.location, { method: "DELETE", credentials: "same-origin" });
  }
}

export async function watch(path, video) {
  const pc = new RTCPeerConnection();
  pc.addTransceiver("video", { direction: "recvonly" });
  pc.addTransceiver("audio", { direction: "recvonly" });
  const stream = new MediaStream();
  pc.addEventListener("track", (ev) => { stream.addTrack(ev.track); video.srcObject = stream; });
  return new Session(pc, await exchange(`/whep/${path}`, pc));
}

export async function publish(path, media) {
  const pc = new RTCPeerConnection();
  for (const track of media.getTracks()) pc.addTransceiver(track, { direction: "sendonly" });
  return new Session(pc, await exchange(`/whip/${path}`, pc));
}
