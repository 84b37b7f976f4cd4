// The meeting: joining, what the package's events show, the control bar
// (microphone, camera, screen, hand, reactions, chat, people, devices),
// keyboard shortcuts, and leaving. The side panels and menus are panels.js.

import { joinMeeting } from '/lib/meshmeet.js';
import { setLabel, setText, t } from '/i18n.js';
import { $, show, toast, banner, announce, copy, describeError, showRelayBadge, nameOf } from '/view.js';
import { canPickSpeaker, fillDevicePicker, measureLevel, openDevice, rememberDevice, savedDevices, VOICE_LEVEL } from '/media.js';
import { connectionSettingUp, unwatchAllSpeaking, watchSpeaking } from '/speaking.js';
import { chatMessage, handMessage, reactionMessage, readMessage, REACTIONS, MAX_CHAT_CHARS } from '/room-messages.js';
import { addChat, clearChat } from '/chat.js';
import { closeAllPanels, closePopover, togglePanel, togglePopover } from '/panels.js';
import { clearPeople, removePerson, updatePerson } from '/people.js';
import {
  addTile, removeTile, removeAllTiles, tileOf, allTiles, fitPicture, layout, screenShared, showHand, floatReaction,
} from '/tiles.js';
import { closeHelp, listenForShortcuts, toggleHelp } from '/shortcuts.js';

const server = location.origin;
// Speaking this long, with the hand up, lowers it: the person has the floor.
const SPOKE_MS = 1500;
const PAUSE_MS = 600;  // a gap shorter than this is between words, not the end of speaking

let meeting = null;
// What a tile's buttons do, and the mesh told how large the tile draws
// its peer's video (the peer sends no larger a picture, none off-screen).
const tileActions = {
  markVerified: (id) => meeting?.markVerified(id),
  observeVideo: (id, video) => meeting?.observeVideo(id, video),
};
let localStream = null;
let cameraTrack = null;
let screenTrack = null;
let handUp = false;
let stopOwnLevel = () => {};
let hooks = { showMessage: () => {}, rejoin: () => {} };

/** What ending the meeting shows: `showMessage(what, options)`; `rejoin(meetingId)` opens its lobby again. */
export function setMeetingHooks(next) {
  hooks = next;
}

export const inMeeting = () => meeting !== null;

export async function enterMeeting(meetingId, name, stream, stillWanted) {
  localStream = stream ?? new MediaStream();
  cameraTrack = localStream.getVideoTracks()[0] ?? null;
  // `?debug` in the address prints every transition of the core to the console.
  const logger = new URLSearchParams(location.search).has('debug') ? (entry) => console.debug('meshmeet', JSON.stringify(entry)) : undefined;
  // `?uplinkKbps=N`: the upload budget (joinMeeting's uplinkKbps); used by tools/network-bench.
  const uplinkKbps = Number(new URLSearchParams(location.search).get('uplinkKbps')) || undefined;
  meeting = await joinMeeting({ server, meeting: meetingId, name, localStream, logger, uplinkKbps });
  if (!stillWanted()) return endMeeting(null);  // gone Back while joining

  // What we cannot send is off from the start, so the others see it so.
  if (!localStream.getAudioTracks().length) meeting.setMicrophone(false);
  if (!cameraTrack) meeting.setCamera(false);

  $('self-video').srcObject = localStream;
  setText($('self-name'), 'selfName', name);
  updatePerson(null, { name, state: 'joined', audio: meeting.microphoneOn, video: meeting.cameraOn });
  showRelayBadge(meeting.relayOnly);  // what this client enforces, as the server told it
  show('meeting-view');
  banner(null);
  applySpeaker(savedDevices().speaker);

  // Those already here are replayed as 'peer-joined' to listeners added in
  // this tick: they are not news.
  const here = new Set(meeting.peers.keys());
  meeting.on('peer-joined', (peer) => {
    addTile(peer, tileActions);
    updatePerson(peer.id, { name: peer.name });
    if (!here.delete(peer.id)) announce(t('peerJoinedToast', nameOf(peer)));
  });
  meeting.on('peer-left', ({ peer, reason }) => {
    connectionSettingUp(peer.id, false);
    removeTile(peer.id);
    removePerson(peer.id);
    if (reason !== 'rejoined') toast(t('peerLeftToast', nameOf(peer)));  // the toast is a live region: read out too
  });
  meeting.on('track', ({ peer, track }) => {
    const tile = tileOf(peer.id) ?? addTile(peer, tileActions);
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
    updatePerson(peer.id, { audio, video });
    const tile = tileOf(peer.id);
    if (!tile) return;
    tile.querySelector('.mic-off').hidden = audio;
    tile.dataset.cameraOff = String(!video);
    tile.classList.toggle('no-video', !video);
    const picture = tile.querySelector('video');
    const wasScreen = picture.dataset.screen === 'true';
    picture.dataset.screen = String(screen);
    fitPicture(picture);
    if (screen !== wasScreen) screenShared(peer.id, screen);
  });
  // The core keeps retrying a peer it cannot reach (every server tried):
  // the tile says so until a retry connects.
  meeting.on('peer-state', ({ peer, state }) => {
    updatePerson(peer.id, { state });
    connectionSettingUp(peer.id, state === 'connecting');  // the speaking ring looks rarely meanwhile
    const unreachable = state === 'unreachable' || state === 'retrying';
    const tile = tileOf(peer.id) ?? (unreachable ? addTile(peer, tileActions) : null);
    if (tile) {
      tile.classList.toggle('unreachable', unreachable);
      tile.querySelector('.unreachable').hidden = !unreachable;
    }
    // A peer connected (again): it learns that our hand is up.
    if (state === 'connected' && handUp) sendTo(peer.id, handMessage(true));
  });
  meeting.on('quality', ({ peer, level }) => {
    const mark = tileOf(peer.id)?.querySelector('.quality');
    if (!mark || mark.dataset.level === level) return;  // it comes with every stats round: touch the page only on a change
    mark.dataset.level = level;
    setLabel(mark, `quality.${level}`);
    mark.dataset.i18nTitle = `quality.${level}`;
    mark.title = t(`quality.${level}`);
  });
  meeting.on('verification-code', ({ peer, code, trust }) => {
    updatePerson(peer.id, { trust });
    const tile = tileOf(peer.id);
    const shown = tile?.querySelector('.code');
    if (!shown) return;
    delete shown.dataset.i18n;  // a code, not words: no longer "waiting" or a translated failure
    shown.classList.remove('failed');
    shown.textContent = code;
    showTrust(tile, trust);
  });
  meeting.on('data', ({ from, data }) => received(from, readMessage(data)));
  let refusal = null;  // why the server would not take us back (see 'failed')
  meeting.on('state', ({ state }) => {
    updatePerson(null, { state });
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
      endMeeting(describeError(refusal ?? { code: state }), refusal?.code === 'meeting-full' ? { retry: () => hooks.rejoin(meetingId) } : {});
  });
  meeting.on('error', (error) => {
    if (error.code === 'meeting-full' || error.code === 'meeting-not-found') refusal = error;
    if (error.code === 'verification-failed') {
      const tile = tileOf(error.peer);
      const code = tile?.querySelector('.code');
      if (code) {
        code.classList.add('failed');
        setText(code, 'verifyFailed');
        tile.querySelector('.code-matches').hidden = true;  // nothing to vouch for
      }
      toast(t('verifyFailed'));
    }
  });

  refreshControls();
  layout();
}

// What a peer said over app data (readMessage: null for anything else).
function received(from, message) {
  if (!message || !meeting) return;
  if (message.type === 'chat') addChat(nameOf(from), message.text);
  if (message.type === 'reaction') {
    floatReaction(from.id, message.emoji);
    announce(t('reacted', nameOf(from), t(`reaction.${REACTIONS[message.emoji]}`)));
  }
  if (message.type === 'hand') {
    showHand(from.id, message.up);
    updatePerson(from.id, { hand: message.up });
    if (message.up) toast(t('handRaisedBy', nameOf(from)));
  }
}

// App data to everyone connected. What cannot go (nobody connected, a
// connection closing) is lost as a word said to an empty room is.
function sendToAll(message) {
  meeting?.send(message).catch(() => toast(t('notDelivered')));
}

// To one peer whose connection just opened: its app channel may open a
// moment after, so a refusal for that is tried again a few times.
function sendTo(peerId, message, tries = 10) {
  meeting?.send(message, { to: peerId }).catch((error) => {
    if (error.code === 'peer-not-connected' && tries > 1) setTimeout(() => sendTo(peerId, message, tries - 1), 500);
  });
}

// ---- your own hand and voice ---------------------------------------------------

function setHand(up, { spoke = false } = {}) {
  if (!meeting || handUp === up) return;
  handUp = up;
  if (up) listenToOwnVoice();
  else stopListeningToOwnVoice();
  sendToAll(handMessage(up));
  showHand(null, up);
  updatePerson(null, { hand: up });
  refreshControls();
  if (spoke) toast(t('handLoweredSpoke'));
  else announce(t(up ? 'handRaisedYou' : 'handLoweredYou'));
}

// A raised hand comes down when its owner speaks for a moment (they have
// the floor): measured here, on the microphone's own signal, only while the
// hand is up (the measuring AudioContext costs CPU all the time it runs, and
// about 40 ms of the main thread to start, which at the join delayed the
// first video).
function listenToOwnVoice() {
  stopListeningToOwnVoice();
  let speakingSince = null;
  let loudAt = -Infinity;
  stopOwnLevel = measureLevel(localStream, (level) => {
    const now = performance.now();
    if (!meeting?.microphoneOn || level < VOICE_LEVEL) {
      if (now - loudAt > PAUSE_MS) speakingSince = null;
      return;
    }
    loudAt = now;
    speakingSince ??= now;
    if (handUp && now - speakingSince >= SPOKE_MS) setHand(false, { spoke: true });
  });
}

function stopListeningToOwnVoice() {
  stopOwnLevel();
  stopOwnLevel = () => {};
}

// ---- controls --------------------------------------------------------------------

// The control bar: each button's visible text and accessible name say what
// it does now, in the page's language.
function setControl(button, key) {
  setLabel(button, key);
  button.querySelector('.text').textContent = t(key);
}

export function refreshControls() {
  if (!meeting) return;
  setControl($('mic-button'), meeting.microphoneOn ? 'mute' : 'unmute');
  setControl($('camera-button'), meeting.cameraOn ? 'cameraOff' : 'cameraOn');
  setControl($('share-button'), screenTrack ? 'stopSharing' : 'shareScreen');
  setControl($('hand-button'), handUp ? 'lowerHand' : 'raiseHand');
  $('mic-button').classList.toggle('off', !meeting.microphoneOn);
  $('camera-button').classList.toggle('off', !meeting.cameraOn);
  $('share-button').classList.toggle('active', !!screenTrack);
  $('hand-button').classList.toggle('active', handUp);
  $('hand-button').setAttribute('aria-pressed', String(handUp));
  $('mic-button').disabled = !localStream?.getAudioTracks().length;
  $('camera-button').disabled = !cameraTrack;
  $('share-button').disabled = !navigator.mediaDevices?.getDisplayMedia;
  document.querySelector('#self-tile .mic-off').hidden = meeting.microphoneOn;
  $('self-tile').classList.toggle('no-video', !(screenTrack || (cameraTrack && meeting.cameraOn)));
  $('self-video').classList.toggle('mirrored', !screenTrack);
  $('self-video').dataset.screen = String(!!screenTrack);
  fitPicture($('self-video'));
}

function toggleMicrophone() {
  if ($('mic-button').disabled) return;
  meeting.setMicrophone(!meeting.microphoneOn);
  updatePerson(null, { audio: meeting.microphoneOn });
  announce(t(meeting.microphoneOn ? 'micOnYou' : 'micOffYou'));
  refreshControls();
}

function toggleCamera() {
  if ($('camera-button').disabled) return;
  meeting.setCamera(!meeting.cameraOn);
  updatePerson(null, { video: meeting.cameraOn });
  announce(t(meeting.cameraOn ? 'cameraOnYou' : 'cameraOffYou'));
  refreshControls();
}

$('mic-button').onclick = toggleMicrophone;
$('camera-button').onclick = toggleCamera;
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
$('hand-button').onclick = () => setHand(!handUp);

// Reactions: a small menu of emoji; the one picked floats over your tile
// and over yours on everyone else's page.
for (const [emoji, name] of Object.entries(REACTIONS)) {
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = emoji;
  setLabel(button, 'reactWith', name);
  button.onclick = () => {
    sendToAll(reactionMessage(emoji));
    floatReaction(null, emoji);
    closePopover('reactions');
  };
  $('reactions-menu').append(button);
}
$('react-button').onclick = () => togglePopover('reactions');

// ---- side panels and menus (panels.js) ------------------------------------------

$('chat-button').onclick = () => togglePanel('chat');
$('people-button').onclick = () => togglePanel('people');
$('chat-peek').onclick = () => togglePanel('chat');
for (const close of document.querySelectorAll('[data-close-panel]')) close.onclick = () => togglePanel(close.dataset.closePanel);

// ---- devices during the meeting ------------------------------------------------

$('devices-button').onclick = () => {
  if (togglePopover('devices')) fillDevicesMenu();
};

async function fillDevicesMenu() {
  const current = (track) => track?.getSettings().deviceId;
  await fillDevicePicker($('meeting-camera'), 'camera', current(cameraTrack), (id) => switchDevice('camera', id));
  await fillDevicePicker($('meeting-microphone'), 'microphone', current(localStream?.getAudioTracks()[0]), (id) => switchDevice('microphone', id));
  $('speaker-row').hidden = !canPickSpeaker;
  if (canPickSpeaker) await fillDevicePicker($('meeting-speaker'), 'speaker', savedDevices().speaker ?? 'default', applySpeaker);
}

// Another camera or microphone, without rejoining: the others get the new
// track on the connections they have. A camera or microphone that is off
// stays off (the core disables the new track); a camera switched while a
// screen is shared is what comes back when sharing stops.
async function switchDevice(kind, deviceId) {
  if (!meeting) return;
  rememberDevice(kind, deviceId);
  const camera = kind === 'camera';
  const old = camera ? cameraTrack : localStream.getAudioTracks()[0] ?? null;
  let track;
  try {
    track = await openDevice(kind, deviceId);  // the core disables it if its kind is off
    if (!camera) await meeting.replaceAudioTrack(track);
    else if (!screenTrack) await meeting.replaceVideoTrack(track);
  } catch {
    track?.stop();
    toast(t('deviceNotSwitched'));
    return fillDevicesMenu();  // the picker shows what is still in use
  }
  if (old) {
    localStream.removeTrack(old);
    old.stop();
  }
  localStream.addTrack(track);
  if (camera) cameraTrack = track;
  if (!screenTrack) $('self-video').srcObject = new MediaStream(localStream.getTracks());
  if (!camera && handUp) listenToOwnVoice();  // the new microphone's voice lowers the hand
  refreshControls();
}

// Where the others' voices play: every tile's video element, now and later.
let speaker = null;
function applySpeaker(deviceId) {
  if (!canPickSpeaker || !deviceId) return;
  speaker = deviceId;
  rememberDevice('speaker', deviceId);
  for (const tile of allTiles()) tile.querySelector('video').setSinkId(deviceId).catch(() => {});
}
new MutationObserver(() => {
  if (speaker) for (const tile of allTiles()) if (tile.querySelector('video').sinkId !== speaker) tile.querySelector('video').setSinkId(speaker).catch(() => {});
}).observe($('grid'), { childList: true });

// ---- chat ------------------------------------------------------------------------------

$('chat-input').maxLength = MAX_CHAT_CHARS;
$('chat-form').onsubmit = (event) => {
  event.preventDefault();
  const text = $('chat-input').value.trim();
  if (!text || !meeting) return;
  sendToAll(chatMessage(text));
  addChat(t('you'), text, { mine: true });
  $('chat-input').value = '';
};

$('copy-button').onclick = () => copy(location.href);
$('leave-button').onclick = () => {
  const meetingId = location.pathname.split('/').pop();
  endMeeting(['leftTitle'], { retry: () => location.assign(`/m/${meetingId}`) });
};
$('help-button').onclick = toggleHelp;
$('help-close').onclick = closeHelp;
// Closing the tab leaves at once: the others see the tile go.
addEventListener('pagehide', () => meeting?.leave());

listenForShortcuts({
  m: toggleMicrophone,
  v: toggleCamera,
  c: () => togglePanel('chat'),
  p: () => togglePanel('people'),
  h: () => setHand(!handUp),
  '?': toggleHelp,
}, () => meeting !== null);

// ---- leaving -----------------------------------------------------------------------

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

/**
 * Leaves the meeting (the others see us go) and lets go of everything it
 * held: camera, microphone, screen, tiles, chat, people. Then shows `what`
 * (see showMessage), if anything.
 */
export async function endMeeting(what, options) {
  const left = meeting?.leave();  // tells the server at once (while reconnecting: as soon as a socket is up)
  meeting = null;
  stopListeningToOwnVoice();
  localStream?.getTracks().forEach((track) => track.stop());
  screenTrack?.stop();
  screenTrack = null;
  handUp = false;
  showHand(null, false);
  removeAllTiles();
  unwatchAllSpeaking();
  $('self-video').srcObject = null;
  clearChat();
  clearPeople();
  closeAllPanels();
  closeHelp();
  banner(null);
  if (what) hooks.showMessage(what, options);
  await left;
}
