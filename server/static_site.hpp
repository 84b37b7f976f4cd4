// The web app's files as the server sends them (tools/build-web.mjs builds
// them): which file a path names, the encoding a request accepts among the
// precompressed copies beside it (.br, .gz), and how long a browser keeps it.
//
//   /assets/<name>.<10 hex>.<ext>  content-hashed: a new build gives changed
//                                  files new names, so these are immutable
//                                  and kept for a year without asking.
//   everything else (/, /m/<id>    revalidated every time: a strong ETag per
//   → index.html, a favicon)       encoding, and 304 Not Modified when the
//                                  browser's copy is current.
//
// No sockets and no caching in memory: a request in, a response out, read
// from the folder each time (the files are small and the page cache holds
// them).
#pragma once

#include <string>
#include <string_view>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace meshmeet::server {

namespace http = boost::beast::http;

enum class ContentEncoding { Identity, Gzip, Brotli };

struct StaticReply {
  enum class Kind { Found, NotFound, MethodNotAllowed };
  Kind kind = Kind::NotFound;
  http::response<http::string_body> response;  // when Found: 200, or 304
};

// `path` is the request target without its query. `/` and `/m/<meeting id>`
// are the app's page; other paths are plain names (no dot-files, no parent
// steps) of files under `root`.
StaticReply serve_static(const std::string& root, const http::request<http::string_body>& request,
                         std::string_view path);

// Whether a path names a content-hashed asset (see above).
bool is_hashed_asset(std::string_view path);

// The encoding to send, from the request's Accept-Encoding and the
// precompressed copies there are: brotli, then gzip, then none; a coding the
// client gave q=0 is refused.
ContentEncoding choose_encoding(std::string_view accept_encoding, bool have_gzip, bool have_brotli);

// Whether If-None-Match names this (strong) ETag, or is "*".
bool etag_matches(std::string_view if_none_match, std::string_view etag);

}  // namespace meshmeet::server
