// App data over the mesh: what `meeting.send(data, {to, reliable})` puts on
// the wire and what a 'data' event is read from.
//
// Two data channels per peer connection, beside the core's own ('meshmeet',
// id 0: the core's control messages):
//   'meshmeet-app'       id 1, reliable and ordered: a message is cut into
//                        chunks of CHUNK_BYTES, put back together in order;
//   'meshmeet-app-lossy' id 2, unordered, never retransmitted (cursors, game
//                        state): one message in one chunk; one lost stays lost.
// Negotiated (both ends create them with the connection, nobody announces
// them): they ride on the SCTP association the core's channel sets up, and
// live exactly as long as the connection.
//
// Why the bytes do not pass through the core: it decides nothing about them.
// Which connection is whose and whether it is open, the shim knows from the
// core's own outputs and the channels themselves.
//
// A chunk is [kind, last, ...payload]: kind says how the whole message is
// read back (UTF-8 text, JSON, or bytes), last is 1 on its final chunk.

export const CHUNK_BYTES = 64 * 1024;  // under every browser's SCTP max-message-size (Chrome: 256 KiB)
export const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;      // a reliable message, before chunking
export const MAX_LOSSY_BYTES = CHUNK_BYTES - 2;        // a lossy message: one chunk
// What may wait in one channel's send buffer. Chrome refuses (and used to
// close the channel) past 16 MiB; a lossy channel's backlog is stale anyway.
export const SEND_BUFFER_BYTES = { reliable: 12 * 1024 * 1024, lossy: 1024 * 1024 };

const Kind = { Text: 0, Json: 1, Bytes: 2 };
const HEADER = 2;

/** Opens the two app channels on a new connection. Throws what the browser throws. */
export function openAppChannels(pc) {
  const reliable = pc.createDataChannel('meshmeet-app', { negotiated: true, id: 1 });
  const lossy = pc.createDataChannel('meshmeet-app-lossy', { negotiated: true, id: 2, ordered: false, maxRetransmits: 0 });
  for (const channel of [reliable, lossy]) channel.binaryType = 'arraybuffer';
  return { reliable, lossy };
}

/**
 * What `data` is sent as: {kind, bytes}, or {problem} for what cannot be sent
 * (a Blob, a function, a cyclic object...).
 */
export function encodeAppData(data) {
  if (typeof data === 'string') return { kind: Kind.Text, bytes: new TextEncoder().encode(data) };
  if (data instanceof ArrayBuffer) return { kind: Kind.Bytes, bytes: new Uint8Array(data) };
  if (ArrayBuffer.isView(data)) return { kind: Kind.Bytes, bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  if (typeof Blob !== 'undefined' && data instanceof Blob) return { problem: 'a Blob cannot be sent as is: send await blob.arrayBuffer()' };
  let json;
  try {
    json = JSON.stringify(data);
  } catch (e) {
    return { problem: `data is not JSON-serializable: ${e.message}` };
  }
  if (json === undefined) return { problem: `data of type ${typeof data} cannot be sent` };
  return { kind: Kind.Json, bytes: new TextEncoder().encode(json) };
}

/** The chunks of one message, in order. */
export function* appDataChunks({ kind, bytes }) {
  let at = 0;
  do {
    const end = Math.min(bytes.length, at + CHUNK_BYTES - HEADER);
    const chunk = new Uint8Array(HEADER + end - at);
    chunk[0] = kind;
    chunk[1] = end === bytes.length ? 1 : 0;
    chunk.set(bytes.subarray(at, end), HEADER);
    yield chunk;
    at = end;
  } while (at < bytes.length);
}

/**
 * Puts one channel's chunks back together. push() returns {data} when a
 * message is complete, {problem} when what arrived cannot be a message
 * (a hostile or broken peer: that message is dropped, the next one read),
 * or null while a message is still coming.
 */
export class AppDataReader {
  constructor() {
    this._parts = [];
    this._bytes = 0;
    this._kind = -1;
    this._oversized = false;
  }

  push(chunk) {
    if (!(chunk instanceof ArrayBuffer) || chunk.byteLength < HEADER) return this._drop('a chunk without a header');
    const head = new Uint8Array(chunk, 0, HEADER);
    const [kind, last] = head;
    if (kind > Kind.Bytes || last > 1) return this._drop(`a chunk of unknown kind ${kind}/${last}`);
    if (this._parts.length > 0 && kind !== this._kind) return this._drop('a chunk of another message in the middle of one');
    this._kind = kind;
    this._bytes += chunk.byteLength - HEADER;
    if (this._bytes > MAX_MESSAGE_BYTES) this._oversized = true;
    else this._parts.push(new Uint8Array(chunk, HEADER));
    if (!last) return null;
    if (this._oversized) return this._drop(`a message over ${MAX_MESSAGE_BYTES} bytes`);
    const bytes = this._parts.length === 1 ? this._parts[0] : concat(this._parts, this._bytes);
    this._reset();
    return decode(kind, bytes);
  }

  _drop(problem) {
    this._reset();
    return { problem };
  }

  _reset() {
    this._parts = [];
    this._bytes = 0;
    this._kind = -1;
    this._oversized = false;
  }
}

function concat(parts, total) {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function decode(kind, bytes) {
  if (kind === Kind.Bytes) {
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    return { data: whole ? bytes.buffer : bytes.slice().buffer };
  }
  let text;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { problem: 'text that is not UTF-8' };
  }
  if (kind === Kind.Text) return { data: text };
  try {
    return { data: JSON.parse(text) };
  } catch {
    return { problem: 'JSON that does not parse' };
  }
}
