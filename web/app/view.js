// What every view of the app shows things with: the views themselves, the
// toast, the banner, what a screen reader is told, names, and the words for
// errors.

import { setText, t } from '/i18n.js';

export const $ = (id) => document.getElementById(id);

export function show(viewId) {
  for (const view of document.querySelectorAll('.view')) view.hidden = view.id !== viewId;
}

let toastTimer = 0;
export function toast(text) {
  const el = $('toast');
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.hidden = true), 2500);
}

// Resolves once the page has drawn what was just changed on it: after the
// next frame, or after 100 ms where no frame comes (a hidden tab draws none).
// What a click shows ("Joining…") is drawn before the work the click starts.
export function afterNextFrame() {
  return new Promise((resolve) => {
    const fallback = setTimeout(resolve, 100);
    requestAnimationFrame(() => setTimeout(() => {
      clearTimeout(fallback);
      resolve();
    }, 0));
  });
}

export function banner(key) {
  if (key) setText($('banner'), key);
  $('banner').hidden = !key;
}

// Tells a screen reader what happened (someone joined, left, raised a hand,
// wrote): one polite live region, re-filled so the same words twice are
// read twice.
const spoken = [];
let speakTimer = 0;
export function announce(text) {
  spoken.push(text);
  clearTimeout(speakTimer);
  $('announcer').textContent = '';
  speakTimer = setTimeout(() => {
    $('announcer').textContent = spoken.splice(0).join('. ');
  }, 100);
}

export async function copy(text) {
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
export function describeError(error) {
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
export function showRelayBadge(on) {
  $('relay-badge').hidden = !on;
}

// The page title names the meeting once there is one (null: none).
let titleName = null;
export function setTitle(name) {
  titleName = name;
  updateTitle();
}
export function updateTitle() {
  document.title = titleName === null ? 'meshmeet' : `${titleName || t('untitled')} · meshmeet`;
}

// A name someone gave (a person's, a meeting's), or a word in the page's
// language when they gave none.
export function showName(el, name, fallback = 'guest') {
  if (name) {
    delete el.dataset.i18n;
    el.textContent = name;
  } else {
    setText(el, fallback);
  }
}

/** A person's name as the page shows it: theirs, or the word for a guest. */
export function nameOf(peer) {
  return peer?.name || t('guest');
}
