// Plausible browser-like session descriptions and ICE candidates, so relayed
// messages have the size and shape of a real mesh client's (~3 KB offers).
#include "common.hpp"

#include <cstdio>
#include <random>

namespace lg {

namespace {

std::string rand_token(std::mt19937_64& rng, size_t n) {
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/";
    std::string s;
    s.reserve(n);
    for (size_t i = 0; i < n; i++) s += alphabet[rng() % 64];
    return s;
}

std::string rand_fingerprint(std::mt19937_64& rng) {
    std::string s;
    char buf[4];
    for (int i = 0; i < 32; i++) {
        std::snprintf(buf, sizeof buf, "%02X", unsigned(rng() & 0xff));
        if (i) s += ':';
        s += buf;
    }
    return s;
}

}  // namespace

std::string make_sdp(uint64_t seed, bool offer) {
    std::mt19937_64 rng(seed * 2654435761ULL + (offer ? 1 : 2));
    const std::string ufrag = rand_token(rng, 4);
    const std::string pwd = rand_token(rng, 24);
    const std::string fp = rand_fingerprint(rng);
    const std::string msid = rand_token(rng, 36);
    const std::string setup = offer ? "actpass" : "active";
    const unsigned ssrc_a = unsigned(rng()), ssrc_v = unsigned(rng()), ssrc_r = unsigned(rng());
    const std::string cname = rand_token(rng, 16);
    std::string s;
    s.reserve(3300);
    auto L = [&s](const std::string& line) { s += line; s += "\r\n"; };
    L("v=0");
    L("o=- " + std::to_string(rng() % 9000000000000000000ULL) + " 2 IN IP4 127.0.0.1");
    L("s=-");
    L("t=0 0");
    L("a=group:BUNDLE 0 1");
    L("a=extmap-allow-mixed");
    L("a=msid-semantic: WMS " + msid);
    // audio
    L("m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126");
    L("c=IN IP4 0.0.0.0");
    L("a=rtcp:9 IN IP4 0.0.0.0");
    L("a=ice-ufrag:" + ufrag);
    L("a=ice-pwd:" + pwd);
    L("a=ice-options:trickle");
    L("a=fingerprint:sha-256 " + fp);
    L("a=setup:" + setup);
    L("a=mid:0");
    L("a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level");
    L("a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time");
    L("a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01");
    L("a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid");
    L("a=sendrecv");
    L("a=msid:" + msid + " " + rand_token(rng, 36));
    L("a=rtcp-mux");
    L("a=rtpmap:111 opus/48000/2");
    L("a=rtcp-fb:111 transport-cc");
    L("a=fmtp:111 minptime=10;useinbandfec=1");
    L("a=rtpmap:63 red/48000/2");
    L("a=fmtp:63 111/111");
    L("a=rtpmap:9 G722/8000");
    L("a=rtpmap:0 PCMU/8000");
    L("a=rtpmap:8 PCMA/8000");
    L("a=rtpmap:13 CN/8000");
    L("a=rtpmap:110 telephone-event/48000");
    L("a=rtpmap:126 telephone-event/8000");
    L("a=ssrc:" + std::to_string(ssrc_a) + " cname:" + cname);
    // video
    L("m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 106 107 98 99 45 46");
    L("c=IN IP4 0.0.0.0");
    L("a=rtcp:9 IN IP4 0.0.0.0");
    L("a=ice-ufrag:" + ufrag);
    L("a=ice-pwd:" + pwd);
    L("a=ice-options:trickle");
    L("a=fingerprint:sha-256 " + fp);
    L("a=setup:" + setup);
    L("a=mid:1");
    L("a=extmap:14 urn:ietf:params:rtp-hdrext:toffset");
    L("a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time");
    L("a=extmap:13 urn:3gpp:video-orientation");
    L("a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01");
    L("a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid");
    L("a=sendrecv");
    L("a=msid:" + msid + " " + rand_token(rng, 36));
    L("a=rtcp-mux");
    L("a=rtcp-rsize");
    struct Codec { int pt; const char* name; const char* fmtp; };
    const Codec codecs[] = {
        {96, "VP8/90000", nullptr},
        {97, "rtx/90000", "apt=96"},
        {102, "H264/90000", "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f"},
        {103, "rtx/90000", "apt=102"},
        {106, "H264/90000", "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"},
        {107, "rtx/90000", "apt=106"},
        {98, "VP9/90000", "profile-id=0"},
        {99, "rtx/90000", "apt=98"},
        {45, "AV1/90000", "level-idx=5;profile=0;tier=0"},
        {46, "rtx/90000", "apt=45"},
    };
    for (const auto& c : codecs) {
        const std::string pt = std::to_string(c.pt);
        L("a=rtpmap:" + pt + " " + c.name);
        if (std::string(c.name).rfind("rtx", 0) != 0) {
            L("a=rtcp-fb:" + pt + " goog-remb");
            L("a=rtcp-fb:" + pt + " transport-cc");
            L("a=rtcp-fb:" + pt + " nack");
            L("a=rtcp-fb:" + pt + " nack pli");
        }
        if (c.fmtp) L("a=fmtp:" + pt + " " + c.fmtp);
    }
    L("a=ssrc-group:FID " + std::to_string(ssrc_v) + " " + std::to_string(ssrc_r));
    L("a=ssrc:" + std::to_string(ssrc_v) + " cname:" + cname);
    L("a=ssrc:" + std::to_string(ssrc_r) + " cname:" + cname);
    return s;
}

std::vector<std::string> make_candidates(uint64_t seed, int n) {
    std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ULL + 7);
    const std::string ufrag = rand_token(rng, 4);
    std::vector<std::string> out;
    const unsigned lan_port = 50000 + unsigned(rng() % 15000);
    const unsigned wan_port = 20000 + unsigned(rng() % 40000);
    const std::string lan = "192.168." + std::to_string(rng() % 255) + "." + std::to_string(2 + rng() % 250);
    const std::string wan = "203.0.113." + std::to_string(1 + rng() % 254);
    for (int i = 0; i < n; i++) {
        const std::string found = std::to_string(rng() % 4000000000ULL);
        std::string c;
        switch (i % 5) {
            case 0: c = "candidate:" + found + " 1 udp 2122260223 " + lan + " " + std::to_string(lan_port) + " typ host generation 0 ufrag " + ufrag + " network-id 1 network-cost 10"; break;
            case 1: c = "candidate:" + found + " 1 tcp 1518280447 " + lan + " 9 typ host tcptype active generation 0 ufrag " + ufrag + " network-id 1 network-cost 10"; break;
            case 2: c = "candidate:" + found + " 1 udp 1686052607 " + wan + " " + std::to_string(wan_port) + " typ srflx raddr " + lan + " rport " + std::to_string(lan_port) + " generation 0 ufrag " + ufrag + " network-id 1 network-cost 10"; break;
            case 3: c = "candidate:" + found + " 1 udp 41885439 198.51.100.20 " + std::to_string(3478 + i) + " typ relay raddr " + wan + " rport " + std::to_string(wan_port) + " generation 0 ufrag " + ufrag + " network-id 1 network-cost 10"; break;
            default: c = "candidate:" + found + " 1 udp 2122194687 10.0." + std::to_string(rng() % 255) + ".7 " + std::to_string(lan_port + 1) + " typ host generation 0 ufrag " + ufrag + " network-id 2 network-cost 50"; break;
        }
        out.push_back(std::move(c));
    }
    return out;
}

std::string json_escape(const std::string& s) {
    // dump() of a JSON string gives the quoted, escaped form.
    return json(s).dump();
}

}  // namespace lg
