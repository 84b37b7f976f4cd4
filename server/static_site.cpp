#include "server/static_site.hpp"

#include <sys/stat.h>

#include <cctype>
#include <fstream>
#include <optional>
#include <sstream>

#include "protocol/messages.hpp"
#include "server/secrets.hpp"

namespace meshmeet::server {

namespace {

constexpr std::size_t kHashChars = 10;  // tools/build-web.mjs HASH_CHARS

std::string_view content_type(std::string_view path) {
  auto dot = path.rfind('.');
  std::string_view ext = dot == std::string_view::npos ? "" : path.substr(dot);
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json") return "application/json";
  if (ext == ".wasm") return "application/wasm";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".ts") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

// The file's bytes; nullopt if it is not a regular file we can read.
std::optional<std::string> read_file(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream body;
  body << in.rdbuf();
  return body.str();
}

bool is_file(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Only plain names: no dot-files, no parent steps, no encoded tricks.
bool plain_path(std::string_view path) {
  bool ok = path.size() > 1 && path.size() < 256 && path.front() == '/';
  for (std::size_t i = 0; ok && i < path.size(); ++i) {
    char c = path[i];
    ok = std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '-' || c == '_' || c == '.';
    if (c == '.' && path[i - 1] == '/') ok = false;
  }
  return ok;
}

}  // namespace

bool is_hashed_asset(std::string_view path) {
  constexpr std::string_view kAssets = "/assets/";
  if (path.rfind(kAssets, 0) != 0) return false;
  std::string_view name = path.substr(kAssets.size());
  // <stem>.<hash>.<ext>: the hash is the second dot-separated part from the end.
  auto ext_dot = name.rfind('.');
  if (ext_dot == std::string_view::npos || ext_dot < kHashChars + 2) return false;
  auto hash_dot = ext_dot - kHashChars - 1;
  if (name[hash_dot] != '.' || name.find('/') != std::string_view::npos) return false;
  for (char c : name.substr(hash_dot + 1, kHashChars))
    if (!std::isdigit(static_cast<unsigned char>(c)) && (c < 'a' || c > 'f')) return false;
  return ext_dot + 1 < name.size();
}

ContentEncoding choose_encoding(std::string_view accept_encoding, bool have_gzip, bool have_brotli) {
  // What the client said of each coding: absent (nullopt), refused (q=0) or accepted.
  std::optional<bool> br, gzip, any;
  while (!accept_encoding.empty()) {
    auto comma = accept_encoding.find(',');
    std::string_view item = trim(accept_encoding.substr(0, comma));
    accept_encoding = comma == std::string_view::npos ? std::string_view{} : accept_encoding.substr(comma + 1);
    auto semi = item.find(';');
    std::string_view coding = trim(item.substr(0, semi));
    bool accepted = true;
    if (semi != std::string_view::npos) {
      std::string_view param = trim(item.substr(semi + 1));
      if (param.size() > 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
        // q=0, q=0.0, q=0.000: refused; anything else above zero accepts.
        accepted = false;
        for (char c : param.substr(2))
          if (c >= '1' && c <= '9') accepted = true;
      }
    }
    if (iequals(coding, "br")) br = accepted;
    else if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) gzip = accepted;
    else if (coding == "*") any = accepted;
  }
  auto wants = [&](const std::optional<bool>& coding) { return coding ? *coding : any.value_or(false); };
  if (have_brotli && wants(br)) return ContentEncoding::Brotli;
  if (have_gzip && wants(gzip)) return ContentEncoding::Gzip;
  return ContentEncoding::Identity;
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  while (!if_none_match.empty()) {
    auto comma = if_none_match.find(',');
    std::string_view tag = trim(if_none_match.substr(0, comma));
    if_none_match = comma == std::string_view::npos ? std::string_view{} : if_none_match.substr(comma + 1);
    if (tag == "*") return true;
    if (tag.rfind("W/", 0) == 0) tag.remove_prefix(2);  // If-None-Match compares weakly
    if (tag == etag) return true;
  }
  return false;
}

StaticReply serve_static(const std::string& root, const http::request<http::string_body>& req, std::string_view path) {
  const bool get = req.method() == http::verb::get || req.method() == http::verb::head;
  std::string file;
  if (path == "/" || (path.rfind("/m/", 0) == 0 && protocol::is_meeting_id(path.substr(3)))) {
    if (!get) return {StaticReply::Kind::MethodNotAllowed, {}};
    file = "/index.html";  // the app opens the meeting itself, known or not
  } else {
    if (!plain_path(path)) return {StaticReply::Kind::NotFound, {}};
    file = std::string(path);
  }
  const std::string full = root + file;
  if (!is_file(full)) return {StaticReply::Kind::NotFound, {}};
  if (!get) return {StaticReply::Kind::MethodNotAllowed, {}};

  const bool have_br = is_file(full + ".br");
  const bool have_gz = is_file(full + ".gz");
  const auto accept = req[http::field::accept_encoding];
  const ContentEncoding encoding = choose_encoding(std::string_view(accept.data(), accept.size()), have_gz, have_br);
  const char* suffix = encoding == ContentEncoding::Brotli ? ".br" : encoding == ContentEncoding::Gzip ? ".gz" : "";
  auto body = read_file(full + suffix);
  if (!body) return {StaticReply::Kind::NotFound, {}};

  http::response<http::string_body> res{http::status::ok, req.version()};
  // One ETag per encoding: the bytes differ, and a cache must not mix them.
  const std::string etag = "\"" + to_hex(sha256(*body)).substr(0, 20) + (*suffix ? std::string("-") + (suffix + 1) : "") + "\"";
  res.set(http::field::etag, etag);
  if (have_br || have_gz) res.set(http::field::vary, "Accept-Encoding");
  res.set(http::field::cache_control, is_hashed_asset(file) ? "public, max-age=31536000, immutable" : "no-cache");
  res.set("X-Content-Type-Options", "nosniff");
  // Meeting links are secrets: never leak them to other sites.
  res.set("Referrer-Policy", "no-referrer");
  if (file == "/index.html")
    res.set("Content-Security-Policy",
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self' ws: wss:; "
            "img-src 'self' data: blob:; media-src 'self' blob: mediastream:; style-src 'self'; "
            "frame-ancestors 'none'; base-uri 'none'");
  res.keep_alive(req.keep_alive());
  const auto if_none_match = req[http::field::if_none_match];
  if (!if_none_match.empty() && etag_matches(std::string_view(if_none_match.data(), if_none_match.size()), etag)) {
    res.result(http::status::not_modified);
    res.prepare_payload();
    return {StaticReply::Kind::Found, std::move(res)};
  }
  res.set(http::field::content_type, content_type(file));
  if (encoding != ContentEncoding::Identity) res.set(http::field::content_encoding, suffix[1] == 'b' ? "br" : "gzip");
  res.body() = std::move(*body);
  res.prepare_payload();
  return {StaticReply::Kind::Found, std::move(res)};
}

}  // namespace meshmeet::server
