// The lobby: the meeting's name and link, your name, a preview of your
// camera, a live microphone level, the devices to use, and "Join".

import { getMeeting, preload } from '/lib/meshmeet.js';
import { setText, t } from '/i18n.js';
import { $, show, copy, afterNextFrame, describeError, showName, showRelayBadge, setTitle } from '/view.js';
import { fillDevicePicker, measureLevel, openMedia, rememberDevice } from '/media.js';

const NAME_KEY = 'meshmeet.name';
const server = location.origin;

let previewStream = null;
let previewing = Promise.resolve();  // the preview being opened now (startPreview)
let previewRun = 0;                  // which preview is wanted: an older one is stopped when it comes
let stopMeter = () => {};

export function stopPreview() {
  previewRun += 1;  // also one still being opened
  stopMeter();
  stopMeter = () => {};
  previewStream?.getTracks().forEach((track) => track.stop());
  previewStream = null;
}

// The microphone's level, live: people see that it hears them before they join.
// Drawn in 50 steps, and touched only when the step changes.
function showLevel(stream) {
  const meter = $('mic-level');
  const bar = meter.firstElementChild;
  meter.hidden = !stream?.getAudioTracks().length;
  let drawn = null;
  const draw = (level) => {
    const step = Math.round(level * 50) / 50;
    if (step === drawn) return;
    drawn = step;
    meter.setAttribute('aria-valuenow', String(step));
    bar.style.transform = `scaleX(${step})`;
  };
  draw(0);
  stopMeter = measureLevel(stream, draw);
}

function startPreview() {
  stopPreview();
  const run = previewRun;
  previewing = openMedia().then(async ({ stream, problem }) => {
    // Another device was picked meanwhile, or the lobby left: not wanted.
    if (run !== previewRun) return stream?.getTracks().forEach((track) => track.stop());
    previewStream = stream;
    $('preview').srcObject = previewStream;
    const hasVideo = !!previewStream?.getVideoTracks().length;
    $('preview').hidden = !hasVideo;
    $('preview-empty').hidden = hasVideo;
    $('preview-empty').textContent = ($('your-name').value.trim() || t('guest')).slice(0, 1).toUpperCase();
    $('media-note').hidden = !problem;
    if (problem) setText($('media-note'), problem);
    showLevel(previewStream);
    const current = (kind) => previewStream?.[kind === 'camera' ? 'getVideoTracks' : 'getAudioTracks']()[0]?.getSettings().deviceId;
    for (const kind of ['camera', 'microphone']) {
      await fillDevicePicker($(`${kind}-select`), kind, current(kind), (deviceId) => {
        rememberDevice(kind, deviceId);
        startPreview();
      });
    }
  });
  return previewing;
}

// The preview once the one being opened is ready: a device picked while
// it opens starts another, which is waited for in turn.
async function currentPreview() {
  for (let awaited; awaited !== previewing; ) await (awaited = previewing);
  return previewStream;
}

/**
 * Shows the lobby of `meetingId`. `enter(meetingId, name, stream)` joins
 * (its stream is then the meeting's); `fail(what, options)` shows a message
 * instead; `stillWanted()` says whether the address is still this meeting's.
 */
export async function showLobby(meetingId, { created = false, enter, fail, stillWanted }) {
  let info;
  try {
    info = await getMeeting(server, meetingId);
  } catch (error) {
    return fail(describeError(error), error.code === 'server-unreachable' ? { retry: () => showLobby(meetingId, { enter, fail, stillWanted }) } : {});
  }
  if (!stillWanted()) return;  // gone Back meanwhile
  setTitle(info.name);
  $('meeting-title').textContent = info.name;
  showRelayBadge(info.relayOnly);
  showName($('lobby-title'), info.name, 'untitled');
  setText($('lobby-count'), 'participantsNow', info.participants);
  $('your-name').value = localStorage.getItem(NAME_KEY) ?? '';
  $('share-link').value = location.href;
  $('share-copy').onclick = () => copy(location.href);
  $('share-ready').hidden = !created;
  show('lobby-view');
  $('your-name').focus();
  preload().catch(() => {});  // the core loads while the person types; "Join" reports a failure
  // The form is live before the camera is: a click on "Join" while the
  // browser still asks for permission must not submit the form natively
  // (that reloads the page); it waits for the preview instead.
  startPreview();
  $('join-form').onsubmit = async (event) => {
    event.preventDefault();
    const name = $('your-name').value.trim();
    localStorage.setItem(NAME_KEY, name);
    const button = $('join-button');
    button.disabled = true;
    setText(button, 'joining');
    try {
      // The click shows at once: the join's first steps (the core's client,
      // the socket, the lookup) run in one go, which on a busy machine held
      // the page, "Join" still showing, for up to 0.75 s after the click.
      await afterNextFrame();
      // What the meeting sends is the preview that is current once ready,
      // and stays it: no device can be picked here any more (the meeting's
      // own device menu switches them).
      const stream = await currentPreview();
      $('camera-select').disabled = $('microphone-select').disabled = true;
      stopMeter();
      await enter(meetingId, name, stream);
      previewStream = null;  // the meeting's now (a failed join leaves it to stopPreview)
    } catch (error) {
      fail(describeError(error), error.code === 'meeting-full' || error.code === 'server-unreachable'
        ? { retry: () => showLobby(meetingId, { enter, fail, stillWanted }) } : {});
    } finally {
      button.disabled = false;
      setText(button, 'join');
    }
  };
  await previewing;
}
