// The package's typed errors: MeshmeetError, the one list of the codes it
// carries (ErrorCode in index.d.ts; tests/node/error-codes.test.mjs holds
// the two and the C++ enums to each other), and how a code from the server
// or the core becomes one. A module of its own because every other one
// throws these: the HTTP calls, the core's loader, joinMeeting and Meeting.

/** An error with a stable `code` (see index.d.ts for the list). */
export class MeshmeetError extends Error {
  constructor(code, message, details = {}) {
    super(message);
    this.name = 'MeshmeetError';
    this.code = code;
    if (details.peer) this.peer = details.peer;
    if (details.status) this.status = details.status;
    if (details.serverCode) this.serverCode = details.serverCode;
  }
}

// Every ErrorCode of index.d.ts. A code from the server outside this list
// (a newer server, a proxy's) becomes 'server-error', the server's own kept
// in `serverCode`.
const ERROR_CODES = new Set([
  'meeting-not-found', 'meeting-full', 'too-many-connections', 'forbidden-origin', 'rate-limited', 'unauthorized',
  'too-large', 'bad-request', 'bad-json', 'bad-message', 'not-joined', 'already-joined', 'unknown-peer', 'bad-resume',
  'server-unreachable', 'server-error', 'peer-unreachable', 'verification-failed', 'invalid-argument', 'bad-input',
  'core-unavailable', 'relay-unavailable', 'data-too-large', 'peer-not-connected', 'send-buffer-full', 'track-not-replaced',
]);

export function typedError(code, message, details = {}) {
  // 'unavailable': the server cannot serve or take joins now (it drains, or
  // its Redis is away); the core tries again by itself.
  if (code === 'unavailable') return new MeshmeetError('server-unreachable', message, { ...details, serverCode: code });
  if (typeof code === 'string' && ERROR_CODES.has(code)) return new MeshmeetError(code, message, details);
  return new MeshmeetError('server-error', message, typeof code === 'string' && code ? { ...details, serverCode: code } : details);
}
