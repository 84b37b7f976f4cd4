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
  await loadCore();
}

/** Live C++ client objects (a leak check for tests). */
export async function liveCoreObjects() {
  return (await loadCore()).liveClients();
}
