// The chat panel's log: messages with their links made clickable, the
// unread count on the Chat button, and the newest message shown for a moment
// while the panel is closed.
//
// A peer's text is only ever put in the page as text (textContent, and
// links built as elements whose href is a parsed http(s) URL): nothing a
// peer writes is read as HTML.

import { $, announce } from '/view.js';
import { setDescription, t } from '/i18n.js';

const PEEK_MS = 5000;
let unread = 0;
let peekTimer = 0;

// An address in running text; trailing punctuation is the sentence's, not the link's.
const URL_IN_TEXT = /\bhttps?:\/\/[^\s<>"]+/gi;
const TRAILING = /[.,;:!?)\]}'»」。，]+$/u;

/** `text` as nodes: its web addresses as links opening in a new tab, the rest as text. */
function linkified(text) {
  const out = document.createDocumentFragment();
  let at = 0;
  for (const match of text.matchAll(URL_IN_TEXT)) {
    const address = match[0].replace(TRAILING, '');
    let url = null;
    try {
      url = new URL(address);
    } catch {
      /* not an address after all */
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) continue;
    out.append(text.slice(at, match.index));
    const link = document.createElement('a');
    link.href = url.href;
    link.textContent = address;
    link.target = '_blank';
    link.rel = 'noopener noreferrer nofollow';
    out.append(link);
    at = match.index + address.length;
  }
  out.append(text.slice(at));
  return out;
}

/** Adds a message to the log; `who` is the name shown, `mine` for our own. */
export function addChat(who, text, { mine = false } = {}) {
  const item = document.createElement('li');
  if (mine) item.className = 'mine';
  const author = document.createElement('strong');
  author.textContent = who;
  const body = document.createElement('span');
  body.append(linkified(text));
  item.append(author, body);
  $('chat-log').append(item);
  $('chat-empty').hidden = true;
  item.scrollIntoView({ block: 'end' });
  if (mine) return;
  announce(t('chatAnnounce', who, text));
  if (!$('chat-panel').hidden) return;
  unread += 1;
  $('chat-unread').textContent = String(unread);
  $('chat-unread').hidden = false;
  setDescription($('chat-button'), 'unreadMessages', unread);
  peek(who, text);
}

// The newest message over the controls for a moment; a click opens the chat.
function peek(who, text) {
  const el = $('chat-peek');
  el.querySelector('strong').textContent = who;
  el.querySelector('span').textContent = text;
  el.hidden = false;
  clearTimeout(peekTimer);
  peekTimer = setTimeout(() => (el.hidden = true), PEEK_MS);
}

/** The panel was opened: everything in it is read. */
export function chatRead() {
  unread = 0;
  $('chat-unread').hidden = true;
  setDescription($('chat-button'), null);
  $('chat-peek').hidden = true;
}

export function clearChat() {
  $('chat-log').replaceChildren();
  $('chat-empty').hidden = false;
  chatRead();
}
