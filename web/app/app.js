// The plain page the server serves until the full meeting app lands: create
// a meeting and open its link. It uses only the public HTTP API.
const $ = (id) => document.getElementById(id);

function showError(text) {
  $('error').textContent = text;
  $('error').hidden = false;
}

async function createMeeting(event) {
  event.preventDefault();
  $('error').hidden = true;
  try {
    const res = await fetch('/api/meetings', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: $('meeting-name').value }),
    });
    const body = await res.json();
    if (!res.ok) return showError(body.error?.message ?? `Could not create the meeting (${res.status}).`);
    const link = new URL(body.url, location.href).href;
    $('meeting-link').href = body.url;
    $('meeting-link').textContent = link;
    $('created').hidden = false;
    $('copy').onclick = () => navigator.clipboard?.writeText(link);
  } catch {
    showError('The server cannot be reached. Check your connection and try again.');
  }
}

async function openMeeting(id) {
  $('meeting').hidden = false;
  try {
    const res = await fetch(`/api/meetings/${encodeURIComponent(id)}`);
    if (res.status === 404) return showError('Meeting not found. Check the link, or create a new meeting.');
    const meeting = await res.json();
    $('meeting-title').textContent = meeting.name || 'Meeting';
    $('meeting-status').textContent = `${meeting.participants} in the meeting now.`;
  } catch {
    showError('The server cannot be reached. Check your connection and try again.');
  }
}

const match = location.pathname.match(/^\/m\/([a-z0-9_-]{25,40})$/);
if (match) {
  openMeeting(match[1]);
} else {
  $('home').hidden = false;
  $('create').addEventListener('submit', createMeeting);
}
