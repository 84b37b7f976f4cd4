// Who is speaking: a ring around the tile of whoever is loud right now, from
// the audio level each peer's packets carry (meeting.audioLevel): nothing is
// decoded or analysed here, so it costs next to nothing. A muted microphone
// sends silence, and its tile stays dark.

const LOUD = 0.02;     // audio level (0–1, linear) that counts as a voice
const HOLD_MS = 600;   // stays lit this long after the last loud moment: no flicker between words
const EVERY_MS = 150;

const watched = new Map();  // tile element → { level: () => number, loudAt }
let timer = 0;

/** Marks `element` with the class "speaking" while `level()` is loud. */
export function watchSpeaking(element, level) {
  watched.set(element, { level, loudAt: -Infinity });
  timer ||= setInterval(measure, EVERY_MS);
}

export function unwatchSpeaking(element) {
  if (!watched.delete(element)) return;
  element.classList.remove('speaking');
  if (!watched.size) {
    clearInterval(timer);
    timer = 0;
  }
}

export function unwatchAllSpeaking() {
  for (const element of [...watched.keys()]) unwatchSpeaking(element);
}

function measure() {
  const now = performance.now();
  for (const [element, w] of watched) {
    if (w.level() > LOUD) w.loudAt = now;
    element.classList.toggle('speaking', now - w.loudAt < HOLD_MS);
  }
}
