// What the core reads from SDPs and candidates, and the relay-only filter:
// which candidates count as relay (by position, not by searching), and that
// taking the others out of an SDP leaves every other byte alone.
#include <doctest/doctest.h>

#include "wasm/core/sdp_fields.hpp"

using meshmeet::core::CandidateType;
using meshmeet::core::ice_candidate_type;
using meshmeet::core::is_active_tcp_candidate;
using meshmeet::core::sdp_relay_candidates_only;
using meshmeet::core::sdp_with_audio_packet_time;
using meshmeet::core::sdp_with_opus_dtx;

TEST_CASE("ice candidate type: host, srflx, prflx, relay, as trickled and as SDP lines") {
  CHECK(ice_candidate_type("candidate:842163049 1 udp 1677729535 192.0.2.7 61665 typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag x network-cost 999") ==
        CandidateType::ServerReflexive);
  CHECK(ice_candidate_type("candidate:1 1 udp 2122260223 10.0.0.5 50000 typ host generation 0") == CandidateType::Host);
  CHECK(ice_candidate_type("candidate:3 1 udp 1853824767 198.51.100.4 4000 typ prflx raddr 10.0.0.5 rport 50000") ==
        CandidateType::PeerReflexive);
  CHECK(ice_candidate_type("candidate:4 1 udp 41885439 203.0.113.9 59001 typ relay raddr 0.0.0.0 rport 0") ==
        CandidateType::Relay);
  CHECK(ice_candidate_type("a=candidate:4 1 udp 41885439 203.0.113.9 59001 typ relay raddr 0.0.0.0 rport 0\r\n") ==
        CandidateType::Relay);
  // ABNF literals are case-insensitive.
  CHECK(ice_candidate_type("candidate:4 1 UDP 41885439 203.0.113.9 59001 TYP Relay") == CandidateType::Relay);
}

TEST_CASE("ice candidate type: mDNS names and TCP candidates are host candidates") {
  CHECK(ice_candidate_type("candidate:2 1 udp 2113937151 3f2a6c1e-9d1b-4a7e-8c55-0123456789ab.local 54321 typ host generation 0") ==
        CandidateType::Host);
  CHECK(ice_candidate_type("candidate:5 1 tcp 1518280447 192.0.2.7 9 typ host tcptype active generation 0") ==
        CandidateType::Host);
  CHECK(ice_candidate_type("candidate:6 1 tcp 1518280447 192.0.2.7 50001 typ srflx raddr 10.0.0.5 rport 9 tcptype passive") ==
        CandidateType::ServerReflexive);
}

TEST_CASE("active TCP candidates: tcp transport and tcptype active, read by position") {
  // What Chromium gathers per interface, beside its UDP candidate.
  CHECK(is_active_tcp_candidate("candidate:698534549 1 tcp 1518214911 127.0.0.1 9 typ host tcptype active generation 0 ufrag vYb2 network-id 3 network-cost 50"));
  CHECK(is_active_tcp_candidate("a=candidate:5 1 TCP 1518280447 fd00::2 9 typ host TCPTYPE Active\r\n"));
  // Passive and simultaneous-open candidates accept connections: kept.
  CHECK_FALSE(is_active_tcp_candidate("candidate:6 1 tcp 1518280447 192.0.2.7 50001 typ srflx raddr 10.0.0.5 rport 9 tcptype passive"));
  CHECK_FALSE(is_active_tcp_candidate("candidate:7 1 tcp 1518280447 192.0.2.7 50002 typ host tcptype so"));
  // UDP, whatever its extensions say; a relay (its own transport is UDP).
  CHECK_FALSE(is_active_tcp_candidate("candidate:1 1 udp 2122260223 10.0.0.5 50000 typ host generation 0"));
  CHECK_FALSE(is_active_tcp_candidate("candidate:1 1 udp 2122260223 10.0.0.5 50000 typ host tcptype active"));
  CHECK_FALSE(is_active_tcp_candidate("candidate:4 1 udp 41885439 203.0.113.9 59001 typ relay raddr 0.0.0.0 rport 0"));
  // "tcptype" read as an extension name, not as a value, and nothing malformed.
  CHECK_FALSE(is_active_tcp_candidate("candidate:8 1 tcp 1518280447 192.0.2.7 9 typ host generation tcptype tcptype passive"));
  CHECK_FALSE(is_active_tcp_candidate("candidate:8 1 tcp 1518280447 192.0.2.7 9 typ host"));
  CHECK_FALSE(is_active_tcp_candidate("candidate:8 1 tcp 1518280447 192.0.2.7 typ host tcptype active"));
  CHECK_FALSE(is_active_tcp_candidate(""));
}

TEST_CASE("ice candidate type: malformed lines are not relay candidates") {
  CHECK_FALSE(ice_candidate_type(""));
  CHECK_FALSE(ice_candidate_type("candidate:"));
  CHECK_FALSE(ice_candidate_type("typ relay"));
  CHECK_FALSE(ice_candidate_type("candidate:4 1 udp 41885439 203.0.113.9 59001 relay"));           // no "typ"
  CHECK_FALSE(ice_candidate_type("candidate:4 1 udp 41885439 203.0.113.9 typ relay"));             // no port
  CHECK_FALSE(ice_candidate_type("candidate:4 x udp 41885439 203.0.113.9 59001 typ relay"));       // component
  CHECK_FALSE(ice_candidate_type("candidate:4 1 udp high 203.0.113.9 59001 typ relay"));          // priority
  CHECK_FALSE(ice_candidate_type("candidate:4 1 udp 41885439 203.0.113.9 590011 typ relay"));     // port
  CHECK_FALSE(ice_candidate_type("candidate:4 1 udp 41885439 203.0.113.9 59001 typ turn"));       // unknown type
  CHECK_FALSE(ice_candidate_type("a=fingerprint:sha-256 AB:CD"));
  // A host candidate cannot pass as relay by carrying "typ relay" among its extensions.
  CHECK(ice_candidate_type("candidate:1 1 udp 2122260223 10.0.0.5 50000 typ host x typ relay") == CandidateType::Host);
  CHECK_FALSE(ice_candidate_type("candidate:1 1 udp 2122260223 10.0.0.5 typ relay 50000 typ host"));
}

TEST_CASE("relay-only SDP: non-relay candidates leave every m-section; everything else stays byte for byte") {
  const std::string sdp =
      "v=0\r\n"
      "o=- 1 2 IN IP4 127.0.0.1\r\n"
      "s=-\r\n"
      "t=0 0\r\n"
      "a=group:BUNDLE 0 1\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
      "c=IN IP4 0.0.0.0\r\n"
      "a=ice-ufrag:abcd\r\n"
      "a=candidate:1 1 udp 2122260223 10.0.0.5 50000 typ host generation 0\r\n"
      "a=candidate:2 1 udp 2113937151 3f2a6c1e.local 54321 typ host\r\n"
      "a=candidate:3 1 udp 1677729535 192.0.2.7 61665 typ srflx raddr 0.0.0.0 rport 0\r\n"
      "a=candidate:4 1 udp 41885439 203.0.113.9 59001 typ relay raddr 0.0.0.0 rport 0\r\n"
      "a=candidate:5 1 tcp 1518280447 192.0.2.7 9 typ host tcptype active\r\n"
      "a=candidate:garbage\r\n"
      "a=end-of-candidates\r\n"
      "a=mid:0\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
      "c=IN IP4 0.0.0.0\r\n"
      "a=candidate:6 1 udp 1853824767 198.51.100.4 4000 typ prflx raddr 10.0.0.5 rport 50000\r\n"
      "a=candidate:7 1 udp 41885439 203.0.113.9 59002 typ relay raddr 0.0.0.0 rport 0\r\n"
      "a=end-of-candidates\r\n"
      "a=mid:1\r\n";
  const std::string expected =
      "v=0\r\n"
      "o=- 1 2 IN IP4 127.0.0.1\r\n"
      "s=-\r\n"
      "t=0 0\r\n"
      "a=group:BUNDLE 0 1\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
      "c=IN IP4 0.0.0.0\r\n"
      "a=ice-ufrag:abcd\r\n"
      "a=candidate:4 1 udp 41885439 203.0.113.9 59001 typ relay raddr 0.0.0.0 rport 0\r\n"
      "a=end-of-candidates\r\n"
      "a=mid:0\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
      "c=IN IP4 0.0.0.0\r\n"
      "a=candidate:7 1 udp 41885439 203.0.113.9 59002 typ relay raddr 0.0.0.0 rport 0\r\n"
      "a=end-of-candidates\r\n"
      "a=mid:1\r\n";
  int removed = -1;
  CHECK(sdp_relay_candidates_only(sdp, removed) == expected);
  CHECK(removed == 6);
  // Idempotent: a filtered SDP passes unchanged.
  CHECK(sdp_relay_candidates_only(expected, removed) == expected);
  CHECK(removed == 0);
}

TEST_CASE("relay-only SDP: LF-only line endings and a last line without one are kept as they are") {
  int removed = 0;
  CHECK(sdp_relay_candidates_only("v=0\na=candidate:1 1 udp 1 10.0.0.5 9 typ host\na=mid:0", removed) == "v=0\na=mid:0");
  CHECK(removed == 1);
  CHECK(sdp_relay_candidates_only("v=0\na=candidate:1 1 udp 1 203.0.113.9 9 typ relay", removed) ==
        "v=0\na=candidate:1 1 udp 1 203.0.113.9 9 typ relay");
  CHECK(removed == 0);
  CHECK(sdp_relay_candidates_only("", removed).empty());
  CHECK(sdp_relay_candidates_only("v=0\r\nA=CANDIDATE:1 1 udp 1 10.0.0.5 9 typ host\r\n", removed) == "v=0\r\n");
  CHECK(removed == 1);
}

TEST_CASE("opus DTX: usedtx=1 joins the Opus format's parameters, in the audio section only") {
  const std::string sdp =
      "v=0\r\n"
      "a=group:BUNDLE 0 1\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9\r\n"
      "a=rtpmap:111 opus/48000/2\r\n"
      "a=rtcp-fb:111 transport-cc\r\n"
      "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
      "a=rtpmap:63 red/48000/2\r\n"
      "a=fmtp:63 111/111\r\n"
      "a=rtpmap:9 G722/8000\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 96 111\r\n"
      "a=rtpmap:96 VP8/90000\r\n"
      "a=rtpmap:111 H264/90000\r\n"  // the same number, another section: not Opus
      "a=fmtp:111 profile-level-id=42e01f\r\n";
  int changed = -1;
  const std::string out = sdp_with_opus_dtx(sdp, changed);
  CHECK(changed == 1);
  CHECK(out.find("a=fmtp:111 minptime=10;useinbandfec=1;usedtx=1\r\n") != std::string::npos);
  CHECK(out.find("a=fmtp:63 111/111\r\n") != std::string::npos);                 // RED untouched
  CHECK(out.find("a=fmtp:111 profile-level-id=42e01f\r\n") != std::string::npos);  // the video's 111
  CHECK(out.size() == sdp.size() + std::string(";usedtx=1").size());
  // Idempotent.
  CHECK(sdp_with_opus_dtx(out, changed) == out);
  CHECK(changed == 0);
}

TEST_CASE("opus DTX: a format without parameters gets a line; a peer's usedtx=0 is kept") {
  int changed = -1;
  CHECK(sdp_with_opus_dtx("m=audio 9 RTP/SAVPF 111\na=rtpmap:111 OPUS/48000/2\na=mid:0\n", changed) ==
        "m=audio 9 RTP/SAVPF 111\na=rtpmap:111 OPUS/48000/2\na=fmtp:111 usedtx=1\na=mid:0\n");
  CHECK(changed == 1);
  // The fmtp line may come before the rtpmap line.
  CHECK(sdp_with_opus_dtx("m=audio 9 RTP/SAVPF 111\r\na=fmtp:111 stereo=1\r\na=rtpmap:111 opus/48000/2\r\n", changed) ==
        "m=audio 9 RTP/SAVPF 111\r\na=fmtp:111 stereo=1;usedtx=1\r\na=rtpmap:111 opus/48000/2\r\n");
  CHECK(changed == 1);
  const std::string refuses = "m=audio 9 RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10; UseDTX=0\r\n";
  CHECK(sdp_with_opus_dtx(refuses, changed) == refuses);
  CHECK(changed == 0);
  // The last line without an ending, and no audio at all.
  CHECK(sdp_with_opus_dtx("m=audio 9 RTP/SAVPF 111\na=rtpmap:111 opus/48000/2", changed) ==
        "m=audio 9 RTP/SAVPF 111\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 usedtx=1");
  CHECK(sdp_with_opus_dtx("v=0\r\nm=video 9 RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n", changed) ==
        "v=0\r\nm=video 9 RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n");
  CHECK(changed == 0);
  CHECK(sdp_with_opus_dtx("", changed).empty());
}

TEST_CASE("audio packet time: a=ptime follows the first Opus rtpmap of each section that has none") {
  const std::string sdp =
      "v=0\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 63 111 9\r\n"
      "c=IN IP4 0.0.0.0\r\n"
      "a=rtpmap:63 red/48000/2\r\n"
      "a=rtpmap:111 opus/48000/2\r\n"
      "a=fmtp:111 minptime=10;useinbandfec=1;usedtx=1\r\n"
      "a=rtpmap:9 G722/8000\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
      "a=rtpmap:96 VP8/90000\r\n";
  int changed = -1;
  const std::string out = sdp_with_audio_packet_time(sdp, 40, changed);
  CHECK(changed == 1);
  CHECK(out.find("a=rtpmap:111 opus/48000/2\r\na=ptime:40\r\na=fmtp:111 ") != std::string::npos);
  CHECK(out.size() == sdp.size() + std::string("a=ptime:40\r\n").size());
  CHECK(out.find("m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n") != std::string::npos);
  // Idempotent: the section says a ptime now.
  CHECK(sdp_with_audio_packet_time(out, 40, changed) == out);
  CHECK(changed == 0);
}

TEST_CASE("audio packet time: a peer's own ptime is kept; LF endings, a last line without one, no Opus") {
  int changed = -1;
  const std::string own = "m=audio 9 RTP/SAVPF 111\r\na=ptime:20\r\na=rtpmap:111 opus/48000/2\r\n";
  CHECK(sdp_with_audio_packet_time(own, 40, changed) == own);
  CHECK(changed == 0);
  CHECK(sdp_with_audio_packet_time("m=audio 9 RTP/SAVPF 111\na=rtpmap:111 OPUS/48000/2\na=mid:0\n", 40, changed) ==
        "m=audio 9 RTP/SAVPF 111\na=rtpmap:111 OPUS/48000/2\na=ptime:40\na=mid:0\n");
  CHECK(changed == 1);
  CHECK(sdp_with_audio_packet_time("m=audio 9 RTP/SAVPF 111\na=rtpmap:111 opus/48000/2", 60, changed) ==
        "m=audio 9 RTP/SAVPF 111\na=rtpmap:111 opus/48000/2\r\na=ptime:60");
  CHECK(changed == 1);
  // Two audio sections: each gets its own line.
  CHECK(sdp_with_audio_packet_time("m=audio 9 RTP/SAVPF 111\na=rtpmap:111 opus/48000/2\nm=audio 9 RTP/SAVPF 111\na=rtpmap:111 opus/48000/2\n", 40, changed) ==
        "m=audio 9 RTP/SAVPF 111\na=rtpmap:111 opus/48000/2\na=ptime:40\nm=audio 9 RTP/SAVPF 111\na=rtpmap:111 opus/48000/2\na=ptime:40\n");
  CHECK(changed == 2);
  const std::string g722 = "m=audio 9 RTP/SAVPF 9\r\na=rtpmap:9 G722/8000\r\n";
  CHECK(sdp_with_audio_packet_time(g722, 40, changed) == g722);
  CHECK(changed == 0);
  CHECK(sdp_with_audio_packet_time("", 40, changed).empty());
}
