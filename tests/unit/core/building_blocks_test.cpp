// The core's small pieces, each on its own: hashing and the verification
// code, SDP fields, the uplink split, quality levels, the peer signal
// format, options, the output JSON and the seeded random source.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "wasm/core/client.hpp"
#include "wasm/core/client_config.hpp"
#include "wasm/core/cpu_load.hpp"
#include "wasm/core/outputs.hpp"
#include "wasm/core/peer_signal.hpp"
#include "wasm/core/quality.hpp"
#include "wasm/core/random.hpp"
#include "wasm/core/sdp_fields.hpp"
#include "wasm/core/uplink_budget.hpp"
#include "wasm/core/verification_code.hpp"

using namespace meshmeet::core;

namespace {

std::string hex(const std::array<std::uint8_t, 32>& d) {
  static const char* k = "0123456789abcdef";
  std::string out;
  for (auto b : d) {
    out += k[b >> 4];
    out += k[b & 15];
  }
  return out;
}

// The shape of a Chrome offer, trimmed.
const char* kChromeOffer =
    "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
    "a=msid-semantic: WMS\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:Xk3q\r\na=ice-pwd:8vGnJ4Kf0lXoXbqmbB3vL9bq\r\na=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 4B:9E:C2:1A:0F:33:71:AA:DE:5C:90:12:34:56:78:9A:BC:DE:F0:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD\r\n"
    "a=setup:actpass\r\na=mid:0\r\n";

}  // namespace

TEST_CASE("sha256 matches the FIPS 180-2 test vectors") {
  CHECK(hex(sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(hex(sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(hex(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // Padding boundaries: 55 bytes fit one block, 64 need a second.
  CHECK(hex(sha256(std::string(55, 'a'))) == "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  CHECK(hex(sha256(std::string(64, 'a'))) == "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
  CHECK(hex(sha256(std::string(1000, 'a'))) == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
}

TEST_CASE("sdp fields: fingerprints and ice-ufrag as a browser writes them") {
  CHECK(sdp_fingerprints(kChromeOffer).canonical() ==
        "sha-256 4B:9E:C2:1A:0F:33:71:AA:DE:5C:90:12:34:56:78:9A:BC:DE:F0:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD");
  CHECK(sdp_fingerprints(kChromeOffer).problem.empty());
  CHECK(sdp_ice_ufrag(kChromeOffer) == "Xk3q");
  // Case of the algorithm and hex digits does not matter; the form is normalized.
  CHECK(sdp_fingerprints("a=fingerprint:SHA-256 ab:cd\n").canonical() == "sha-256 AB:CD");
  CHECK(sdp_fingerprints("v=0\r\n").canonical().empty());
  CHECK(sdp_ice_ufrag("v=0\r\n").empty());
}

TEST_CASE("sdp fields: every fingerprint line counts, and two different ones of one algorithm are refused") {
  const std::string honest = "AA:BB:CC", relay = "11:22:33";
  // The same certificate named at session level and in every m-section (Firefox), in either case: one entry.
  auto same = sdp_fingerprints("v=0\r\na=fingerprint:sha-256 aa:bb:cc\r\nm=audio 9\r\na=fingerprint:SHA-256 AA:BB:CC\r\n"
                               "m=video 9\r\na=fingerprint:sha-256 AA:BB:CC\r\n");
  CHECK(same.problem.empty());
  CHECK(same.canonical() == "sha-256 AA:BB:CC");
  // A hostile server's tricks: the honest line where the code used to be
  // read (first) and its own where the browser looks (media level, or last).
  for (const std::string& sdp : {
           "v=0\r\na=fingerprint:sha-256 " + honest + "\r\nm=audio 9\r\na=fingerprint:sha-256 " + relay + "\r\n",
           "v=0\r\nm=audio 9\r\na=fingerprint:sha-256 " + honest + "\r\na=fingerprint:sha-256 " + relay + "\r\n",
           "v=0\r\na=fingerprint:sha-256 " + relay + "\r\na=fingerprint:sha-256 " + honest + "\r\n",
       }) {
    CAPTURE(sdp);
    const auto fps = sdp_fingerprints(sdp);
    CHECK(fps.problem == "two different sha-256 fingerprints");
  }
  // Another algorithm's line is not a contradiction, but it is in the code:
  // the peer's own SDP did not name it, so the two codes differ.
  auto extra = sdp_fingerprints("v=0\r\na=fingerprint:sha-256 " + honest + "\r\na=fingerprint:sha-1 " + relay + "\r\n");
  CHECK(extra.problem.empty());
  CHECK(extra.canonical() == "sha-1 " + relay + ",sha-256 " + honest);
  // Malformed values are refused rather than read past.
  for (const char* bad : {"a=fingerprint:sha-256\r\n", "a=fingerprint:sha-256 AB:CD extra\r\n", "a=fingerprint:sha-256 ABC:D\r\n",
                          "a=fingerprint:sha-256 AB,CD\r\n", "a=fingerprint:sha-256 ZZ:00\r\n"}) {
    CAPTURE(bad);
    CHECK_FALSE(sdp_fingerprints(bad).problem.empty());
  }
}

TEST_CASE("verification code: six digits, bound to both fingerprints and both nonces") {
  const std::string a = "sha-256 AA:BB:CC", b = "sha-256 11:22:33", c = "sha-256 11:22:34";
  const std::string na(32, '1'), nb(32, '2'), nc(32, '3');
  const std::string code = verification_code(a, b, na, nb);
  REQUIRE(code.size() == 7);
  CHECK(code[3] == ' ');
  for (int i : {0, 1, 2, 4, 5, 6}) CHECK(std::isdigit(static_cast<unsigned char>(code[i])));
  CHECK(verification_code(a, c, na, nb) != code);  // a middleman's certificate changes the code
  CHECK(verification_code(a, b, na, nc) != code);  // so does either nonce
  CHECK(verification_code(a, b, nc, nb) != code);
  CHECK(verification_commitment(na, a) != verification_commitment(na, c));
  CHECK(verification_commitment(na, a).size() == 64);

  // Codes spread over the space (no stuck digits).
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) seen.insert(verification_code(a, b, na, std::to_string(i)));
  CHECK(seen.size() >= 199);
}

namespace {

// Carries the data-channel texts of one end's verification to the other.
void deliver(VerificationCode& to, const std::vector<std::string>& texts, std::vector<std::string>& replies) {
  for (const auto& t : texts) CHECK(to.on_message(t, replies));
}

std::string sdp_with(const std::string& fingerprint) { return "a=fingerprint:sha-256 " + fingerprint + "\r\n"; }

// A fresh connection between certificates 0A:0A (committer) and 0B:0B; the
// responder sees `committer_seen` as the other end's (a middleman's differs).
void fresh_pair(VerificationCode& committer, VerificationCode& responder, const std::string& committer_seen = "0A:0A") {
  committer.reset(true);
  responder.reset(false);
  committer.set_local_sdp(sdp_with("0A:0A"));
  committer.set_remote_sdp(sdp_with("0B:0B"));
  responder.set_local_sdp(sdp_with("0B:0B"));
  responder.set_remote_sdp(sdp_with(committer_seen));
}

}  // namespace

TEST_CASE("verification code machine: commit, nonce, reveal over the data channel; the same code at both ends") {
  ClientConfig ca, cb;
  ca.seed = 1;
  cb.seed = 2;
  ca.entropy = "a-secret";
  cb.entropy = "b-secret";
  CoreContext ctx_a{ca}, ctx_b{cb};
  PeerTrust trust_a(ctx_a, "b"), trust_b(ctx_b, "a");
  VerificationCode committer(ctx_a, "b", trust_a), responder(ctx_b, "a", trust_b);
  committer.reset(true);
  responder.reset(false);
  CHECK_FALSE(committer.set_local_sdp(sdp_with("0A:0A")));
  CHECK_FALSE(committer.set_remote_sdp(sdp_with("0B:0B")));
  CHECK_FALSE(responder.set_local_sdp(sdp_with("0B:0B")));
  CHECK_FALSE(responder.set_remote_sdp(sdp_with("0A:0A")));
  CHECK(committer.state() == VerificationState::AwaitingExchange);  // fingerprints alone give no code

  CHECK(responder.on_channel_open().empty());  // the responder waits for the commitment
  const auto commit = committer.on_channel_open();
  REQUIRE(commit.size() == 1);
  CHECK(commit[0].find("\"vc-commit\"") != std::string::npos);
  std::vector<std::string> nonce, reveal, nothing;
  deliver(responder, commit, nonce);
  REQUIRE(nonce.size() == 1);
  deliver(committer, nonce, reveal);
  REQUIRE(reveal.size() == 1);
  CHECK(committer.state() == VerificationState::Ready);
  deliver(responder, reveal, nothing);
  CHECK(nothing.empty());
  CHECK(responder.state() == VerificationState::Ready);
  CHECK(committer.code() == responder.code());
  CHECK(committer.code().size() == 7);

  // Renegotiation with the same certificate: same code, no event.
  CHECK_FALSE(committer.set_remote_sdp(sdp_with("0B:0B")));
  // Replays and messages for the other role change nothing.
  std::vector<std::string> replies;
  deliver(committer, commit, replies);
  deliver(responder, commit, replies);
  deliver(responder, reveal, replies);
  CHECK(replies.empty());
  CHECK(committer.code() == responder.code());
  std::string kind, value;
  // Another message that names the exchange is not part of it.
  CHECK_FALSE(responder.on_message(R"({"t":"note","text":"vc-commit"})", replies));
  CHECK_FALSE(responder.on_message(serialize_media_state({true, true, false}), replies));
  CHECK_FALSE(parse_verification_message(R"({"t":"vc-nonce"})", kind, value));

  int events = 0;
  for (const auto& o : ctx_a.drain()) events += std::holds_alternative<VerificationCodeReady>(o);
  CHECK(events == 1);

  // A fresh connection starts over.
  committer.reset(true);
  CHECK(committer.state() == VerificationState::AwaitingExchange);
  CHECK(committer.code().empty());
}

TEST_CASE("verification code machine: the certificate DTLS authenticated must be one the peer named") {
  auto codes_and_errors = [](CoreContext& ctx) {
    int codes = 0, failures = 0;
    for (const auto& o : ctx.drain()) {
      codes += std::holds_alternative<VerificationCodeReady>(o);
      if (auto* e = std::get_if<ErrorEvent>(&o)) failures += e->code == "verification-failed";
    }
    return std::make_pair(codes, failures);
  };
  CoreContext ctx_a{ClientConfig{}}, ctx_b{ClientConfig{}};
  PeerTrust trust_a(ctx_a, "b"), trust_b(ctx_b, "a");
  VerificationCode committer(ctx_a, "b", trust_a), responder(ctx_b, "a", trust_b);
  fresh_pair(committer, responder);
  std::vector<std::string> nonce, reveal, nothing;
  deliver(responder, committer.on_channel_open(), nonce);
  deliver(committer, nonce, reveal);
  deliver(responder, reveal, nothing);
  REQUIRE_FALSE(committer.code().empty());
  codes_and_errors(ctx_a);
  // The one named (in another case): the code stands.
  committer.on_remote_certificate("sha-256 0b:0b");
  CHECK(committer.state() == VerificationState::Ready);
  CHECK(codes_and_errors(ctx_a) == std::make_pair(0, 0));
  // Another algorithm than any the peer named: nothing to compare, the code stands.
  committer.on_remote_certificate("sha-512 0C:0C");
  CHECK(committer.state() == VerificationState::Ready);
  // One the peer never named: a middleman's connection, whatever the SDP said.
  committer.on_remote_certificate("sha-256 0C:0C");
  CHECK(committer.state() == VerificationState::Mismatch);
  CHECK(committer.code().empty());
  CHECK(codes_and_errors(ctx_a) == std::make_pair(0, 1));

  // DTLS can finish before the peer's answer is applied: the check waits for it.
  VerificationCode early(ctx_a, "b", trust_a);
  early.reset(true);
  early.set_local_sdp(sdp_with("0A:0A"));
  early.on_remote_certificate("sha-256 0C:0C");
  CHECK(codes_and_errors(ctx_a) == std::make_pair(0, 0));
  early.set_remote_sdp(sdp_with("0B:0B"));
  CHECK(early.state() == VerificationState::Mismatch);
  CHECK(codes_and_errors(ctx_a) == std::make_pair(0, 1));
}

TEST_CASE("peer trust: marked with the code shown; another code later is 'changed' until marked again") {
  CoreContext ctx{ClientConfig{}};
  PeerTrust trust(ctx, "b");
  CHECK_FALSE(trust.mark(""));  // nothing to vouch for yet
  CHECK(trust.state() == TrustState::Unverified);
  trust.on_code("111 111");     // codes come and go while nobody vouched
  CHECK(trust.state() == TrustState::Unverified);
  CHECK(trust.mark("111 111"));
  CHECK(trust.state() == TrustState::Verified);
  trust.on_code("222 222");     // a fresh connection, or a middleman's
  CHECK(trust.state() == TrustState::CodeChanged);
  trust.on_code("111 111");
  CHECK(trust.state() == TrustState::Verified);
  trust.on_code("333 333");
  CHECK(trust.mark("333 333"));  // compared again
  CHECK(trust.state() == TrustState::Verified);
  CHECK(to_string(TrustState::CodeChanged) == "changed");
}

TEST_CASE("verification code machine: a reveal that does not open the commitment is a mismatch, not a code") {
  CoreContext ctx_a{ClientConfig{}}, ctx_b{ClientConfig{}};
  PeerTrust trust_a(ctx_a, "b"), trust_b(ctx_b, "a");
  VerificationCode committer(ctx_a, "b", trust_a), responder(ctx_b, "a", trust_b);
  fresh_pair(committer, responder);
  std::vector<std::string> nonce, reveal, nothing;
  deliver(responder, committer.on_channel_open(), nonce);
  deliver(committer, nonce, reveal);
  // A middleman that committed to one nonce and reveals another, hoping to steer the code.
  responder.on_message(serialize_verification_message("vc-reveal", std::string(32, 'f')), nothing);
  CHECK(responder.state() == VerificationState::Mismatch);
  CHECK(responder.code().empty());
  bool reported = false;
  for (const auto& o : ctx_b.drain())
    if (auto* e = std::get_if<ErrorEvent>(&o)) reported |= e->code == "verification-failed" && e->peer == "a";
  CHECK(reported);

  // The same with an honest reveal but a swapped certificate (a middleman's) on the responder's side.
  VerificationCode c2(ctx_a, "b", trust_a), r2(ctx_b, "a", trust_b);
  fresh_pair(c2, r2, "0C:0C");  // not the committer's certificate
  std::vector<std::string> n2, rv2, none2;
  deliver(r2, c2.on_channel_open(), n2);
  deliver(c2, n2, rv2);
  deliver(r2, rv2, none2);
  CHECK(r2.state() == VerificationState::Mismatch);
}

TEST_CASE("uplink budget: split across video senders, audio keeps its share, resolution follows bitrate") {
  auto one = split_uplink_budget(2500, 40, 1, true);
  CHECK(one.max_bitrate_bps == 2460000);
  CHECK(one.scale_resolution_down_by == 1.0);
  auto three = split_uplink_budget(2500, 40, 3, true);
  CHECK(three.max_bitrate_bps == 793000);
  CHECK(three.scale_resolution_down_by == 2.0);
  auto seven = split_uplink_budget(2500, 40, 7, true);
  CHECK(seven.max_bitrate_bps == 317000);
  CHECK(seven.scale_resolution_down_by == 3.0);
  // Without a microphone nothing is reserved for audio.
  CHECK(split_uplink_budget(2500, 40, 7, false).max_bitrate_bps == 357000);
  // More peers never get more each; the total never exceeds the budget.
  for (int n = 1; n <= 7; ++n) {
    auto b = split_uplink_budget(2500, 40, n, true);
    CHECK(b.max_bitrate_bps * n + 40000 * n <= 2500000);
    if (n > 1) CHECK(b.max_bitrate_bps < split_uplink_budget(2500, 40, n - 1, true).max_bitrate_bps);
  }
  // A tiny budget still leaves a usable floor instead of zero.
  CHECK(split_uplink_budget(100, 40, 7, true).max_bitrate_bps == 30000);
  CHECK(split_uplink_budget(100, 40, 7, true).scale_resolution_down_by == 4.0);
  CHECK(one.max_framerate == 0);  // a camera keeps its frame rate
}

TEST_CASE("uplink budget: scaled from the source's real height, never below what the budget allows") {
  // Three peers at 2500 kbit/s: 793 kbit/s each affords 360 lines.
  CHECK(split_uplink_budget(2500, 40, 3, true, {720, false}).scale_resolution_down_by == 2.0);   // 720 → 360
  CHECK(split_uplink_budget(2500, 40, 3, true, {480, false}).scale_resolution_down_by == 480.0 / 360);  // not 240
  CHECK(split_uplink_budget(2500, 40, 3, true, {1080, false}).scale_resolution_down_by == 3.0);  // 1080 → 360
  CHECK(split_uplink_budget(2500, 40, 3, true, {240, false}).scale_resolution_down_by == 1.0);   // never upscaled
  // One peer: a 480p camera is sent whole (the old rule assumed 720p and
  // would have sent it at 480 / 1.0 only by luck of the ladder's top).
  CHECK(split_uplink_budget(1200, 40, 1, true, {480, false}).scale_resolution_down_by == 1.0);
  CHECK(split_uplink_budget(1200, 40, 1, true, {720, false}).scale_resolution_down_by == 1.5);
  // Unknown height: taken as 720, as before.
  CHECK(split_uplink_budget(2500, 40, 3, true, {0, false}) == split_uplink_budget(2500, 40, 3, true));
}

TEST_CASE("uplink budget: a camera copy's frame rate follows the size it is sent at") {
  const VideoSource camera{720, false};
  // Drawn 180, 240, 300, 360, 480, 540 and 720 lines high (bitrate to spare).
  const auto b = split_uplink_by_view(20000, 40, true, camera, {180, 240, 300, 360, 480, 540, 720});
  const std::vector<int> expected{15, 15, 20, 20, 25, 25, 0};
  for (std::size_t i = 0; i < b.size(); ++i) {
    CAPTURE(i);
    CHECK(b[i].max_framerate == expected[i]);
  }
  // Seen whole but with a small share of the uplink: sent at 240 lines, so 15 frames/s.
  const auto seven = split_uplink_budget(2500, 40, 7, true, camera);
  CHECK(seven.scale_resolution_down_by == 3.0);
  CHECK(seven.max_framerate == 15);
  // A camera smaller than its tile: the size it has.
  CHECK(split_uplink_by_view(2500, 40, true, {240, false}, {720})[0].max_framerate == 15);
  // A screen keeps its own rule, by bitrate: drawn 240 high it gets what 240
  // lines can use (200 kbit/s) and 5 frames/s, not a thumbnail camera's 15.
  CHECK(split_uplink_by_view(2500, 40, true, {1080, true}, {240})[0].max_framerate == 5);
}

TEST_CASE("uplink budget: a shared screen keeps its resolution and gives up frame rate") {
  // Six people: 2500 kbit/s over five copies, 460 each. A camera would go to
  // 360 lines; a 1080p screen stays 1080p at 5 frames/s, readable.
  const auto screen = split_uplink_budget(2500, 40, 5, true, {1080, true});
  CHECK(screen.scale_resolution_down_by == 1.0);
  CHECK(screen.max_framerate == 5);
  CHECK(screen.max_bitrate_bps == split_uplink_budget(2500, 40, 5, true, {1080, false}).max_bitrate_bps);
  CHECK(split_uplink_budget(2500, 40, 5, true, {1080, false}).scale_resolution_down_by == 3.0);
  // More budget, more frames; a 4K screen is sent at 1080 lines.
  CHECK(split_uplink_budget(2500, 40, 2, true, {1440, true}).max_framerate == 8);
  CHECK(split_uplink_budget(4000, 40, 1, true, {1440, true}).max_framerate == 15);
  CHECK(split_uplink_budget(2500, 40, 1, true, {2160, true}).scale_resolution_down_by == 2.0);
}

TEST_CASE("uplink budget by view: no copy larger than its tile, what small tiles leave goes to the rest, none to a hidden one") {
  // Six people, a 480-line camera: three peers draw us 240 px high, one draws
  // none (its tab is hidden), one did not say (an older peer).
  const VideoSource camera{480, false};
  const auto b = split_uplink_by_view(2500, 40, true, camera, {240, 240, 240, 0, kViewUnknown});
  REQUIRE(b.size() == 5);
  for (int i : {0, 1, 2}) {
    CHECK(b[i].scale_resolution_down_by == 2.0);  // 480 → 240, exactly the tile
    CHECK(b[i].max_bitrate_bps == 200000);         // what 240 lines can use
    CHECK(b[i].active);
  }
  CHECK_FALSE(b[3].active);  // nothing for a tile nobody sees
  // The rest goes to the one that did not say: 2300 − 3 × 200.
  CHECK(b[4].max_bitrate_bps == 1700000);
  CHECK(b[4].scale_resolution_down_by == 1.0);
  CHECK(b[4].active);
  // Everyone unknown: the equal split of before.
  const auto equal = split_uplink_by_view(2500, 40, true, camera, std::vector<int>(5, kViewUnknown));
  for (const auto& e : equal) CHECK(e == split_uplink_budget(2500, 40, 5, true, camera));
  // A tile larger than the source gets the source, never an upscale; a
  // larger tile than the budget affords gets what the budget affords.
  CHECK(split_uplink_by_view(2500, 40, true, camera, {1080})[0].scale_resolution_down_by == 1.0);
  const auto many = split_uplink_by_view(1000, 40, true, {720, false}, {720, 720, 720, 720});
  for (const auto& m : many) CHECK(m.scale_resolution_down_by == 3.0);  // 210 kbit/s each affords 240 lines
  // The total never exceeds the budget, whatever the views.
  for (const std::vector<int>& views : std::vector<std::vector<int>>{{90, 1080, 0, 360}, {4320, 4320}, {1, 2, 3, 4, 5, 6, 7}}) {
    long total = 0;
    for (const auto& x : split_uplink_by_view(2500, 40, true, camera, views)) total += x.active ? x.max_bitrate_bps : 0;
    CHECK(total <= 2500000 - 40000 * static_cast<long>(views.size()));
  }
  // A shared screen drawn small is sent small; drawn whole, whole.
  CHECK(split_uplink_by_view(2500, 40, true, {1080, true}, {540, 1080})[0].scale_resolution_down_by == 2.0);
  CHECK(split_uplink_by_view(2500, 40, true, {1080, true}, {540, 1080})[1].scale_resolution_down_by == 1.0);
}

TEST_CASE("uplink budget by view: CPU steps draw every camera copy smaller together, at the frame rate and bitrate of the size sent, the last one slower still") {
  const VideoSource camera{480, false};
  const std::vector<int> views{240, 240, kViewUnknown};
  const auto at = [&](int step) { return split_uplink_by_view(2500, 40, true, camera, views, step); };
  CHECK(at(0)[0].scale_resolution_down_by == 2.0);
  CHECK(at(1)[0].scale_resolution_down_by == 480.0 / 180);
  CHECK(at(2)[0].scale_resolution_down_by == doctest::Approx(480.0 / 144));  // 0.6 of 240 lines
  CHECK(at(3)[0].scale_resolution_down_by == doctest::Approx(480.0 / 144));
  for (int step = 0; step <= kMaxCpuStep; ++step) {
    CAPTURE(step);
    CHECK(at(step)[0].max_framerate == 15);  // a thumbnail's, at every step
    // The copy limited by nothing but the source, by the size it is sent at:
    // 480 lines 25 frames/s, at the first step 360 lines 20, then 288 lines 20,
    // and the last step's 15.
    CHECK(at(step)[2].max_framerate == std::vector<int>{25, 20, 20, 15}[step]);
    // The copy limited by nothing but the source steps down as well.
    if (step == 1 || step == 2) CHECK(at(step)[2].scale_resolution_down_by > at(step - 1)[2].scale_resolution_down_by);
    // And with the bits of that size: 240 lines could use 200 kb/s, the 180
    // and 144 lines sent under a step 150; the unlimited copy keeps its
    // whole share at ease, and gets the 450 that 360 and 288 lines can use.
    CHECK(at(step)[0].max_bitrate_bps == (step == 0 ? 200000 : 150000));
    if (step > 0) CHECK(at(step)[2].max_bitrate_bps == 450000);
  }
  CHECK(at(0)[2].max_bitrate_bps > 800000);  // at ease the budget is not cut to the size
  // A four-person grid's tile, 284 lines: 20 frames/s at ease; the second
  // step sends it 170 lines high, a thumbnail, at a thumbnail's 15.
  CHECK(split_uplink_by_view(20000, 40, true, camera, {284}, 0)[0].max_framerate == 20);
  CHECK(split_uplink_by_view(20000, 40, true, camera, {284}, 2)[0].max_framerate == 15);
  // A screen keeps its lines and slows down instead.
  const auto screen = split_uplink_by_view(2500, 40, true, {1080, true}, {1080}, 2);
  CHECK(screen[0].scale_resolution_down_by == 1.0);
  CHECK(screen[0].max_framerate == 3);  // 15 at ease
}

TEST_CASE("CPU load: two strained rounds step down, a calm spell steps back up, a swing doubles the calm needed") {
  CoreContext ctx{ClientConfig{}};
  CpuLoad load(ctx);
  std::int64_t now = 0;
  const auto round = [&](bool limited, bool video = true) { return load.on_round(now += 3000, limited, video); };
  CHECK_FALSE(round(true));
  CHECK(load.step() == 0);
  CHECK(round(true));  // the second in a row
  CHECK(load.step() == 1);
  CHECK(load.state() == CpuLoadState::SteppedDown);
  CHECK_FALSE(round(true));
  CHECK(round(true));
  CHECK(load.step() == 2);
  // Rounds without video say nothing either way.
  for (int i = 0; i < 20; ++i) CHECK_FALSE(round(false, false));
  CHECK(load.step() == 2);
  // One calm round in between starts the count again.
  CHECK_FALSE(round(true));
  CHECK_FALSE(round(false));
  CHECK_FALSE(round(true));
  CHECK(load.step() == 2);
  // Calm for kCalmRounds: one step up.
  for (int i = 1; i < CpuLoad::kCalmRounds; ++i) CHECK_FALSE(round(false));
  CHECK(round(false));
  CHECK(load.step() == 1);
  // Strained again right after: down, and the next step up waits twice as long.
  round(true);
  CHECK(round(true));
  CHECK(load.step() == 2);
  for (int i = 1; i < 2 * CpuLoad::kCalmRounds; ++i) CHECK_FALSE(round(false));
  CHECK(round(false));
  CHECK(load.step() == 1);
  // Never past the last step, never below none.
  for (int i = 0; i < 20; ++i) round(true);
  CHECK(load.step() == kMaxCpuStep);
  for (int i = 0; i < 200; ++i) round(false);
  CHECK(load.step() == 0);
  CHECK(load.state() == CpuLoadState::AtEase);
}

TEST_CASE("CPU load: the device's CPU pressure strains a round from serious up, until the next report") {
  CoreContext ctx{ClientConfig{}};
  CpuLoad load(ctx);
  std::int64_t now = 0;
  const auto round = [&]() { return load.on_round(now += 3000, false, true); };
  load.on_pressure(CpuPressure::Fair);
  for (int i = 0; i < 5; ++i) CHECK_FALSE(round());
  CHECK(load.step() == 0);
  load.on_pressure(CpuPressure::Serious);
  CHECK_FALSE(round());
  CHECK(round());
  CHECK(load.step() == 1);
  load.on_pressure(CpuPressure::Critical);
  round();
  CHECK(round());
  CHECK(load.step() == 2);
  load.on_pressure(CpuPressure::Nominal);
  for (int i = 1; i < CpuLoad::kCalmRounds; ++i) CHECK_FALSE(round());
  CHECK(round());
  CHECK(load.step() == 1);

  CHECK(parse_cpu_pressure("critical") == CpuPressure::Critical);
  CHECK(parse_cpu_pressure("fair") == CpuPressure::Fair);
  CHECK_FALSE(parse_cpu_pressure("Critical").has_value());
  CHECK_FALSE(parse_cpu_pressure("").has_value());
  for (CpuPressure p : {CpuPressure::Nominal, CpuPressure::Fair, CpuPressure::Serious, CpuPressure::Critical})
    CHECK(parse_cpu_pressure(to_string(p)) == p);
}

TEST_CASE("quality: thresholds, worse at once, better only when it holds") {
  CHECK(classify(50, 0, true) == QualityLevel::Good);
  CHECK(classify(300, 0, true) == QualityLevel::Fair);
  CHECK(classify(50, 0.05, true) == QualityLevel::Fair);
  CHECK(classify(600, 0, true) == QualityLevel::Poor);
  CHECK(classify(50, 0.2, true) == QualityLevel::Poor);
  CHECK(classify(300, 0, false) == QualityLevel::Fair);  // no media (data only): the RTT still tells

  CoreContext ctx{ClientConfig{}};
  QualityMonitor q(ctx, "p");
  double packets = 0, bytes = 0;
  std::int64_t t = 0;
  auto sample = [&](double rtt, double loss) {
    t += 3000;
    packets += 300;
    bytes += 3000 * 600 / 8.0;  // 600 kbps
    q.on_sample(t, StatsSample{rtt, packets * loss, packets * (1 - loss), bytes, bytes});
  };
  sample(40, 0);  // baseline only
  CHECK(q.level() == QualityLevel::Unknown);
  sample(40, 0);
  CHECK(q.level() == QualityLevel::Good);
  sample(700, 0);
  CHECK(q.level() == QualityLevel::Poor);  // at once
  sample(40, 0);
  CHECK(q.level() == QualityLevel::Poor);  // one good sample is not enough
  sample(40, 0);
  CHECK(q.level() == QualityLevel::Good);
  std::vector<QualityReport> reports;
  for (const auto& o : ctx.drain())
    if (auto* r = std::get_if<QualityReport>(&o)) reports.push_back(*r);
  REQUIRE(reports.size() == 4);
  CHECK(reports[0].level == "good");
  CHECK(reports[0].kbps_in == doctest::Approx(600));
  CHECK(reports[1].level == "poor");
  CHECK(reports[2].level == "poor");
  CHECK(reports[3].level == "good");
}

TEST_CASE("quality: an RTT not measured yet is not taken for a good one") {
  // The shim reports -1 until a candidate pair has measured a round trip.
  CHECK(classify(-1, 0, false) == QualityLevel::Unknown);
  CHECK(classify(-1, 0, true) == QualityLevel::Good);  // packets arrive, none lost
  CHECK(classify(-1, 0.05, true) == QualityLevel::Fair);
  CHECK(classify(-1, 0.2, true) == QualityLevel::Poor);

  CoreContext ctx{ClientConfig{}};
  QualityMonitor q(ctx, "p");
  q.on_sample(3000, StatsSample{-1, 0, 0, 100, 100});  // baseline
  q.on_sample(6000, StatsSample{-1, 0, 0, 200, 200});  // nothing measured, nothing received
  CHECK(q.level() == QualityLevel::Unknown);
  q.on_sample(9000, StatsSample{400, 0, 0, 300, 300});
  CHECK(q.level() == QualityLevel::Fair);
  q.on_sample(12000, StatsSample{-1, 0, 0, 400, 400});  // the RTT is gone again: no news, the level stays
  q.on_sample(15000, StatsSample{-1, 0, 0, 500, 500});
  CHECK(q.level() == QualityLevel::Fair);
}

TEST_CASE("quality: a peer that says it sends and from which no RTP arrived for 2 s is poor (frozen)") {
  CoreContext ctx{ClientConfig{}};
  QualityMonitor q(ctx, "p");
  StatsSample s{40, 0, 0, 0, 0};
  auto flowing = [&](std::int64_t at) {
    s.packets_received += 100;
    s.bytes_received += 50000;
    s.packets_sent += 100;
    s.bytes_sent += 50000;
    q.on_sample(at, s, true);
  };
  auto silent = [&](std::int64_t at) {  // what we send still leaves; nothing arrives
    s.packets_sent += 100;
    s.bytes_sent += 50000;
    q.on_sample(at, s, true);
  };
  flowing(1000);  // baseline
  flowing(2000);
  REQUIRE(q.level() == QualityLevel::Good);
  silent(3000);
  silent(3999);  // 1999 ms without media: a pause, not yet a freeze
  CHECK(q.level() == QualityLevel::Good);
  silent(4000);  // 2 s
  CHECK(q.level() == QualityLevel::Poor);
  flowing(5000);
  flowing(6000);  // better news holds twice
  CHECK(q.level() == QualityLevel::Good);
  // The same silence from a peer that says it sends nothing is no freeze.
  for (std::int64_t at = 7000; at <= 12000; at += 1000) {
    s.packets_sent += 100;
    s.bytes_sent += 50000;
    q.on_sample(at, s, false);
  }
  CHECK(q.level() == QualityLevel::Good);
}

TEST_CASE("peer signal: round trip and refusal of malformed data") {
  PeerSignal s;
  s.gen = 2;
  s.peer_gen = 1;
  s.seq = 7;
  s.description_type = "offer";
  s.sdp = "v=0\r\n";
  std::string error;
  auto back = parse_peer_signal(serialize(s), error);
  REQUIRE(back);
  CHECK(back->gen == 2);
  CHECK(back->peer_gen == 1);
  CHECK(back->seq == 7);
  CHECK(back->description_type == "offer");
  CHECK(back->sdp == "v=0\r\n");
  CHECK_FALSE(back->view);  // a sender that does not know how large it draws the receiver says nothing
  s.view = 240;
  CHECK(serialize(s).find(R"("view":240)") != std::string::npos);
  back = parse_peer_signal(serialize(s), error);
  REQUIRE(back);
  CHECK(back->view == 240);
  // A view alone, read and written back the same.
  const std::string view_alone = R"({"v":1,"gen":2,"peerGen":1,"seq":9,"view":0})";
  back = parse_peer_signal(view_alone, error);
  REQUIRE(back);
  CHECK(back->kind == PeerSignalKind::View);
  CHECK(back->view == 0);
  CHECK(serialize(*back) == view_alone);

  PeerSignal c;
  c.gen = 1;
  c.seq = 1;
  c.kind = PeerSignalKind::Candidate;
  c.candidate_json = R"({"candidate":"candidate:1 1 udp 1 10.0.0.1 5000 typ host","sdpMid":"0","usernameFragment":"uf"})";
  auto cb = parse_peer_signal(serialize(c), error);
  REQUIRE(cb);
  CHECK_FALSE(cb->is_description());
  CHECK(cb->candidate_ufrag == "uf");

  for (const char* bad : {"[]", "{}", R"({"v":2,"gen":1,"peerGen":0,"seq":1,"candidate":{"candidate":"x"}})",
                          R"({"v":1,"gen":0,"peerGen":0,"seq":1,"candidate":{"candidate":"x"}})",
                          R"({"v":1,"gen":1,"peerGen":0,"seq":1})",
                          R"({"v":1,"gen":1,"peerGen":0,"seq":1,"candidate":null})",
                          R"({"v":1,"gen":1,"peerGen":0,"seq":1,"description":{"type":"rollback","sdp":""}})",
                          R"({"v":1,"gen":1,"peerGen":0,"seq":1,"description":{"type":"offer","sdp":""},"candidate":{"candidate":"x"}})",
                          R"({"v":1,"gen":1,"peerGen":0,"seq":1,"view":-1,"description":{"type":"offer","sdp":""}})",
                          R"({"v":1,"gen":1,"peerGen":0,"seq":1,"view":4321,"description":{"type":"offer","sdp":""}})",
                          R"({"v":1,"gen":1,"peerGen":0,"seq":1,"view":"240","description":{"type":"offer","sdp":""}})",
                          R"({"v":1,"gen":1,"peerGen":0,"seq":1,"view":240,"iceRestart":true})",
                          R"({"v":1,"gen":1,"peerGen":0,"seq":1,"view":240,"candidate":{"candidate":"x"}})",
                          "not json"}) {
    INFO(bad);
    CHECK_FALSE(parse_peer_signal(bad, error));
  }

  // Media state, over the peer data channel.
  MediaState media;
  CHECK(serialize_media_state({false, true, true}) == R"({"t":"media","audio":false,"video":true,"screen":true})");
  CHECK(parse_media_state(serialize_media_state({false, true, true}), media));
  CHECK(media == MediaState{false, true, true});
  CHECK(parse_media_state(serialize_media_state({true, true, false}), media));
  CHECK(media == MediaState{true, true, false});
  // An older peer sends no `screen`: a camera. A screen without video is none.
  CHECK(parse_media_state(R"({"t":"media","audio":true,"video":true})", media));
  CHECK(media == MediaState{true, true, false});
  CHECK(parse_media_state(R"({"t":"media","audio":true,"video":false,"screen":true})", media));
  CHECK(media == MediaState{true, false, false});
  CHECK_FALSE(parse_media_state(serialize_verification_message("vc-nonce", std::string(32, '0')), media));
  // How large the receiver draws the sender's video.
  int view = -7;
  CHECK(serialize_view(360) == R"({"t":"view","h":360})");
  CHECK(parse_view(serialize_view(360), view));
  CHECK(view == 360);
  CHECK(parse_view(R"({"t":"view","h":0})", view));
  CHECK(view == 0);
  CHECK_FALSE(parse_media_state(serialize_view(360), media));
  CHECK_FALSE(parse_view(serialize_media_state({true, true, false}), view));
  for (const char* bad : {R"({"t":"view"})", R"({"t":"view","h":-1})", R"({"t":"view","h":4321})", R"({"t":"view","h":1.5})",
                          R"({"t":"view","h":"360"})", R"({"t":"views","h":360})", R"(["view",360])", "view"}) {
    INFO(bad);
    CHECK_FALSE(parse_view(bad, view));
  }
  for (const char* bad : {R"({"t":"other"})", R"({"t":"media","audio":true})", R"({"t":"media","audio":1,"video":0})",
                          R"({"t":"media","audio":"yes","video":true})", R"(["media"])", "nope"}) {
    INFO(bad);
    CHECK_FALSE(parse_media_state(bad, media));
  }
}

TEST_CASE("client options from JSON: defaults, overrides, refusals") {
  std::string error;
  auto defaults = parse_client_config("", error);
  REQUIRE(defaults);
  CHECK(defaults->uplink_kbps == 2500);
  CHECK(defaults->reconnect_base_ms == 500);
  CHECK(defaults->reconnect_cap_ms == 10000);
  CHECK(defaults->peer_return_grace_ms == 15000);
  CHECK(defaults->sender_parameters_retry_ms == 1000);
  CHECK(defaults->sender_parameters_attempts == 4);
  auto custom = parse_client_config(R"({"seed":12345678901,"uplinkKbps":1200,"iceServers":[{"urls":"stun:x"}],"debugLog":false,"peerReturnGraceMs":0,"senderParametersRetryMs":250,"senderParametersAttempts":2})", error);
  REQUIRE(custom);
  CHECK(custom->peer_return_grace_ms == 0);
  CHECK(custom->sender_parameters_retry_ms == 250);
  CHECK(custom->sender_parameters_attempts == 2);
  CHECK(custom->seed == 12345678901ULL);
  CHECK(custom->uplink_kbps == 1200);
  CHECK(custom->ice_servers_json == R"([{"urls":"stun:x"}])");
  CHECK_FALSE(custom->debug_log);
  for (const char* bad : {"[]", R"({"uplinkKbps":-1})", R"({"uplinkKbps":"x"})", R"({"uplinkKbps":1.5})",
                          R"({"iceServers":{}})", R"({"debugLog":1})", R"({"uplinkKbps":0})"}) {
    INFO(bad);
    CHECK_FALSE(parse_client_config(bad, error));
    CHECK_FALSE(error.empty());
  }
}

TEST_CASE("outputs serialize to JSON objects with a type, ready for the JS shim") {
  std::vector<Output> outs = {OpenSocket{1, "ws://h/ws"},
                              CreatePeerConnection{2, "p1", true, R"({"iceServers":[]})"},
                              SetSenderParameters{2, 7, MediaKind::Video, 800000, 1.5, 0, true},
                              StartTimer{3, 500, "reconnect-backoff"},
                              ErrorEvent{"meeting-full", "full", ""}};
  auto doc = nlohmann::json::parse(to_json(outs));
  REQUIRE(doc.is_array());
  REQUIRE(doc.size() == 5);
  CHECK(doc[0]["type"] == "open-socket");
  CHECK(doc[0]["url"] == "ws://h/ws");
  CHECK(doc[1]["type"] == "create-peer-connection");
  CHECK(doc[1]["config"]["iceServers"].is_array());
  CHECK(doc[2]["op"] == 7);
  CHECK(doc[2]["maxBitrateBps"] == 800000);
  CHECK(doc[2]["scaleResolutionDownBy"] == 1.5);
  CHECK(doc[3]["delayMs"] == 500);
  CHECK(doc[4]["code"] == "meeting-full");
}

TEST_CASE("seeded random: reproducible per seed, uniform within bounds") {
  SeededRandom a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    auto x = a.uniform(0, 500);
    CHECK(x == b.uniform(0, 500));
    differs |= x != c.uniform(0, 500);
    CHECK(x >= 0);
    CHECK(x <= 500);
  }
  CHECK(differs);
  CHECK(a.uniform(5, 5) == 5);
}

TEST_CASE("mute toggles the local track, and bad input is an error value, not a crash") {
  Client client;
  client.set_muted(0, "audio", true);
  client.set_local_track(0, "subtitles", "x");
  auto outs = client.drain();
  REQUIRE(outs.size() == 2);
  auto* mute = std::get_if<SetTrackEnabled>(&outs[0]);
  REQUIRE(mute);
  CHECK(mute->kind == MediaKind::Audio);
  CHECK_FALSE(mute->enabled);
  CHECK(std::get<ErrorEvent>(outs[1]).code == "bad-input");
}

// The JSON shape of every output is the contract with the JS shim: pin it,
// so a rename on either side fails a test instead of a call in a browser.
TEST_CASE("outputs: every type's JSON keys, as the JS shim reads them") {
  const std::vector<std::pair<Output, std::set<std::string>>> table = {
      {OpenSocket{1, "u"}, {"socket", "url"}},
      {CloseSocket{1, 1000, "r"}, {"socket", "code", "reason"}},
      {SendText{1, "t"}, {"socket", "text"}},
      {CreatePeerConnection{1, "p", true, "{}"}, {"pc", "peer", "polite", "config"}},
      {ClosePeerConnection{1}, {"pc"}},
      {AddTrack{1, MediaKind::Audio, "t"}, {"pc", "kind", "track"}},
      {RemoveTrack{1, MediaKind::Audio}, {"pc", "kind"}},
      {ReplaceTrack{1, MediaKind::Video, "t"}, {"pc", "kind", "track"}},
      {SetLocalDescription{1, 2, ""}, {"pc", "op", "descriptionType"}},
      {SetRemoteDescription{1, 2, "offer", "s"}, {"pc", "op", "descriptionType", "sdp"}},
      {AddIceCandidate{1, 2, "{}"}, {"pc", "op", "candidate"}},
      {RestartIce{1}, {"pc"}},
      {SetConfiguration{1, R"({"iceServers":[]})"}, {"pc", "config"}},
      {SetSenderParameters{1, 2, MediaKind::Video, 1, 1.0, 0, false}, {"pc", "op", "kind", "maxBitrateBps", "scaleResolutionDownBy", "maxFramerate", "active"}},
      {SendData{1, "t"}, {"pc", "text"}},
      {GetStats{1}, {"pc"}},
      {SetTrackEnabled{MediaKind::Audio, true}, {"kind", "enabled"}},
      {StartTimer{1, 2, "p"}, {"timer", "delayMs", "purpose"}},
      {CancelTimer{1}, {"timer"}},
      {StateChanged{"joined", 0}, {"state", "attempt"}},
      {Welcomed{"s", "m", "n", "fresh", false}, {"self", "meetingId", "meetingName", "how", "relayOnly"}},
      {PeerJoinedEvent{"p", "n"}, {"peer", "name"}},
      {PeerLeftEvent{"p", "left"}, {"peer", "reason"}},
      {PeerStateChanged{"p", "connected"}, {"peer", "state"}},
      {RemoteTrack{"p", 1, "t", MediaKind::Video, "s"}, {"peer", "pc", "track", "kind", "stream"}},
      {PeerMediaChanged{"p", true, false, false}, {"peer", "audio", "video", "screen"}},
      {QualityReport{"p", "good", 1, 0, 2, 3}, {"peer", "level", "rttMs", "loss", "kbpsIn", "kbpsOut"}},
      {VerificationCodeReady{"p", "123 456", "unverified"}, {"peer", "code", "trust"}},
      {ErrorEvent{"c", "m", "p"}, {"code", "message", "peer"}},
      {LogEntry{LogLevel::Debug, "m", "s", "a", "b", "d"}, {"level", "machine", "subject", "from", "to", "detail"}},
  };
  CHECK(table.size() == std::variant_size_v<Output>);
  std::set<std::string> types;
  for (const auto& [output, keys] : table) {
    auto doc = nlohmann::json::parse(to_json(output));
    const std::string type = doc["type"];
    types.insert(type);
    std::set<std::string> got;
    for (auto& [k, v] : doc.items())
      if (k != "type") got.insert(k);
    INFO(type);
    CHECK(got == keys);
  }
  CHECK(types.size() == table.size());  // every type name distinct
}
