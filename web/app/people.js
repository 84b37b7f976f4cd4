// The people panel: everyone in the meeting, you first, each with their
// connection state, microphone, camera, raised hand and whether you verified
// them, every state in words (not only a colour or an icon).

import { $ } from '/view.js';
import { setDescription, t } from '/i18n.js';

const SELF = '';        // the key of your own entry
const people = new Map();  // id ('' for you) → { name, state, audio, video, hand, trust }

// The core's peer states (index.d.ts PeerState) as the panel words them.
function stateWord(state) {
  switch (state) {
    case 'joined':
    case 'connected': return 'stateConnected';
    case 'connecting': return 'stateConnecting';
    case 'unreachable':
    case 'retrying': return 'stateCantReach';
    default: return 'stateReconnecting';  // disconnected, restart-pending, restarting, awaiting-signaling
  }
}

/** Adds or updates one person (`id` null: you) with what changed. */
export function updatePerson(id, changes) {
  const key = id ?? SELF;
  const person = people.get(key) ?? { name: '', state: 'connecting', audio: true, video: true, hand: false, trust: 'unverified' };
  people.set(key, { ...person, ...changes });
  renderSoon();
}

export function removePerson(id) {
  if (people.delete(id)) renderSoon();
}

export function clearPeople() {
  people.clear();
  renderSoon();
}

// A join brings a burst of changes (each peer's state, media, trust, quality,
// one event each): the list is rebuilt once per frame, not once per change,
// not at all while the tab is hidden, and only while the panel is open (it
// opens with a render): a closed panel shows only the count on its button.
// Rebuilding the closed list cost a four-page join's pages about 0.1 s of
// main thread each, while they were answering each other.
let frame = 0;
function renderSoon() {
  frame ||= requestAnimationFrame(() => {
    frame = 0;
    render();
  });
}

// The page is touched only where something changed: rewriting the count
// with the same number made the browser lay the page out again on most
// frames of a join.
let shownCount = -1;
export function render() {
  const count = people.size;
  if (count !== shownCount) {
    shownCount = count;
    $('people-count').textContent = String(count);
    setDescription($('people-button'), 'peopleCount', count);
  }
  const list = $('people-list');
  if ($('people-panel').hidden) {
    if (list.firstChild) list.replaceChildren();  // nothing stale is shown when it opens
    return;
  }
  // You first, then raised hands (they wait to speak), then by name.
  const entries = [...people].sort(([a, x], [b, y]) =>
    (a === SELF ? -1 : b === SELF ? 1 : 0) || Number(y.hand) - Number(x.hand) || x.name.localeCompare(y.name));
  list.replaceChildren(...entries.map(([key, person]) => entry(key, person)));
}

function entry(key, person) {
  const item = $('person-template').content.firstElementChild.cloneNode(true);
  const shown = person.name || t('guest');
  item.dataset.person = key;
  item.querySelector('.avatar').textContent = shown.slice(0, 1).toUpperCase();
  item.querySelector('.name').textContent = key === SELF ? t('selfName', person.name) : shown;
  const state = item.querySelector('.state');
  state.textContent = t(stateWord(person.state));
  state.dataset.state = stateWord(person.state);
  const marks = [];
  if (person.hand) marks.push(['hand', t('handRaised')]);
  if (!person.audio) marks.push(['mic-off', t('micOff')]);
  if (!person.video) marks.push(['camera-off', t('cameraIsOff')]);
  if (person.trust === 'verified') marks.push(['verified', t('verified')]);
  if (person.trust === 'changed') marks.push(['changed', t('codeChangedShort')]);
  for (const [kind, words] of marks) {
    const mark = document.createElement('span');
    mark.className = `mark ${kind}`;
    mark.textContent = words;
    item.querySelector('.marks').append(mark);
  }
  return item;
}
