#include "wasm/core/verification_code.hpp"

#include <algorithm>
#include <cstring>

#include "wasm/core/peer_signal.hpp"
#include "wasm/core/sdp_fields.hpp"

namespace meshmeet::core {
namespace {

constexpr std::uint32_t kK[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
    0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
    0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
    0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

std::uint32_t rotr(std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

void compress(std::uint32_t h[8], const std::uint8_t block[64]) {
  std::uint32_t w[64];
  for (int i = 0; i < 16; ++i)
    w[i] = (std::uint32_t(block[4 * i]) << 24) | (std::uint32_t(block[4 * i + 1]) << 16) |
           (std::uint32_t(block[4 * i + 2]) << 8) | std::uint32_t(block[4 * i + 3]);
  for (int i = 16; i < 64; ++i) {
    const std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    const std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
  for (int i = 0; i < 64; ++i) {
    const std::uint32_t t1 = k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + kK[i] + w[i];
    const std::uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    k = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += k;
}

}  // namespace

std::array<std::uint8_t, 32> sha256(std::string_view data) {
  std::uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::uint8_t block[64];
  std::size_t i = 0;
  for (; i + 64 <= data.size(); i += 64) compress(h, reinterpret_cast<const std::uint8_t*>(data.data() + i));
  std::size_t rest = data.size() - i;
  std::memset(block, 0, sizeof block);
  std::memcpy(block, data.data() + i, rest);
  block[rest] = 0x80;
  if (rest >= 56) {
    compress(h, block);
    std::memset(block, 0, sizeof block);
  }
  const std::uint64_t bits = static_cast<std::uint64_t>(data.size()) * 8;
  for (int b = 0; b < 8; ++b) block[63 - b] = static_cast<std::uint8_t>(bits >> (8 * b));
  compress(h, block);
  std::array<std::uint8_t, 32> out{};
  for (int w = 0; w < 8; ++w)
    for (int b = 0; b < 4; ++b) out[4 * w + b] = static_cast<std::uint8_t>(h[w] >> (24 - 8 * b));
  return out;
}

namespace {

std::string hex(const std::uint8_t* data, std::size_t size) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < size; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 15];
  }
  return out;
}

bool is_hex(std::string_view text, std::size_t size) {
  if (text.size() != size) return false;
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

constexpr std::size_t kNonceHex = 32;   // 128 bits
constexpr std::size_t kCommitHex = 64;  // SHA-256

}  // namespace

std::string verification_commitment(std::string_view committer_nonce, std::string_view committer_fingerprint) {
  std::string input = "meshmeet-vc-commit-v1\n";
  input.append(committer_nonce).append("\n").append(committer_fingerprint);
  const auto digest = sha256(input);
  return hex(digest.data(), digest.size());
}

std::string verification_code(std::string_view committer_fingerprint, std::string_view responder_fingerprint,
                              std::string_view committer_nonce, std::string_view responder_nonce) {
  std::string input = "meshmeet-verification-v2\n";
  input.append(committer_fingerprint).append("\n").append(responder_fingerprint).append("\n");
  input.append(committer_nonce).append("\n").append(responder_nonce);
  const auto digest = sha256(input);
  std::uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n = (n << 8) | digest[i];
  std::string digits = std::to_string(n % 1000000);
  digits.insert(0, 6 - digits.size(), '0');
  return digits.substr(0, 3) + " " + digits.substr(3);
}

std::string_view to_string(VerificationState state) {
  switch (state) {
    case VerificationState::AwaitingExchange: return "awaiting-exchange";
    case VerificationState::Ready: return "ready";
    case VerificationState::Mismatch: return "mismatch";
  }
  return "mismatch";
}

void VerificationCode::set_state(VerificationState next, std::string why) {
  if (next == state_) return;
  ctx_.transition("verification-code", peer_, to_string(state_), to_string(next), std::move(why));
  state_ = next;
}

bool VerificationCode::set_local_sdp(std::string_view sdp) {
  std::string fp = sdp_fingerprints(sdp).canonical();
  if (fp.empty() || fp == local_) return false;
  local_ = std::move(fp);
  return update();
}

bool VerificationCode::admit_remote_sdp(std::string_view sdp) {
  const SdpFingerprints fps = sdp_fingerprints(sdp);
  if (fps.problem.empty()) return true;
  fail("the peer's description names " + fps.problem,
       "the peer's description names " + fps.problem +
           ": it was refused (a signaling server may be trying to sit in the middle)");
  return false;
}

bool VerificationCode::set_remote_sdp(std::string_view sdp) {
  SdpFingerprints fps = sdp_fingerprints(sdp);
  if (fps.lines.empty() || fps.lines == remote_.lines) return false;
  remote_ = std::move(fps);
  check_certificate();
  return update();
}

void VerificationCode::on_remote_certificate(std::string_view fingerprint) {
  auto normalized = normalized_fingerprint(fingerprint);
  if (!normalized) {
    ctx_.log(LogLevel::Debug, "verification-code", peer_, {}, {}, "unreadable remote certificate fingerprint: " + std::string(fingerprint));
    return;
  }
  certificate_ = std::move(*normalized);
  check_certificate();
}

// DTLS may finish before the peer's answer is applied here: then the check
// waits for it (set_remote_sdp).
void VerificationCode::check_certificate() {
  const auto& remote = remote_.lines;
  if (certificate_.empty() || remote.empty() || state_ == VerificationState::Mismatch) return;
  const std::string algorithm = certificate_.substr(0, certificate_.find(' ') + 1);  // "sha-256 "
  const bool named = std::find(remote.begin(), remote.end(), certificate_) != remote.end();
  const bool algorithm_named = std::any_of(remote.begin(), remote.end(),
                                           [&](const std::string& l) { return l.compare(0, algorithm.size(), algorithm) == 0; });
  if (named) {
    ctx_.log(LogLevel::Debug, "verification-code", peer_, {}, {}, "the certificate DTLS authenticated is the one the peer named");
    return;
  }
  if (!algorithm_named) {
    ctx_.log(LogLevel::Debug, "verification-code", peer_, {}, {}, "the peer named no " + algorithm + "fingerprint to compare with");
    return;
  }
  fail("DTLS authenticated a certificate the peer's description does not name",
       "the connection's certificate is not the one the peer's description names: the connection may pass "
       "through a middleman");
}

void VerificationCode::fail(std::string why, const std::string& message) {
  code_.clear();
  set_state(VerificationState::Mismatch, std::move(why));
  ctx_.error(CoreError::VerificationFailed, message, peer_);
}

bool VerificationCode::mark_verified() {
  if (!trust_.mark(code_)) return false;
  emit_code();
  return true;
}

void VerificationCode::emit_code() {
  ctx_.emit(VerificationCodeReady{peer_, code_, std::string(to_string(trust_.state()))});
}

void VerificationCode::reset(bool committer) {
  local_.clear();
  remote_ = {};
  certificate_.clear();
  code_.clear();
  committer_ = committer;
  own_nonce_.clear();
  peer_nonce_.clear();
  peer_commit_.clear();
  commit_sent_ = false;
  set_state(VerificationState::AwaitingExchange, "fresh peer connection");
}

std::vector<std::string> VerificationCode::on_channel_open() {
  std::vector<std::string> send;
  if (!committer_ || commit_sent_) return send;
  if (local_.empty()) {  // a channel opens after DTLS, so after our description
    ctx_.log(LogLevel::Warn, "verification-code", peer_, {}, {}, "data channel open before our fingerprint: no code");
    return send;
  }
  if (own_nonce_.empty()) own_nonce_ = ctx_.fresh_nonce();
  commit_sent_ = true;
  send.push_back(serialize_verification_message("vc-commit", verification_commitment(own_nonce_, local_)));
  return send;
}

bool VerificationCode::on_message(std::string_view text, std::vector<std::string>& send) {
  std::string kind, value;
  if (!parse_verification_message(text, kind, value)) return false;
  auto ignore = [&](const char* why) {
    ctx_.log(LogLevel::Debug, "verification-code", peer_, {}, {}, kind + " ignored: " + why);
    return true;
  };
  if (kind == "vc-commit") {
    if (committer_) return ignore("we commit on this connection");
    if (!peer_commit_.empty()) return ignore("already committed");
    if (!is_hex(value, kCommitHex)) return ignore("malformed");
    peer_commit_ = value;
    if (own_nonce_.empty()) own_nonce_ = ctx_.fresh_nonce();
    send.push_back(serialize_verification_message("vc-nonce", own_nonce_));
  } else if (kind == "vc-nonce") {
    if (!committer_ || !commit_sent_) return ignore("no commitment of ours to answer");
    if (!peer_nonce_.empty()) return ignore("already have the peer's nonce");
    if (!is_hex(value, kNonceHex)) return ignore("malformed");
    peer_nonce_ = value;
    send.push_back(serialize_verification_message("vc-reveal", own_nonce_));
    update();
  } else if (kind == "vc-reveal") {
    if (committer_ || peer_commit_.empty()) return ignore("no commitment to open");
    if (!peer_nonce_.empty()) return ignore("already revealed");
    if (!is_hex(value, kNonceHex)) return ignore("malformed");
    peer_nonce_ = value;
    update();
  } else {
    return ignore("unknown");
  }
  return true;
}

bool VerificationCode::update() {
  if (local_.empty() || remote_.lines.empty() || own_nonce_.empty() || peer_nonce_.empty()) return false;
  if (state_ == VerificationState::Mismatch) return false;
  const std::string remote = remote_.canonical();
  std::string code;
  if (committer_) {
    code = verification_code(local_, remote, own_nonce_, peer_nonce_);
  } else {
    if (verification_commitment(peer_nonce_, remote) != peer_commit_) {
      fail("the reveal does not open the commitment",
           "the peer's verification exchange does not match its certificate: the connection may pass through a "
           "middleman");
      return false;
    }
    code = verification_code(remote, local_, peer_nonce_, own_nonce_);
  }
  if (code == code_) return false;
  code_ = std::move(code);
  set_state(VerificationState::Ready, "fingerprints and both nonces known");
  trust_.on_code(code_);
  emit_code();
  return true;
}

}  // namespace meshmeet::core
