// The meeting web app. Built only on the npm package's public API
// (/lib/meshmeet.js), so it doubles as the package's example.
//
// This file: the language, the home page, messages that end a page, and
// which page the address shows. The lobby is lobby.js, the meeting
// meeting.js (its tiles tiles.js, chat chat.js, people panel people.js).

import { createMeeting } from '/lib/meshmeet.js';
import { currentLanguage, onLanguageChange, setLanguage, setText, translatePage } from '/i18n.js';
import { $, show, describeError, showRelayBadge, setTitle, updateTitle } from '/view.js';
import { showLobby, stopPreview } from '/lobby.js';
import { endMeeting, enterMeeting, inMeeting, refreshControls, setMeetingHooks } from '/meeting.js';
import { renameAllTiles } from '/tiles.js';
import { render as renderPeople } from '/people.js';

const server = location.origin;

// A full-page message: `what` is a translation key and its arguments.
function showMessage(what, { retry } = {}) {
  stopPreview();
  showRelayBadge(false);
  setText($('message-text'), ...what);
  $('message-retry').hidden = !retry;
  $('message-retry').onclick = retry ?? null;
  show('message-view');
}

// ---- language --------------------------------------------------------------------

$('language').value = currentLanguage();
$('language').addEventListener('change', (e) => setLanguage(e.target.value));
onLanguageChange(() => {
  translatePage();
  refreshControls();
  updateTitle();
  renameAllTiles();
  renderPeople();
});
translatePage();
renameAllTiles();

// ---- home: create a meeting ---------------------------------------------------------

// The meeting id in a pasted link (…/m/<id>) or a bare id; null if neither.
function meetingIdIn(text) {
  return text.trim().match(/(?:^|\/m\/)([a-z0-9_-]{25,40})\/?(?:[?#].*)?$/)?.[1] ?? null;
}

function showHome() {
  setTitle(null);
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
      await openLobby(meeting.id, { created: true });
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

// ---- lobby and meeting ------------------------------------------------------------------

function openLobby(meetingId, { created = false } = {}) {
  return showLobby(meetingId, {
    created,
    enter: (id, name, stream) => enterMeeting(id, name, stream, () => currentMeetingId() === id),
    fail: showMessage,
    stillWanted: () => currentMeetingId() === meetingId,
  });
}

setMeetingHooks({ showMessage, rejoin: (meetingId) => openLobby(meetingId) });

// ---- routing -------------------------------------------------------------------------------

function currentMeetingId() {
  return location.pathname.match(/^\/m\/([a-z0-9_-]{25,40})$/)?.[1] ?? null;
}

// Shows the page for the address: a meeting's lobby, or home.
function route() {
  const meetingId = currentMeetingId();
  if (meetingId) openLobby(meetingId);
  else if (location.pathname.startsWith('/m/')) showMessage(['notFound']);
  else showHome();
}

// Back and Forward between home and a meeting made with "New meeting"
// (the one address this page pushes): the page for the address now. A
// meeting in progress is left as "Leave" leaves it; a preview stops.
window.addEventListener('popstate', () => {
  if (inMeeting()) endMeeting(null);
  stopPreview();
  route();
});

route();
