// A faint watermark naming the viewer and the time over a player, so a filmed screen can be
// traced. The container must be positioned (position: relative, e.g. class "av-frame"); the
// overlay ignores the mouse.
import { el } from "./api.js";
import { formatTime } from "./i18n.js";

const COPIES = 6;
const REFRESH_MS = 30_000;

// Puts the overlay into `container`; returns a function that removes it.
export function watermark(container, username) {
  const overlay = el("div", { class: "av-watermark", "aria-hidden": "true", dataset: { watermark: "" } });
  const fill = () => {
    const text = `${username} ${formatTime(new Date(), { date: true })}`;
    overlay.replaceChildren(...Array.from({ length: COPIES }, () => el("span", { text })));
  };
  fill();
  container.append(overlay);
  const timer = setInterval(fill, REFRESH_MS);
  return () => { clearInterval(timer); overlay.remove(); };
}

// A short random id, new on each page load, for a viewer without an account: it names nobody,
// but two screen recordings of the same player can still be told apart.
export function anonymousId(length = 6) {
  const bytes = crypto.getRandomValues(new Uint8Array(Math.ceil(length / 2)));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("").slice(0, length);
}
