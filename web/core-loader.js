// The C++ core compiled to WebAssembly (meshmeet-core.mjs and its .wasm):
// loaded once per page and shared by every Meeting. A module of its own so
// that preload(), joinMeeting and the tests' leak check all reach the same
// one load.

import createCoreModule from './meshmeet-core.mjs';
import { MeshmeetError } from './errors.js';

// The core's .wasm is fetched from next to this file, i.e. from wherever the
// page got the package. A load that fails is 'core-unavailable', and the next
// call loads again.
let corePromise = null;
export function loadCore() {
  corePromise ??= createCoreModule().catch((e) => {
    corePromise = null;
    throw new MeshmeetError('core-unavailable', `cannot load the client core (meshmeet-core.wasm): ${e?.message ?? e}`);
  });
  return corePromise;
}

/**
 * Loads the WebAssembly core now, so that a later joinMeeting starts at once
 * (a page can call it while the person types their name). Optional:
 * joinMeeting loads it itself. Rejects with 'core-unavailable'.
 */
export async function preload() {
  const core = await loadCore();
  // The browser compiles each WebAssembly function the first time it is
  // called. The first steps of a join (the config read, a client made, its
  // join) run once now on a client that is thrown away, so that "Join" does
  // not compile them: 10 ms on an idle machine, and 50–250 ms measured
  // between the click and the WebSocket on pages of a busy six-page call.
  const config = JSON.stringify({ seed: 1, uplinkKbps: 2500, entropy: '00'.repeat(32) });
  core.validateConfig(config);
  const client = new core.Client(config);
  try {
    client.join(0, 'ws://127.0.0.1:9/ws', 'warm-up', '');
    client.drainOutputs();  // made, never carried out: no socket is opened
  } finally {
    client.delete();
  }
}

/** Live C++ client objects (a leak check for tests). */
export async function liveCoreObjects() {
  return (await loadCore()).liveClients();
}
