// Words every page shows for the same things: room states, hearing states, marker kinds.
import { addStrings, t } from "./i18n.js";

addStrings({
  "status.live": ["直播中", "Live"],
  "status.recording": ["录制中", "Recording"],
  "status.idle": ["空闲", "Idle"],
  "status.fault": ["故障", "Fault"],
  "hearing.scheduled": ["待开庭", "Scheduled"],
  "hearing.opened": ["开庭中", "In session"],
  "hearing.recess": ["休庭", "In recess"],
  "hearing.resumed": ["续开庭", "Resumed"],
  "hearing.closed": ["已闭庭", "Closed"],
  "hearing.adjourned": ["延期审理", "Adjourned"],
  "hearing.cancelled": ["已撤销", "Cancelled"],
  "marker.opened": ["开庭", "Opened"],
  "marker.recess": ["休庭", "Recess"],
  "marker.resumed": ["续开庭", "Resumed"],
  "marker.closed": ["闭庭", "Closed"],
  "marker.bookmark": ["书签", "Bookmark"],
  "marker.speaker": ["发言人", "Speaker"],
  "marker.alert": ["告警", "Alert"],
  "marker.gap": ["录像中断", "Recording gap"],
  "feed.main": ["主画面", "Main camera"],
  "feed.sub": ["辅画面", "Second camera"],
  "feed.remote": ["远程场所画面", "Remote site"],
});

export const ROOM_STATES = ["live", "recording", "idle", "fault"];
export const LIVE_HEARING = ["opened", "recess", "resumed"];

export const roomStatus = (status) => t(`status.${status}`);
export const hearingState = (state) => t(`hearing.${state}`);
export const markerKind = (kind) => t(`marker.${kind}`);
export const feedName = (feed) => {
  const text = t(`feed.${feed}`);
  return text === `feed.${feed}` ? feed : text;
};
