// Dev tool, injected by mesh-repro.mjs with DUMP=1: wraps RTCPeerConnection to
// record each connection's API calls, events, SDP directions and ufrags, and
// window.__dump() returns them with transceivers and RTP stats.
(() => {
  const Orig = window.RTCPeerConnection;
  window.__pcs = [];
  const t0 = performance.now();
  const ts = () => Math.round(performance.now() - t0);
  window.RTCPeerConnection = function (...a) {
    const pc = new Orig(...a);
    const rec = { pc, log: [], n: window.__pcs.length };
    window.__pcs.push(rec);
    const L = (s) => rec.log.push(ts() + ' ' + s);
    const sld = pc.setLocalDescription.bind(pc), srd = pc.setRemoteDescription.bind(pc), at = pc.addTrack.bind(pc);
    pc.setLocalDescription = (d) => { L('SLD(' + (d ? d.type : '') + ') in ' + pc.signalingState); return sld(d).then((r) => { L('SLD done -> ' + pc.signalingState + ' local=' + pc.localDescription?.type + ' ' + dirs(pc.localDescription?.sdp)); return r; }, (e) => { L('SLD fail ' + e.name + ' ' + e.message); throw e; }); };
    pc.setRemoteDescription = (d) => { L('SRD(' + d.type + ') in ' + pc.signalingState + ' ' + dirs(d.sdp)); return srd(d).then((r) => { L('SRD done -> ' + pc.signalingState); return r; }, (e) => { L('SRD fail ' + e.name + ' ' + e.message); throw e; }); };
    pc.addTrack = (tr, ...s) => { L('addTrack ' + tr.kind + ' in ' + pc.signalingState); return at(tr, ...s); };
    const aic = pc.addIceCandidate.bind(pc);
    pc.addIceCandidate = (c) => { L('addIceCandidate ufrag=' + (c?.usernameFragment ?? '-') + ' in ' + pc.signalingState); return aic(c).then((r) => { L('aic done'); return r; }, (e) => { L('aic fail ' + e.name + ' ' + e.message); throw e; }); };
    pc.addEventListener('icecandidate', (e) => L('icecandidate ' + (e.candidate ? 'ufrag=' + e.candidate.usernameFragment + ' ' + e.candidate.type : 'end')));
    pc.addEventListener('icegatheringstatechange', () => L('gathering ' + pc.iceGatheringState));
    pc.addEventListener('negotiationneeded', () => L('negotiationneeded in ' + pc.signalingState));
    pc.addEventListener('signalingstatechange', () => L('signaling ' + pc.signalingState));
    pc.addEventListener('iceconnectionstatechange', () => L('ice ' + pc.iceConnectionState));
    pc.addEventListener('connectionstatechange', () => L('conn ' + pc.connectionState));
    pc.addEventListener('track', (e) => L('track ' + e.track.kind + ' ' + e.track.id.slice(0, 8) + ' mid=' + e.transceiver.mid + ' streams=' + e.streams.map((s) => s.id).join(',')));
    return pc;
  };
  window.RTCPeerConnection.prototype = Orig.prototype;
  function dirs(sdp) {
    if (!sdp) return '';
    const out = []; let m = null;
    for (const line of sdp.split(/\r?\n/)) {
      if (line.startsWith('m=')) { m = { k: line.slice(2, 7) }; out.push(m); }
      else if (m && /^a=(sendrecv|sendonly|recvonly|inactive)$/.test(line)) m.d = line.slice(2);
      else if (m && line.startsWith('a=mid:')) m.mid = line.slice(6);
      else if (m && line.startsWith('a=msid:')) m.msid = line.slice(7).split(' ')[0].slice(0, 6);
      else if (line.startsWith('a=ice-ufrag:') && m) m.u = line.slice(12);
    }
    return out.map((x) => `${x.mid}:${x.k}/${x.d ?? ''}${x.msid ? '/' + x.msid : ''}`).join(' ') + ' ufrag=' + (out[0]?.u ?? '');
  }
  window.__dump = async () => {
    const res = [];
    for (const r of window.__pcs) {
      const pc = r.pc;
      const stats = await pc.getStats();
      const inb = [];
      stats.forEach((s) => { if (s.type === 'inbound-rtp') inb.push(`${s.kind}:${s.mid}:pk${s.packetsReceived}:fr${s.framesDecoded ?? '-'}`); });
      const outb = [];
      stats.forEach((s) => { if (s.type === 'outbound-rtp') outb.push(`${s.kind}:${s.mid}:pk${s.packetsSent}`); });
      res.push({ n: r.n, sig: pc.signalingState, ice: pc.iceConnectionState, conn: pc.connectionState,
        tx: pc.getTransceivers().map((t) => `${t.mid}:${t.receiver.track.kind}:${t.direction}/${t.currentDirection}:snd=${t.sender.track ? 'y' : 'n'}:rmuted=${t.receiver.track.muted}:rid=${t.receiver.track.id.slice(0, 8)}`),
        inb, outb, log: r.log });
    }
    return res;
  };
})();
