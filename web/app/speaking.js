// Who is speaking: a ring around the tile of whoever is loud right now, from
// the audio level each peer's packets carry (meeting.audioLevel): nothing is
// decoded or analysed here. A muted microphone sends silence, and its tile
// stays dark.
//
// Each look asks the browser for every tile's latest level, a blocking call
// into its WebRTC thread per tile: well under a millisecond on an idle
// machine, 10–20 ms each while that thread is busy (four or six pages joining
// on two cores), where polling every 150 ms took a tenth of each settled
// page's main thread, the thread that must answer the newcomer. So the next
// look waits at least 20 times as long as the last one took: the ring never
// costs more than a twentieth of the main thread, and is as quick as before
// whenever the browser is. Never more than 2 s, though: a ring left lit that
// long after the voice stopped would say the wrong thing.
//
// While a connection is being set up (someone joining), the looks are 2 s
// apart whatever they cost: that is when the WebRTC thread is busiest (a
// four-page join profile: 31 ms per look, 1.7 s of the pages' main threads
// in 54 looks), and when every page's main thread is needed to answer the
// newcomer. A ring a second late during a join says nothing wrong. A
// connection counts as being set up for its first 10 s only: one that never
// comes up (a peer we cannot reach is tried for up to 45 s) must not hold
// the ring back all that time.

const LOUD = 0.02;     // audio level (0–1, linear) that counts as a voice
const HOLD_MS = 600;   // stays lit this long after the last loud moment: no flicker between words
const EVERY_MS = 150;  // between looks, when they are cheap
const SHARE = 20;      // at least this many times a look's own duration between looks
const LONGEST_MS = 2000;
const SETTING_UP_MS = 10000;  // how long a connection being set up keeps the looks rare

const watched = new Map();  // tile element → { level: () => number, loudAt }
let timer = 0;
const connecting = new Map();  // peer id → when its connection began to be set up

/** Peer `id`'s connection is being set up (`true`), or no longer (`false`: up, gone or given up). */
export function connectionSettingUp(id, settingUp) {
  if (!settingUp) connecting.delete(id);
  else if (!connecting.has(id)) connecting.set(id, performance.now());
}

function settingUp(now) {
  for (const since of connecting.values()) if (now - since < SETTING_UP_MS) return true;
  return false;
}

/** Marks `element` with the class "speaking" while `level()` is loud. */
export function watchSpeaking(element, level) {
  watched.set(element, { level, loudAt: -Infinity });
  timer ||= setTimeout(measure, EVERY_MS);
}

export function unwatchSpeaking(element) {
  if (!watched.delete(element)) return;
  element.classList.remove('speaking');
  if (!watched.size) {
    clearTimeout(timer);
    timer = 0;
  }
}

export function unwatchAllSpeaking() {
  for (const element of [...watched.keys()]) unwatchSpeaking(element);
  connecting.clear();
}

function measure() {
  const now = performance.now();
  try {
    // A hidden tab shows no ring: no look at all.
    if (document.hidden) return;
    for (const [element, w] of watched) {
      if (w.level() > LOUD) w.loudAt = now;
      element.classList.toggle('speaking', now - w.loudAt < HOLD_MS);
    }
  } finally {
    // The next look comes even when this one threw.
    const took = performance.now() - now;
    const wait = settingUp(now) ? LONGEST_MS : Math.min(LONGEST_MS, Math.max(EVERY_MS, took * SHARE));
    timer = watched.size ? setTimeout(measure, wait) : 0;
  }
}
