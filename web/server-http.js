// What the client asks the meeting server over HTTP: the server URL a page
// or app gives, turned into the API's origin and the signaling WebSocket's
// URL; createMeeting and getMeeting; and, for joinMeeting, the lookup of the
// meeting and the /healthz probe that tell a refused WebSocket's reason (a
// browser does not say why a WebSocket closed before it opened). A module of
// its own because none of it touches the core: plain fetch and its errors.

import { MeshmeetError, typedError } from './errors.js';

export function httpBase(serverUrl) {
  let url;
  try {
    url = new URL(serverUrl, globalThis.location?.href);
  } catch {
    throw new MeshmeetError('invalid-argument', `not a URL: ${serverUrl}`);
  }
  if (url.protocol === 'ws:') url.protocol = 'http:';
  if (url.protocol === 'wss:') url.protocol = 'https:';
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new MeshmeetError('invalid-argument', `the server URL must be http(s) or ws(s): ${serverUrl}`);
  return url.origin;
}

export function socketUrl(serverUrl) {
  const base = new URL(httpBase(serverUrl));
  base.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
  base.pathname = '/ws';
  return base.href;
}

async function requestJson(url, init, fetchImpl) {
  let res;
  try {
    res = await fetchImpl(url, init);
  } catch (e) {
    throw new MeshmeetError('server-unreachable', `cannot reach ${url}: ${e.message}`);
  }
  let body = null;
  try {
    body = await res.json();
  } catch {
    /* not JSON */
  }
  if (!res.ok) throw typedError(body?.error?.code ?? 'server-error', body?.error?.message ?? `HTTP ${res.status}`, { status: res.status });
  return body;
}

// GET `path` without throwing: the response, null when none came (down, no
// answer within timeoutMs, or aborted). A page of an origin the server does
// not allow may not read the answer (no CORS headers for it): then a no-cors
// request tells whether the server answers at all (an opaque response).
async function fetchQuietly(url, { fetchImpl, headers = {}, timeoutMs, signal }) {
  if (typeof fetchImpl !== 'function') return null;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const stop = () => controller.abort();
  signal?.addEventListener('abort', stop);
  try {
    try {
      return await fetchImpl(url, { headers, signal: controller.signal });
    } catch {
      // Only a page's fetch hides answers (CORS); elsewhere nothing came.
      if (controller.signal.aborted || !globalThis.location) return null;
      try {
        return await fetchImpl(url, { mode: 'no-cors', signal: controller.signal });
      } catch {
        return null;
      }
    }
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', stop);
  }
}

// GET /api/meetings/<id> for joinMeeting, never throwing. {answered: false}:
// no HTTP answer (down, or no answer within timeoutMs). {answered: true, ok}:
// the meeting is there; with `code`, the server's readable refusal.
// `originAllowed` says whether the server takes our Origin, judged by its
// CORS answer (the API and the WebSocket share one allow-list): a page of
// another origin reads the answer only if allowed (else the no-cors retry is
// opaque); Node's `origin`, sent as the Origin header as the WebSocket sends
// it, is allowed if echoed in Access-Control-Allow-Origin. null when the
// request carried no Origin to judge (a same-origin page; Node without it).
export async function lookUpMeeting(base, meetingId, { fetchImpl, origin, timeoutMs, signal }) {
  const url = `${base}/api/meetings/${encodeURIComponent(meetingId)}`;
  const res = await fetchQuietly(url, { fetchImpl, headers: origin ? { Origin: origin } : {}, timeoutMs, signal });
  if (!res) return { answered: false, originAllowed: null };
  if (res.type === 'opaque') return { answered: true, opaque: true, originAllowed: false };
  const page = globalThis.location?.origin;
  const originAllowed = page && page !== base ? true
    : origin ? res.headers?.get?.('access-control-allow-origin') === origin
    : null;
  if (res.ok) return { answered: true, ok: true, originAllowed };
  let body = null;
  try {
    body = await res.json();
  } catch {
    /* not JSON */
  }
  const code = body?.error?.code;
  return {
    answered: true, ok: false, originAllowed, status: res.status, code: typeof code === 'string' ? code : '',
    message: body?.error?.message ?? `HTTP ${res.status}`,
  };
}

export function forbiddenOrigin(base, origin) {
  return new MeshmeetError('forbidden-origin', `the server at ${base} does not accept ${origin ? `the origin ${origin}` : 'this origin'} (see its --allow-origin)`);
}

// GET /healthz: false only when the server answers that it is not serving
// (503 while it shuts down, when it refuses upgrades too) or not at all.
export async function serverHealthy(base, { fetchImpl, timeoutMs, signal }) {
  const res = await fetchQuietly(`${base}/healthz`, { fetchImpl, timeoutMs, signal });
  return !!res && (res.type === 'opaque' || res.ok);
}

// A request to the meetings API. In a page of an origin the server does not
// allow, the browser hides the answer and reports a network error: when the
// server answers all the same (/healthz, no-cors), the origin is the problem.
async function requestApi(base, path, init, fetchImpl) {
  try {
    return await requestJson(`${base}${path}`, init, fetchImpl);
  } catch (e) {
    const page = globalThis.location?.origin;
    if (e.code !== 'server-unreachable' || !page || page === base) throw e;
    if (!(await serverHealthy(base, { fetchImpl, timeoutMs: 5000 }))) throw e;
    throw forbiddenOrigin(base, page);
  }
}

/**
 * Creates a meeting on the server; resolves to its id, name, creation time,
 * link and whether it is relay-only. `relayOnly: true` asks for a meeting
 * whose connections all go through the server's TURN relay (no participant
 * learns another's IP address); a server without TURN refuses it with
 * 'relay-unavailable'.
 */
export async function createMeeting(serverUrl, options = {}) {
  const base = httpBase(serverUrl);
  const headers = { 'Content-Type': 'application/json' };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  if (options.relayOnly !== undefined && typeof options.relayOnly !== 'boolean')
    throw new MeshmeetError('invalid-argument', '`relayOnly` must be a boolean');
  const request = {};
  if (options.name !== undefined) request.name = options.name;
  if (options.relayOnly) request.relayOnly = true;
  const body = JSON.stringify(request);
  const meeting = await requestApi(base, '/api/meetings', { method: 'POST', headers, body }, options.fetch ?? globalThis.fetch);
  // A v1 server knows no relayOnly (and ignored the request for it).
  return { ...meeting, relayOnly: meeting.relayOnly === true, link: new URL(meeting.url, base).href };
}

/** Looks a meeting up: its name, how many are in it now, and whether it is relay-only. */
export async function getMeeting(serverUrl, meetingId, options = {}) {
  const base = httpBase(serverUrl);
  const meeting = await requestApi(base, `/api/meetings/${encodeURIComponent(meetingId)}`, {}, options.fetch ?? globalThis.fetch);
  return { ...meeting, relayOnly: meeting.relayOnly === true };
}
