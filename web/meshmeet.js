// meshmeet: mesh video meetings in the browser (and in Node).
//
// The package's entry: exactly what index.d.ts declares, gathered from the
// modules that hold it. The decisions — signaling, reconnection, perfect
// negotiation, ICE restarts, the uplink budget — live in the C++ core
// compiled to WebAssembly. The JavaScript around it owns the browser objects
// (WebSocket, RTCPeerConnection, timers), feeds what happens to them into
// the core, and carries out what the core asks for; no WebRTC logic beyond
// translating calls and events. It is split by concern:
//
//   meeting-api.js      joinMeeting and Meeting: the API an app holds, and
//                       the loop that feeds the core and turns the outputs
//                       meant for the app into events
//   browser-objects.js  the sockets, peer connections, data channels and
//                       timers the core drives, and the executor of every
//                       output that acts on them
//   server-http.js      the meeting server over HTTP: URLs, createMeeting,
//                       getMeeting, the lookup and probe joinMeeting uses
//   core-loader.js      loads the WebAssembly core once (preload)
//   errors.js           MeshmeetError and the one list of its codes
//   app-data.js         meeting.send()'s framing on its own data channels
//   video-views.js      how large the app draws each peer's video (observeVideo)

export { MAX_LOSSY_BYTES, MAX_MESSAGE_BYTES } from './app-data.js';
export { MeshmeetError } from './errors.js';
export { liveCoreObjects, preload } from './core-loader.js';
export { createMeeting, getMeeting } from './server-http.js';
export { joinMeeting, Meeting } from './meeting-api.js';
