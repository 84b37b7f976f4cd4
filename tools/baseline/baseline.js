// Plain WebRTC, as a careful page without a core would write it: the
// newcomer offers to everyone already there, everyone else answers;
// candidates are trickled; a peer that leaves loses its tile. No recovery,
// no budget, no verification: the floor the meeting page is measured from.

const $ = (id) => document.getElementById(id);
const meetingId = location.pathname.split('/').pop();
const pcs = new Map();  // peer id → RTCPeerConnection
let ws = null;
let local = null;
let iceServers = [];

local = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: { ideal: 640 }, height: { ideal: 480 } } });
$('preview').srcObject = local;

$('join').onclick = () => {
  $('lobby').hidden = true;
  $('meeting').hidden = false;
  $('self-video').srcObject = local;
  ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
  ws.onopen = () => send({ type: 'join', meeting: meetingId, name: $('name').value });
  ws.onmessage = (e) => onMessage(JSON.parse(e.data));
};
$('leave').onclick = () => {
  send({ type: 'leave' });
  for (const id of [...pcs.keys()]) drop(id);
};

function send(message) {
  if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
}

function onMessage(m) {
  if (m.type === 'welcome') {
    iceServers = m.iceServers ?? [];
    setInterval(() => send({ type: 'ping' }), m.heartbeat?.interval ?? 10000);
    for (const peer of m.peers) offerTo(peer);
  } else if (m.type === 'signal') {
    onSignal(m.from, m.data);
  } else if (m.type === 'peer-left') {
    drop(m.peer);
  }
}

function connection(peer) {
  let pc = pcs.get(peer.id);
  if (pc) return pc;
  pc = new RTCPeerConnection({ iceServers });
  pcs.set(peer.id, pc);
  for (const track of local.getTracks()) pc.addTrack(track, local);
  pc.onicecandidate = (e) => e.candidate && send({ type: 'signal', to: peer.id, data: { candidate: e.candidate.toJSON() } });
  const tile = document.createElement('div');
  tile.className = 'tile';
  tile.dataset.tile = peer.id;
  const video = document.createElement('video');
  video.autoplay = true;
  video.playsInline = true;
  video.dataset.peer = peer.id;
  const name = document.createElement('span');
  name.className = 'name';
  name.textContent = peer.name ?? '';
  tile.append(video, name);
  $('grid').append(tile);
  layout();
  pc.ontrack = (e) => {
    if (video.srcObject !== e.streams[0]) video.srcObject = e.streams[0];
  };
  return pc;
}

async function offerTo(peer) {
  const pc = connection(peer);
  await pc.setLocalDescription(await pc.createOffer());
  send({ type: 'signal', to: peer.id, data: { description: pc.localDescription.toJSON(), name: $('name').value } });
}

// One peer's signals are handled one after another, in the order they came:
// a candidate must not overtake the description it belongs to.
const chains = new Map();
function onSignal(from, data) {
  const next = (chains.get(from) ?? Promise.resolve()).then(() => handleSignal(from, data)).catch(() => {});
  chains.set(from, next);
}

async function handleSignal(from, data) {
  const pc = connection({ id: from, name: data.name });
  if (data.description) {
    await pc.setRemoteDescription(data.description);
    if (data.description.type === 'offer') {
      await pc.setLocalDescription(await pc.createAnswer());
      send({ type: 'signal', to: from, data: { description: pc.localDescription.toJSON() } });
    }
  } else if (data.candidate) {
    await pc.addIceCandidate(data.candidate);
  }
}

function drop(id) {
  pcs.get(id)?.close();
  pcs.delete(id);
  chains.delete(id);
  document.querySelector(`[data-tile="${id}"]`)?.remove();
  layout();
}

function layout() {
  $('grid').dataset.count = String(Math.min(pcs.size + 1, 9));
}
