// A from–to pair of fields over the open recording, as the export and sealing forms pick it:
// ISO times (or seconds from the start, which the API also takes), each with a button that
// takes the picture time of the player.

export class RangeFields {
  // from, to: the <input>s; fromHere, toHere: their "use the picture time" buttons.
  constructor({ from, to, fromHere, toHere }, player) {
    Object.assign(this, { from, to, player });
    fromHere.addEventListener("click", () => this.fromPlayhead(from));
    toHere.addEventListener("click", () => this.fromPlayhead(to));
  }

  // The first minute of `rec` (or all of it when shorter).
  reset(rec) {
    const start = new Date(rec.started_at);
    const end = rec.ended_at ? new Date(rec.ended_at) : new Date();
    this.from.value = start.toISOString();
    this.to.value = new Date(Math.min(end.getTime(), start.getTime() + 60_000)).toISOString();
  }

  fromPlayhead(input) {
    const at = this.player.playingAt();
    if (at !== null) input.value = new Date(at).toISOString();
  }

  value() {
    return { from: this.from.value.trim(), to: this.to.value.trim() };
  }
}
