// Who is speaking: a ring around the tile of whoever is loud right now.
// Measured from the audio each tile plays (WebAudio), so it needs nothing
// from the network and shows exactly what this listener hears: a muted
// microphone sends silence, and its tile stays dark.

const LOUD = 0.01;     // RMS of the samples (full scale 1.0) that counts as a voice
const HOLD_MS = 600;   // stays lit this long after the last loud moment: no flicker between words
const EVERY_MS = 120;

let context = null;
const watched = new Map();  // element → { source, analyser, samples, loudAt }
let timer = 0;

/** Marks `element` with the class "speaking" while `track` is loud; a null track stops watching. */
export function watchSpeaking(element, track) {
  unwatchSpeaking(element);
  if (!track || typeof AudioContext !== 'function') return;
  context ??= new AudioContext();
  if (context.state === 'suspended') context.resume().catch(() => {});
  const source = context.createMediaStreamSource(new MediaStream([track]));
  const analyser = context.createAnalyser();
  analyser.fftSize = 1024;
  source.connect(analyser);  // not on to the speakers: the tile's <video> plays the sound
  watched.set(element, { source, analyser, samples: new Float32Array(analyser.fftSize), loudAt: -Infinity });
  timer ||= setInterval(measure, EVERY_MS);
}

export function unwatchSpeaking(element) {
  const w = watched.get(element);
  if (!w) return;
  w.source.disconnect();
  watched.delete(element);
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
    w.analyser.getFloatTimeDomainData(w.samples);
    let sum = 0;
    for (const x of w.samples) sum += x * x;
    if (Math.sqrt(sum / w.samples.length) > LOUD) w.loudAt = now;
    element.classList.toggle('speaking', now - w.loudAt < HOLD_MS);
  }
}
