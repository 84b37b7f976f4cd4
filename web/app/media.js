// Cameras, microphones and speakers: opening them, listing them, the ones
// picked on this device, and how loud a microphone is.

import { t } from '/i18n.js';

const DEVICES_KEY = 'meshmeet.devices';

/** The devices picked earlier on this device: { camera?, microphone?, speaker? } ids. */
export function savedDevices() {
  try {
    return JSON.parse(localStorage.getItem(DEVICES_KEY) ?? '{}');
  } catch {
    return {};
  }
}

export function rememberDevice(kind, deviceId) {
  localStorage.setItem(DEVICES_KEY, JSON.stringify({ ...savedDevices(), [kind]: deviceId }));
}

// A device picked earlier is required ({exact}): Chromium ignores a bare deviceId.
function constraintsFor(kind, deviceId) {
  const exact = deviceId ? { deviceId: { exact: deviceId } } : {};
  return kind === 'camera'
    ? { video: { width: { ideal: 640 }, height: { ideal: 480 }, ...exact } }
    : { audio: { echoCancellation: true, noiseSuppression: true, ...exact } };
}

// What to tell the person when the camera (cam) or microphone (mic) could
// not be opened: each is null (it opened) or the browser's error.
function mediaProblemOf(cam, mic) {
  const denied = (error) => error?.name === 'NotAllowedError' || error?.name === 'SecurityError';
  if (cam && mic) return denied(cam) || denied(mic) ? 'mediaDenied' : 'mediaAbsent';
  if (cam) return denied(cam) ? 'cameraDenied' : 'cameraAbsent';
  if (mic) return denied(mic) ? 'microphoneDenied' : 'microphoneAbsent';
  return null;
}

/**
 * The best stream the browser allows: camera and microphone (the ones
 * picked earlier), else whichever of them it gives (one may be blocked or
 * missing), else none (join receive-only). Resolves to { stream, problem }:
 * `problem` is a translation key saying what could not be had, or null.
 */
export async function openMedia() {
  const devices = savedDevices();
  if (!navigator.mediaDevices?.getUserMedia) return { stream: null, problem: 'mediaAbsent' };
  try {
    const both = { ...constraintsFor('camera', devices.camera), ...constraintsFor('microphone', devices.microphone) };
    return { stream: await navigator.mediaDevices.getUserMedia(both), problem: null };
  } catch (error) {
    // A device picked earlier is gone (unplugged): forget it, take the default.
    if (error.name === 'OverconstrainedError' && (devices.camera || devices.microphone)) {
      localStorage.removeItem(DEVICES_KEY);
      return openMedia();
    }
    // One of the two is blocked or missing: ask for each alone.
  }
  const open = (kind) => navigator.mediaDevices.getUserMedia(constraintsFor(kind)).then((stream) => ({ stream }), (error) => ({ error }));
  const cam = await open('camera');
  const mic = await open('microphone');
  const tracks = [...(cam.stream?.getTracks() ?? []), ...(mic.stream?.getTracks() ?? [])];
  return { stream: tracks.length ? new MediaStream(tracks) : null, problem: mediaProblemOf(cam.error ?? null, mic.error ?? null) };
}

/** Opens one camera or microphone by id: its track. Throws what getUserMedia throws. */
export async function openDevice(kind, deviceId) {
  const stream = await navigator.mediaDevices.getUserMedia(constraintsFor(kind, deviceId));
  return stream.getTracks()[0];
}

/** Whether this browser can send audio to a speaker the page picks (HTMLMediaElement.setSinkId). */
export const canPickSpeaker = typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;

const KINDS = { camera: 'videoinput', microphone: 'audioinput', speaker: 'audiooutput' };

/**
 * Fills `select` with the devices of `kind` (camera, microphone, speaker),
 * `currentId` selected, and calls `onPick(deviceId)` when the person picks
 * another. Disabled when there are none.
 */
export async function fillDevicePicker(select, kind, currentId, onPick) {
  let devices = [];
  try {
    devices = await navigator.mediaDevices.enumerateDevices();
  } catch {
    /* none */
  }
  const list = devices.filter((d) => d.kind === KINDS[kind] && d.deviceId);
  select.replaceChildren();
  list.forEach((d, i) => select.append(new Option(d.label || `${t(kind)} ${i + 1}`, d.deviceId, false, d.deviceId === currentId)));
  select.disabled = list.length === 0;
  select.onchange = () => onPick(select.value);
}

/**
 * Measures how loud the microphone track of `stream` is, about ten times a
 * second: `onLevel(level)` with 0 (silence) to 1 (loud speech), from the
 * RMS of what it hears in dBFS (a disabled track hears silence). Returns a function
 * that stops measuring. Nothing is measured when there is no audio track.
 */
export function measureLevel(stream, onLevel) {
  const track = stream?.getAudioTracks()[0];
  if (!track || typeof AudioContext === 'undefined') return () => {};
  const context = new AudioContext();
  const analyser = context.createAnalyser();
  analyser.fftSize = 1024;
  const source = context.createMediaStreamSource(new MediaStream([track]));
  source.connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  // A page opened from a link has had no click yet: the browser may hold
  // the context until the person touches the page.
  const resume = () => context.resume().catch(() => {});
  addEventListener('pointerdown', resume, { once: true });
  addEventListener('keydown', resume, { once: true });
  const timer = setInterval(() => {
    analyser.getFloatTimeDomainData(samples);
    let energy = 0;
    for (const s of samples) energy += s * s;
    const dbfs = 20 * Math.log10(Math.sqrt(energy / samples.length) || 1e-9);
    onLevel(Math.min(1, Math.max(0, (dbfs - SILENCE_DBFS) / (LOUD_DBFS - SILENCE_DBFS))));
  }, 100);
  return () => {
    clearInterval(timer);
    removeEventListener('pointerdown', resume);
    removeEventListener('keydown', resume);
    source.disconnect();
    context.close().catch(() => {});
  };
}

// The meter's scale, in dB below full scale, as ears hear loudness:
// logarithmic. Speech near the microphone, after the browser's noise
// suppression, is around -35 to -15 dBFS; a quiet room below -55.
const SILENCE_DBFS = -60;
const LOUD_DBFS = -10;
/** A measureLevel() level that counts as a voice (not room noise): -40 dBFS. */
export const VOICE_LEVEL = (-40 - SILENCE_DBFS) / (LOUD_DBFS - SILENCE_DBFS);
