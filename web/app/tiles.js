// The tiles of the meeting: yours and one per peer, how their pictures fit,
// the layout (a grid, or one tile pinned large: the spotlight), full screen,
// the raised-hand mark and the reactions that float over a tile.

import { setLabel, t, translatePage } from '/i18n.js';
import { $, showName } from '/view.js';
import { unwatchSpeaking } from '/speaking.js';
import { REACTIONS } from '/room-messages.js';

const tiles = new Map();  // peer id → tile element
// The pinned tile's peer id (null: the grid), and whether the app pinned it
// (a shared screen) rather than the person.
let pin = { id: null, auto: false };
// Peers whose shared screen the person unpinned: not pinned again until they share anew.
const screensUnpinned = new Set();

export const tileOf = (peerId) => tiles.get(peerId) ?? null;
export const allTiles = () => tiles.values();

// How a picture fills its tile. A camera fills it, cut at the edges as in
// every video call; a shared screen (peer-media says which; data-screen) is
// shown whole, letterboxed, as a cut-off slide or line of text is lost. A
// camera is shown whole too when filling would cut off more than a third of
// it (a narrow tile on a phone).
//
// The tile's size is the one the ResizeObserver last reported, not read from
// the element: a received picture changes size several times while a meeting
// fills (each sender follows its tile), and reading clientWidth then made the
// browser lay the page out there and then, in the middle of the join (a
// six-page join: 146 such reads, 82 ms of the pages' main threads).
const boxes = new WeakMap();  // video → its content box as last laid out
export function fitPicture(video) {
  if (video.dataset.screen === 'true') {
    video.classList.add('whole');
    return;
  }
  const box = boxes.get(video);
  if (!video.videoHeight || !box?.height) return;  // no picture yet, or not laid out
  const picture = video.videoWidth / video.videoHeight;
  const shape = box.width / box.height;
  const cut = 1 - Math.min(picture / shape, shape / picture);  // the part filling would cut off
  video.classList.toggle('whole', cut > 1 / 3);
}
const stopObserving = new Map();  // peer id → stops telling the mesh the tile's size
// Again whenever the picture changes size (a screen share starts) or the tile does.
const tileResized = new ResizeObserver((entries) => {
  for (const { target, contentRect } of entries) {
    boxes.set(target, { width: contentRect.width, height: contentRect.height });
    fitPicture(target);
  }
});
function fitToTile(video) {
  video.addEventListener('resize', () => fitPicture(video));
  tileResized.observe(video);
}
fitToTile($('self-video'));
$('self-tile').querySelector('.fullscreen').onclick = () => toggleFullscreen($('self-tile'));

/**
 * The tile of `peer`, made if new. `actions`: what its buttons do,
 * { markVerified(peerId) }, and observeVideo(peerId, video), which tells the
 * mesh how large the tile draws the peer's video (returns what stops it).
 */
export function addTile(peer, actions) {
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
  const panel = tile.querySelector('.code-panel');
  tile.querySelector('.verify').onclick = () => {
    panel.hidden = !panel.hidden;
    panel.title = t('verifyHint');
  };
  // Both read the same code aloud: the person vouches for it.
  tile.querySelector('.code-matches').onclick = () => actions.markVerified(tile.dataset.tile);
  tile.querySelector('.pin').onclick = () => togglePin(peer.id);
  tile.querySelector('.fullscreen').onclick = () => toggleFullscreen(tile);
  tiles.set(peer.id, tile);
  $('grid').append(tile);
  const stop = actions.observeVideo?.(peer.id, video);
  if (stop) stopObserving.set(peer.id, stop);
  layout();
  return tile;
}

export function removeTile(peerId) {
  const tile = tiles.get(peerId);
  if (!tile) return;
  if (document.fullscreenElement === tile) document.exitFullscreen().catch(() => {});
  tile.querySelector('video').srcObject = null;
  tileResized.unobserve(tile.querySelector('video'));
  stopObserving.get(peerId)?.();
  stopObserving.delete(peerId);
  unwatchSpeaking(tile);
  tile.remove();
  tiles.delete(peerId);
  screensUnpinned.delete(peerId);
  if (pin.id === peerId) pin = { id: null, auto: false };
  layout();
}

export function removeAllTiles() {
  for (const peerId of [...tiles.keys()]) removeTile(peerId);
  pin = { id: null, auto: false };
  screensUnpinned.clear();
}

// The name on a tile, its avatar's letter, and its buttons' accessible
// names: what they do and the name as the tile shows it (the language's
// word for a guest when the peer gave none).
export function nameTile(tile, name) {
  tile.dataset.name = name;
  showName(tile.querySelector('.name'), name);
  const shown = name || t('guest');
  tile.querySelector('.avatar').textContent = shown.slice(0, 1).toUpperCase();
  setLabel(tile.querySelector('.verify'), 'verifyPeer', shown);
  setLabel(tile.querySelector('.code-matches'), 'verifyMatchesPeer', shown);
  setLabel(tile.querySelector('.fullscreen'), 'fullScreenPeer', shown);
  tile.querySelector('.fullscreen').title = t('fullScreen');
  tile.querySelector('.unreachable').textContent = t('cantReach', shown);
  showPin(tile);
}

/** Renames what follows the language on every tile (a guest's name is a word too). */
export function renameAllTiles() {
  for (const tile of tiles.values()) nameTile(tile, tile.dataset.name);
  setLabel($('self-tile').querySelector('.fullscreen'), 'fullScreenPeer', t('you'));
  $('self-tile').querySelector('.fullscreen').title = t('fullScreen');
}

function showPin(tile) {
  const pinned = pin.id === tile.dataset.tile;
  const button = tile.querySelector('.pin');
  const shown = tile.dataset.name || t('guest');
  setLabel(button, pinned ? 'unpinPeer' : 'pinPeer', shown);
  button.setAttribute('aria-pressed', String(pinned));
  button.title = t(pinned ? 'unpin' : 'pin');
  tile.classList.toggle('pinned', pinned);
}

// The person pins a tile, or unpins the pinned one (a screen unpinned so
// stays unpinned until its owner shares again).
function togglePin(peerId) {
  if (pin.id === peerId) {
    if (tiles.get(peerId)?.querySelector('video').dataset.screen === 'true') screensUnpinned.add(peerId);
    pin = { id: null, auto: false };
  } else {
    pin = { id: peerId, auto: false };
  }
  layout();
}

/**
 * A peer started or stopped sharing a screen: it is pinned for everyone
 * else until they choose otherwise, and unpinned when it stops (if the
 * app had pinned it).
 */
export function screenShared(peerId, sharing) {
  if (sharing) {
    if (!screensUnpinned.has(peerId) && pin.id !== peerId) pin = { id: peerId, auto: true };
  } else {
    screensUnpinned.delete(peerId);
    if (pin.id === peerId && pin.auto) pin = { id: null, auto: false };
  }
  layout();
}

function toggleFullscreen(tile) {
  if (document.fullscreenElement === tile) document.exitFullscreen().catch(() => {});
  else tile.requestFullscreen?.().catch(() => {});
}

export function layout() {
  const count = tiles.size + 1;
  $('grid').dataset.count = String(Math.min(count, 9));
  $('grid').classList.toggle('spotlight', pin.id !== null);
  $('grid').style.setProperty('--strip', String(Math.max(1, tiles.size)));  // the tiles beside the pinned one
  $('alone').hidden = tiles.size > 0;
  for (const tile of tiles.values()) showPin(tile);
  // The pinned tile comes first: the spotlight's large place.
  const pinned = pin.id && tiles.get(pin.id);
  if (pinned && $('grid').firstElementChild !== pinned) $('grid').prepend(pinned);
  if (!pinned && $('grid').firstElementChild !== $('self-tile')) $('grid').prepend($('self-tile'));
}

/** Shows or hides the raised-hand mark on a tile (`peerId` null: yours). */
export function showHand(peerId, up) {
  const tile = peerId === null ? $('self-tile') : tiles.get(peerId);
  if (!tile) return;
  tile.querySelector('.hand').hidden = !up;
  tile.classList.toggle('hand-up', up);
}

/** A reaction floats up over the tile of whoever sent it (`peerId` null: you). */
export function floatReaction(peerId, emoji) {
  const tile = peerId === null ? $('self-tile') : tiles.get(peerId);
  if (!tile) return;
  const float = document.createElement('span');
  float.className = 'reaction-float';
  float.textContent = emoji;
  float.setAttribute('role', 'img');
  setLabel(float, `reaction.${REACTIONS[emoji]}`);
  float.style.left = `${15 + Math.random() * 55}%`;
  tile.append(float);
  setTimeout(() => float.remove(), 4000);
}
