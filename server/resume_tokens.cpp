#include "server/resume_tokens.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace meshmeet::server {
namespace {

constexpr std::size_t kPeerIdChars = 12;  // random_id(60 bits)
constexpr std::size_t kNonceBytes = 8;
constexpr std::size_t kMacBytes = 16;     // HMAC-SHA256 truncated: 128 bits against forgery
constexpr std::string_view kDomain = "meshmeet resume token v1";

const char* kBase64Url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64url(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::uint32_t bits = 0;
  int count = 0;
  for (unsigned char b : bytes) {
    bits = (bits << 8) | b;
    count += 8;
    while (count >= 6) {
      count -= 6;
      out.push_back(kBase64Url[(bits >> count) & 63]);
    }
  }
  if (count > 0) out.push_back(kBase64Url[(bits << (6 - count)) & 63]);
  return out;
}

std::optional<std::string> from_base64url(std::string_view text) {
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    const char* at = c ? std::strchr(kBase64Url, c) : nullptr;
    if (!at) return std::nullopt;
    bits = (bits << 6) | static_cast<std::uint32_t>(at - kBase64Url);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> count) & 0xff));
    }
  }
  if (count >= 6 || (bits & ((1u << count) - 1)) != 0) return std::nullopt;  // not what base64url() writes
  return out;
}

// The MAC of a token's payload, bound to its meeting.
std::string mac_of(const ResumeKey& key, std::string_view meeting_id, std::string_view payload) {
  std::string input;
  input.reserve(kDomain.size() + meeting_id.size() + payload.size() + 2);
  input.append(kDomain).push_back('\0');
  input.append(meeting_id).push_back('\0');
  input.append(payload);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(input.data()),
       input.size(), mac, &length);
  return std::string(reinterpret_cast<const char*>(mac), kMacBytes);
}

bool is_base32(std::string_view s) {
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7'))) return false;
  return true;
}

std::optional<ResumeKey> parse_key(const std::string& text) {
  std::string hex = text;
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r')) hex.pop_back();
  ResumeKey key{};
  if (hex.size() != key.size() * 2) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < key.size(); ++i) {
    const int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    key[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return key;
}

}  // namespace

ResumeKeys ResumeKeys::fresh(RandomSource& random) {
  ResumeKeys keys;
  random.fill(keys.current.data(), keys.current.size());
  return keys;
}

ResumeKeys next_resume_keys(const std::string& path, RandomSource& random) {
  ResumeKeys keys = ResumeKeys::fresh(random);
  if (std::ifstream in{path}) {
    std::stringstream text;
    text << in.rdbuf();
    keys.previous = parse_key(text.str());  // anything else is no key: tokens from before are refused
  }
  return keys;
}

bool save_resume_key(const std::string& path, const ResumeKey& key, std::string& error) {
  Digest as_digest;
  std::memcpy(as_digest.data(), key.data(), key.size());
  const std::string hex = to_hex(as_digest) + "\n";

  // Named for this process: two servers started at once on one data folder
  // must not rename each other's file away (the last rename wins).
  const std::string aside = path + ".new." + std::to_string(::getpid());
  auto fail = [&](const char* step) {
    error = "cannot write the resume key " + path + " (" + step + "): " + std::strerror(errno);
    ::unlink(aside.c_str());
    return false;
  };
  const int fd = ::open(aside.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return fail("open");
  if (::write(fd, hex.data(), hex.size()) != static_cast<ssize_t>(hex.size()) || ::fsync(fd) != 0) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return fail("write");
  }
  ::close(fd);
  if (::rename(aside.c_str(), path.c_str()) != 0) return fail("rename");
  return true;
}

std::string mint_resume_token(const ResumeKey& key, RandomSource& random, std::string_view meeting_id,
                              std::string_view peer_id, std::string_view name) {
  std::string payload(peer_id);
  std::string nonce(kNonceBytes, '\0');
  random.fill(reinterpret_cast<std::uint8_t*>(nonce.data()), nonce.size());
  payload += nonce;
  payload += name;
  return base64url(payload + mac_of(key, meeting_id, payload));
}

std::optional<ResumeClaim> read_resume_token(const ResumeKey& key, std::string_view meeting_id, std::string_view token) {
  auto bytes = from_base64url(token);
  if (!bytes || bytes->size() < kPeerIdChars + kNonceBytes + kMacBytes) return std::nullopt;
  const std::string_view all(*bytes);
  const std::string_view payload = all.substr(0, all.size() - kMacBytes);
  const std::string expected = mac_of(key, meeting_id, payload);
  if (CRYPTO_memcmp(expected.data(), all.data() + payload.size(), kMacBytes) != 0) return std::nullopt;
  ResumeClaim claim{std::string(payload.substr(0, kPeerIdChars)), std::string(payload.substr(kPeerIdChars + kNonceBytes))};
  if (!is_base32(claim.peer_id)) return std::nullopt;  // signed by us, so never: but never trust a shape unchecked
  return claim;
}

}  // namespace meshmeet::server
