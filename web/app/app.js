// The meeting web app. Built only on the npm package's public API
// (/lib/meshmeet.js), so it doubles as the package's example.

import { createMeeting, getMeeting, joinMeeting, preload } from '/lib/meshmeet.js';
import { ACCESSIBLE, currentLanguage, onLanguageChange, setLanguage, setText, t, translatePage } from '/i18n.js';
import { unwatchAllSpeaking, unwatchSpeaking, watchSpeaking } from '/speaking.js';

const $ = (id) => document.getElementById(id);
const server = location.origin;
const NAME_KEY = 'meshmeet.name';
const DEVICES_KEY = 'meshmeet.devices';

// ---- small view helpers ------------------------------------------------------

function show(viewId) {
  for (const view of document.querySelectorAll('.view')) view.hidden = view.id !== viewId;
}

let toastTimer = 0;
function toast(text) {
  const el = $('toast');
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.hidden = true), 2500);
}

function banner(key) {
  if (key) setText($('banner'), key);
  $('banner').hidden = !key;
}

// A full-page message: `what` is a translation key and its arguments.
function showMessage(what, { retry } = {}) {
  stopPreview();
  showRelayBadge(false);
  setText($('message-text'), ...what);
  $('message-retry').hidden = !retry;
  $('message-retry').onclick = retry ?? null;
  show('message-view');
}

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Clipboard API unavailable (http, old browser): select-and-copy fallback.
    const input = document.createElement('input');
    input.value = text;
    document.body.append(input);
    input.select();
    document.execCommand?.('copy');
    input.remove();
  }
  toast(t('linkCopied'));
}

// What to tell the user about an error: a translation key and its arguments.
function describeError(error) {
  switch (error?.code) {
    case 'meeting-not-found': return ['notFound'];
    case 'meeting-full': return ['full'];
    case 'relay-unavailable': return ['relayUnavailable'];
    case 'server-unreachable':
    case 'core-unavailable':  // the app's core comes from the meeting server too
      return ['unreachable'];
    default:
      console.error(error);
      return ['unknownError', error?.code ?? error?.name ?? 'error'];
  }
}

// A relay-only meeting says so wherever it is shown (lobby and meeting).
function showRelayBadge(on) {
  $('relay-badge').hidden = !on;
}

// The page title names the meeting once there is one.
let titleName = null;
function updateTitle() {
  document.title = titleName === null ? 'meshmeet' : `${titleName || t('untitled')} · meshmeet`;
}

// A name someone gave (a person's, a meeting's), or a word in the page's
// language when they gave none.
function showName(el, name, fallback = 'guest') {
  if (name) {
    delete el.dataset.i18n;
    el.textContent = name;
  } else {
    setText(el, fallback);
  }
}

// ---- language --------------------------------------------------------------------

$('language').value = currentLanguage();
$('language').addEventListener('change', (e) => setLanguage(e.target.value));
onLanguageChange(() => {
  translatePage();
  refreshControls();
  updateTitle();
  for (const tile of tiles.values()) nameTile(tile, tile.dataset.name);  // a guest's name is a word too
});
translatePage();

// ---- home: create a meeting ---------------------------------------------------------

// The meeting id in a pasted link (…/m/<id>) or a bare id; null if neither.
function meetingIdIn(text) {
  return text.trim().match(/(?:^|\/m\/)([a-z0-9_-]{25,40})\/?(?:[?#].*)?$/)?.[1] ?? null;
}

function showHome() {
  titleName = null;
  updateTitle();
  $('meeting-title').textContent = '';
  showRelayBadge(false);
  show('home-view');
  $('meeting-name').focus();
  $('open-form').onsubmit = (event) => {
    event.preventDefault();
    const id = meetingIdIn($('open-link').value);
    $('open-error').hidden = !!id;
    if (id) location.assign(`/m/${id}`);
    else setText($('open-error'), 'notAMeetingLink');
  };
  $('create-form').onsubmit = async (event) => {
    event.preventDefault();
    const button = $('create-button');
    button.disabled = true;
    setText(button, 'creating');
    $('create-error').hidden = true;
    try {
      const meeting = await createMeeting(server, { name: $('meeting-name').value.trim(), relayOnly: $('relay-only').checked });
      history.pushState({}, '', meeting.url);
      await showLobby(meeting.id, { created: true });
    } catch (error) {
      // Stays until the next try: the person may have looked away.
      setText($('create-error'), ...describeError(error));
      $('create-error').hidden = false;
    } finally {
      button.disabled = false;
      setText(button, 'newMeeting');
    }
  };
}

// ---- lobby: name, preview, devices -------------------------------------------------

let previewStream = null;
let previewing = Promise.resolve();  // the preview being opened now (startPreview)
let previewRun = 0;                  // which preview is wanted: an older one is stopped when it comes

function stopPreview() {
  previewRun += 1;  // also one still being opened
  previewStream?.getTracks().forEach((track) => track.stop());
  previewStream = null;
}

function savedDevices() {
  try {
    return JSON.parse(localStorage.getItem(DEVICES_KEY) ?? '{}');
  } catch {
    return {};
  }
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

// Gets the best stream the browser allows: camera and microphone, else
// whichever of them it gives (one may be blocked or missing), else none
// (join receive-only). Resolves to { stream, problem }: `problem` is a
// translation key saying what could not be had, or null.
async function openMedia() {
  // A device picked earlier is required ({exact}): Chromium ignores a bare
  // deviceId. If it is gone (unplugged), forget it and take the default.
  const devices = savedDevices();
  const video = { width: { ideal: 640 }, height: { ideal: 480 }, ...(devices.camera ? { deviceId: { exact: devices.camera } } : {}) };
  const audio = { echoCancellation: true, noiseSuppression: true, ...(devices.microphone ? { deviceId: { exact: devices.microphone } } : {}) };
  if (!navigator.mediaDevices?.getUserMedia) return { stream: null, problem: 'mediaAbsent' };
  try {
    return { stream: await navigator.mediaDevices.getUserMedia({ video, audio }), problem: null };
  } catch (error) {
    if (error.name === 'OverconstrainedError' && (devices.camera || devices.microphone)) {
      localStorage.removeItem(DEVICES_KEY);
      return openMedia();
    }
    // One of the two is blocked or missing: ask for each alone.
  }
  const open = (constraints) => navigator.mediaDevices.getUserMedia(constraints).then((stream) => ({ stream }), (error) => ({ error }));
  const cam = await open({ video });
  const mic = await open({ audio });
  const tracks = [...(cam.stream?.getTracks() ?? []), ...(mic.stream?.getTracks() ?? [])];
  return { stream: tracks.length ? new MediaStream(tracks) : null, problem: mediaProblemOf(cam.error ?? null, mic.error ?? null) };
}

async function fillDevicePickers() {
  let devices = [];
  try {
    devices = await navigator.mediaDevices.enumerateDevices();
  } catch {
    /* none */
  }
  const current = {
    camera: previewStream?.getVideoTracks()[0]?.getSettings().deviceId,
    microphone: previewStream?.getAudioTracks()[0]?.getSettings().deviceId,
  };
  for (const [kind, select, key] of [['videoinput', $('camera-select'), 'camera'], ['audioinput', $('microphone-select'), 'microphone']]) {
    select.replaceChildren();
    const list = devices.filter((d) => d.kind === kind && d.deviceId);
    list.forEach((d, i) => select.append(new Option(d.label || `${t(key)} ${i + 1}`, d.deviceId, false, d.deviceId === current[key])));
    select.disabled = list.length === 0;
    select.onchange = async () => {
      localStorage.setItem(DEVICES_KEY, JSON.stringify({ ...savedDevices(), [key]: select.value }));
      await startPreview();
    };
  }
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
    await fillDevicePickers();
  });
  return previewing;
}

// The preview once the one being opened is ready: a device picked while
// it opens starts another, which is waited for in turn.
async function currentPreview() {
  for (let awaited; awaited !== previewing; ) await (awaited = previewing);
  return previewStream;
}

async function showLobby(meetingId, { created = false } = {}) {
  let info;
  try {
    info = await getMeeting(server, meetingId);
  } catch (error) {
    return showMessage(describeError(error), error.code === 'server-unreachable' ? { retry: () => showLobby(meetingId) } : {});
  }
  if (currentMeetingId() !== meetingId) return;  // gone Back meanwhile
  titleName = info.name;
  updateTitle();
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
      // What the meeting sends is the preview that is current once ready,
      // and stays it: no device can be picked any more.
      const stream = await currentPreview();
      $('camera-select').disabled = $('microphone-select').disabled = true;
      await enterMeeting(meetingId, name, stream);
    } catch (error) {
      showMessage(describeError(error), error.code === 'meeting-full' || error.code === 'server-unreachable' ? { retry: () => showLobby(meetingId) } : {});
    } finally {
      button.disabled = false;
      setText(button, 'join');
    }
  };
  await previewing;
}

// ---- the meeting ----------------------------------------------------------------------

let meeting = null;
let localStream = null;
let cameraTrack = null;
let screenTrack = null;
const tiles = new Map();  // peer id → tile element
let unread = 0;

async function enterMeeting(meetingId, name, stream) {
  localStream = stream ?? new MediaStream();
  cameraTrack = localStream.getVideoTracks()[0] ?? null;
  // `?debug` in the address prints every transition of the core to the console.
  const logger = new URLSearchParams(location.search).has('debug') ? (entry) => console.debug('meshmeet', JSON.stringify(entry)) : undefined;
  // `?uplinkKbps=N`: the upload budget (joinMeeting's uplinkKbps); used by tools/network-bench.
  const uplinkKbps = Number(new URLSearchParams(location.search).get('uplinkKbps')) || undefined;
  meeting = await joinMeeting({ server, meeting: meetingId, name, localStream, logger, uplinkKbps });
  previewStream = null;  // the meeting owns it now
  if (currentMeetingId() !== meetingId) return endMeeting(null);  // gone Back while joining

  // What we cannot send is off from the start, so the others see it so.
  if (!localStream.getAudioTracks().length) meeting.setMicrophone(false);
  if (!cameraTrack) meeting.setCamera(false);

  $('self-video').srcObject = localStream;
  setText($('self-name'), 'selfName', name);
  showRelayBadge(meeting.relayOnly);  // what this client enforces, as the server told it
  show('meeting-view');
  banner(null);

  meeting.on('peer-joined', (peer) => {
    addTile(peer);
  });
  meeting.on('peer-left', ({ peer, reason }) => {
    removeTile(peer.id);
    if (reason !== 'rejoined') toast(t('peerLeftToast', peer.name || t('guest')));
  });
  meeting.on('track', ({ peer, track }) => {
    const tile = tiles.get(peer.id) ?? addTile(peer);
    const video = tile.querySelector('video');
    // A fresh stream each time: browsers do not always start rendering a
    // track added to a stream that is already playing.
    const kept = video.srcObject instanceof MediaStream ? video.srcObject.getTracks().filter((old) => old.kind !== track.kind) : [];
    video.srcObject = new MediaStream([...kept, track]);
    video.play?.().catch(() => {});
    if (track.kind === 'audio') watchSpeaking(tile, () => meeting?.audioLevel(tile.dataset.tile) ?? 0);
    tile.classList.toggle('no-video', !video.srcObject.getVideoTracks().length || tile.dataset.cameraOff === 'true');
  });
  meeting.on('peer-media', ({ peer, audio, video, screen }) => {
    const tile = tiles.get(peer.id);
    if (!tile) return;
    tile.querySelector('.mic-off').hidden = audio;
    tile.dataset.cameraOff = String(!video);
    tile.classList.toggle('no-video', !video);
    const picture = tile.querySelector('video');
    picture.dataset.screen = String(screen);
    fitPicture(picture);
  });
  // The core keeps retrying a peer it cannot reach (every server tried):
  // the tile says so until a retry connects.
  meeting.on('peer-state', ({ peer, state }) => {
    const unreachable = state === 'unreachable' || state === 'retrying';
    const tile = tiles.get(peer.id) ?? (unreachable ? addTile(peer) : null);
    if (!tile) return;
    tile.classList.toggle('unreachable', unreachable);
    tile.querySelector('.unreachable').hidden = !unreachable;
  });
  meeting.on('quality', ({ peer, level }) => {
    const mark = tiles.get(peer.id)?.querySelector('.quality');
    if (!mark) return;
    mark.dataset.level = level;
    mark.setAttribute('aria-label', ACCESSIBLE.quality[level]);
    mark.dataset.i18nTitle = `quality.${level}`;
    mark.title = t(`quality.${level}`);
  });
  meeting.on('verification-code', ({ peer, code, trust }) => {
    const tile = tiles.get(peer.id);
    const shown = tile?.querySelector('.code');
    if (!shown) return;
    delete shown.dataset.i18n;  // a code, not words: no longer "waiting" or a translated failure
    shown.classList.remove('failed');
    shown.textContent = code;
    showTrust(tile, trust);
  });
  meeting.on('chat', ({ from, text, direct }) => addChat(from.name || t('guest'), text, { direct }));
  let refusal = null;  // why the server would not take us back (see 'failed')
  meeting.on('state', ({ state }) => {
    // A refusal while reconnecting is not final yet: the core asks again
    // for a while (seatWaitMs), and the calls we have go on meanwhile.
    if (state === 'reconnecting') banner(refusal?.code === 'meeting-full' ? 'waitingForSeat' : 'reconnecting');
    else if (state === 'joined') {
      refusal = null;
      banner(null);
    }
    // After a reconnect the server refused to take us back: the meeting is
    // full by now, or gone (the 'error' saying which came just before).
    // The core has closed every connection; the camera is ours to stop.
    else if (state === 'failed')
      endMeeting(describeError(refusal ?? { code: state }), refusal?.code === 'meeting-full' ? { retry: () => showLobby(meetingId) } : {});
  });
  meeting.on('error', (error) => {
    if (error.code === 'meeting-full' || error.code === 'meeting-not-found') refusal = error;
    if (error.code === 'chat-too-long') toast(t('chatTooLong'));
    else if (error.code?.startsWith('chat-')) toast(t('chatNotDelivered'));
    if (error.code === 'verification-failed') {
      const code = tiles.get(error.peer)?.querySelector('.code');
      if (code) {
        code.classList.add('failed');
        setText(code, 'verifyFailed');
        tiles.get(error.peer).querySelector('.code-matches').hidden = true;  // nothing to vouch for
      }
      toast(t('verifyFailed'));
    }
  });

  // Peers already here when we were welcomed get their tiles from the
  // 'peer-joined' events the package replays to listeners added in this tick.
  refreshControls();
  layout();
}

// How a picture fills its tile. A camera fills it, cut at the edges as in
// every video call; a shared screen (peer-media says which; data-screen) is
// shown whole, letterboxed, as a cut-off slide or line of text is lost. A
// camera is shown whole too when filling would cut off more than a third of
// it (a narrow tile on a phone).
function fitPicture(video) {
  const screen = video.dataset.screen === 'true';
  if (!screen && (!video.videoHeight || !video.clientHeight)) return;  // no picture yet, or not laid out
  const picture = video.videoWidth / video.videoHeight;
  const box = video.clientWidth / video.clientHeight;
  const cut = 1 - Math.min(picture / box, box / picture);  // the part filling would cut off
  video.classList.toggle('whole', screen || cut > 1 / 3);
}
// Again whenever the picture changes size (a screen share starts) or the tile does.
const tileResized = new ResizeObserver((entries) => entries.forEach((entry) => fitPicture(entry.target)));
function fitToTile(video) {
  video.addEventListener('resize', () => fitPicture(video));
  tileResized.observe(video);
}
fitToTile($('self-video'));

function addTile(peer) {
  if (tiles.has(peer.id)) {
    nameTile(tiles.get(peer.id), peer.name);
    return tiles.get(peer.id);
  }
  const tile = $('tile-template').content.firstElementChild.cloneNode(true);
  tile.dataset.tile = peer.id;
  tile.classList.add('no-video');
  const video = tile.querySelector('video');
  video.dataset.peer = peer.id;
  fitToTile(video);
  translatePage(tile);  // the template's own words
  nameTile(tile, peer.name);
  const verify = tile.querySelector('.verify');
  const panel = tile.querySelector('.code-panel');
  verify.onclick = () => {
    panel.hidden = !panel.hidden;
    panel.title = t('verifyHint');
  };
  // Both read the same code aloud: the person vouches for it.
  tile.querySelector('.code-matches').onclick = () => meeting?.markVerified(tile.dataset.tile);
  tiles.set(peer.id, tile);
  $('grid').append(tile);
  layout();
  return tile;
}

// Whether the person vouched for the peer's code (Meeting.markVerified).
// Verified: a mark by the name, the code put away. Changed: they had, and
// this connection shows another code (a fresh connection, or a middleman):
// the code opens with a warning until they compare again, never quietly.
function showTrust(tile, trust) {
  const panel = tile.querySelector('.code-panel');
  const changed = trust === 'changed';
  tile.dataset.trust = trust;
  tile.querySelector('.verified').hidden = trust !== 'verified';
  tile.querySelector('.code-matches').hidden = trust === 'verified';
  panel.classList.toggle('changed', changed);
  const note = tile.querySelector('.code-changed');
  note.hidden = !changed;
  note.textContent = changed ? t('codeChanged', tile.dataset.name || t('guest')) : '';
  if (changed) {
    panel.hidden = false;
    toast(t('codeChanged', tile.dataset.name || t('guest')));
  } else if (trust === 'verified') {
    panel.hidden = true;
  }
}

// The name on a tile, its avatar's letter, and its "Verify" button's
// accessible name: "Verify" and the name as the tile shows it (the
// language's word for a guest when the peer gave none).
function nameTile(tile, name) {
  tile.dataset.name = name;
  showName(tile.querySelector('.name'), name);
  const shown = name || t('guest');
  tile.querySelector('.avatar').textContent = shown.slice(0, 1).toUpperCase();
  tile.querySelector('.verify').setAttribute('aria-label', `${ACCESSIBLE.verify} ${shown}`);
  tile.querySelector('.code-matches').setAttribute('aria-label', `${ACCESSIBLE.verifyMatches}: ${shown}`);
  tile.querySelector('.unreachable').textContent = t('cantReach', shown);
}

function removeTile(peerId) {
  const tile = tiles.get(peerId);
  if (!tile) return;
  tile.querySelector('video').srcObject = null;
  tileResized.unobserve(tile.querySelector('video'));
  unwatchSpeaking(tile);
  tile.remove();
  tiles.delete(peerId);
  layout();
}

function layout() {
  const count = tiles.size + 1;
  $('grid').dataset.count = String(Math.min(count, 9));
  $('alone').hidden = tiles.size > 0;
}

function addChat(who, text, { direct = false, mine = false } = {}) {
  const item = document.createElement('li');
  item.className = mine ? 'mine' : direct ? 'direct' : '';
  const author = document.createElement('strong');
  author.textContent = who;
  const body = document.createElement('span');
  body.textContent = text;
  item.append(author, body);
  $('chat-log').append(item);
  $('chat-empty').hidden = true;
  item.scrollIntoView({ block: 'end' });
  if ($('chat-panel').hidden && !mine) {
    unread += 1;
    $('chat-unread').textContent = String(unread);
    $('chat-unread').hidden = false;
  }
}

// The control bar: each button's visible text follows the language; its
// accessible name is the English word for what it does now.
function setControl(button, key) {
  button.setAttribute('aria-label', ACCESSIBLE[key]);
  button.querySelector('.text').textContent = t(key);
}

function refreshControls() {
  if (!meeting) return;
  setControl($('mic-button'), meeting.microphoneOn ? 'mute' : 'unmute');
  setControl($('camera-button'), meeting.cameraOn ? 'cameraOff' : 'cameraOn');
  setControl($('share-button'), screenTrack ? 'stopSharing' : 'shareScreen');
  $('mic-button').classList.toggle('off', !meeting.microphoneOn);
  $('camera-button').classList.toggle('off', !meeting.cameraOn);
  $('share-button').classList.toggle('active', !!screenTrack);
  $('mic-button').disabled = !localStream?.getAudioTracks().length;
  $('camera-button').disabled = !cameraTrack;
  $('share-button').disabled = !navigator.mediaDevices?.getDisplayMedia;
  document.querySelector('#self-tile .mic-off').hidden = meeting.microphoneOn;
  $('self-tile').classList.toggle('no-video', !(screenTrack || (cameraTrack && meeting.cameraOn)));
  $('self-video').classList.toggle('mirrored', !screenTrack);
  $('self-video').dataset.screen = String(!!screenTrack);
  fitPicture($('self-video'));
}

$('mic-button').onclick = () => {
  meeting.setMicrophone(!meeting.microphoneOn);
  refreshControls();
};
$('camera-button').onclick = () => {
  meeting.setCamera(!meeting.cameraOn);
  refreshControls();
};
$('share-button').onclick = async () => {
  if (screenTrack) return stopSharing();
  try {
    const stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    screenTrack = stream.getVideoTracks()[0];
    screenTrack.addEventListener('ended', stopSharing);
    await meeting.replaceVideoTrack(screenTrack);
    $('self-video').srcObject = new MediaStream([screenTrack, ...localStream.getAudioTracks()]);
  } catch {
    // Refused by the person, or by a connection (then the camera is still sent).
    screenTrack?.stop();
    screenTrack = null;
    toast(t('screenDenied'));
  }
  refreshControls();
};
async function stopSharing() {
  if (!screenTrack) return;
  screenTrack.stop();
  screenTrack = null;
  await meeting?.replaceVideoTrack(cameraTrack).catch(() => {});  // tried again at the next share or stop
  $('self-video').srcObject = localStream;
  refreshControls();
}
$('chat-button').onclick = () => {
  const panel = $('chat-panel');
  panel.hidden = !panel.hidden;
  $('chat-button').setAttribute('aria-expanded', String(!panel.hidden));
  document.body.classList.toggle('chat-open', !panel.hidden);
  if (!panel.hidden) {
    unread = 0;
    $('chat-unread').hidden = true;
    $('chat-input').focus();
  }
};
$('chat-form').onsubmit = (event) => {
  event.preventDefault();
  const text = $('chat-input').value.trim();
  if (!text || !meeting) return;
  meeting.sendChat(text);
  addChat(t('you'), text, { mine: true });
  $('chat-input').value = '';
};
$('copy-button').onclick = () => copy(location.href);
$('leave-button').onclick = () => {
  const meetingId = currentMeetingId();
  endMeeting(['leftTitle'], { retry: () => location.assign(`/m/${meetingId}`) });
};
// Closing the tab leaves at once: the others see the tile go.
window.addEventListener('pagehide', () => meeting?.leave());

// Leaves the meeting (the others see us go) and lets go of everything it
// held: camera, microphone, screen, tiles, chat. Then says `what` (see
// showMessage), if anything.
async function endMeeting(what, options) {
  const left = meeting?.leave();  // tells the server at once (while reconnecting: as soon as a socket is up)
  meeting = null;
  localStream?.getTracks().forEach((track) => track.stop());
  screenTrack?.stop();
  screenTrack = null;
  for (const peerId of [...tiles.keys()]) removeTile(peerId);
  unwatchAllSpeaking();
  $('self-video').srcObject = null;
  $('chat-log').replaceChildren();
  $('chat-empty').hidden = false;
  unread = 0;
  $('chat-unread').hidden = true;
  banner(null);
  if (what) showMessage(what, options);
  await left;
}

// ---- routing -------------------------------------------------------------------------------

function currentMeetingId() {
  return location.pathname.match(/^\/m\/([a-z0-9_-]{25,40})$/)?.[1] ?? null;
}

// Shows the page for the address: a meeting's lobby, or home.
function route() {
  const meetingId = currentMeetingId();
  if (meetingId) showLobby(meetingId);
  else if (location.pathname.startsWith('/m/')) showMessage(['notFound']);
  else showHome();
}

// Back and Forward between home and a meeting made with "New meeting"
// (the one address this page pushes): the page for the address now. A
// meeting in progress is left as "Leave" leaves it; a preview stops.
window.addEventListener('popstate', () => {
  if (meeting) endMeeting(null);
  stopPreview();
  route();
});

route();
