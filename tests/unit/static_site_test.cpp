// The web app's files: names, encodings, and what a browser may cache.
#include <doctest/doctest.h>

#include <string>

#include "server/static_site.hpp"
#include "temp_dir.hpp"

using namespace meshmeet::server;

namespace {

using Request = http::request<http::string_body>;

StaticReply get(const TempDir& dir, const std::string& target, const std::string& accept_encoding = "",
                const std::string& if_none_match = "", http::verb verb = http::verb::get) {
  Request req{verb, target, 11};
  if (!accept_encoding.empty()) req.set(http::field::accept_encoding, accept_encoding);
  if (!if_none_match.empty()) req.set(http::field::if_none_match, if_none_match);
  return serve_static(dir.path, req, target);
}

std::string header(const StaticReply& r, http::field f) {
  auto v = r.response[f];
  return std::string(v.data(), v.size());
}

}  // namespace

TEST_CASE("static: which names are content-hashed assets") {
  CHECK(is_hashed_asset("/assets/app.3f9c0a12be.js"));
  CHECK(is_hashed_asset("/assets/meshmeet-core.a936cc31ce.wasm"));
  CHECK(is_hashed_asset("/assets/room-messages.d5f2f0c90b.js"));
  CHECK_FALSE(is_hashed_asset("/assets/app.js"));                // no hash
  CHECK_FALSE(is_hashed_asset("/app.3f9c0a12be.js"));            // not under /assets/
  CHECK_FALSE(is_hashed_asset("/assets/app.3f9c0a12bX.js"));     // not hex
  CHECK_FALSE(is_hashed_asset("/assets/app.3F9C0A12BE.js"));     // upper case: not what the build writes
  CHECK_FALSE(is_hashed_asset("/assets/app.3f9c0a12b.js"));      // 9 characters
  CHECK_FALSE(is_hashed_asset("/assets/app.3f9c0a12be."));       // no extension
  CHECK_FALSE(is_hashed_asset("/assets/sub/app.3f9c0a12be.js"));  // a folder
  CHECK_FALSE(is_hashed_asset("/assets/.3f9c0a12be.js"));        // no name
}

TEST_CASE("static: the encoding sent is the best one the client accepts") {
  CHECK(choose_encoding("gzip, deflate, br, zstd", true, true) == ContentEncoding::Brotli);
  CHECK(choose_encoding("gzip, deflate, br", true, false) == ContentEncoding::Gzip);
  CHECK(choose_encoding("gzip", true, true) == ContentEncoding::Gzip);
  CHECK(choose_encoding("", true, true) == ContentEncoding::Identity);
  CHECK(choose_encoding("identity", true, true) == ContentEncoding::Identity);
  CHECK(choose_encoding("br;q=0, gzip;q=0.5", true, true) == ContentEncoding::Gzip);
  CHECK(choose_encoding("BR;Q=1.0", true, true) == ContentEncoding::Brotli);
  CHECK(choose_encoding("br;q=0.000,gzip;q=0", true, true) == ContentEncoding::Identity);
  CHECK(choose_encoding("*", true, true) == ContentEncoding::Brotli);
  CHECK(choose_encoding("*, br;q=0", true, true) == ContentEncoding::Gzip);
  CHECK(choose_encoding("*;q=0", true, true) == ContentEncoding::Identity);
  CHECK(choose_encoding("x-gzip", true, false) == ContentEncoding::Gzip);
  CHECK(choose_encoding("br", false, false) == ContentEncoding::Identity);  // nothing precompressed
}

TEST_CASE("static: If-None-Match") {
  CHECK(etag_matches("\"abc\"", "\"abc\""));
  CHECK(etag_matches("\"x\", \"abc\"", "\"abc\""));
  CHECK(etag_matches("W/\"abc\"", "\"abc\""));
  CHECK(etag_matches("*", "\"abc\""));
  CHECK_FALSE(etag_matches("\"abd\"", "\"abc\""));
  CHECK_FALSE(etag_matches("abc", "\"abc\""));
  CHECK_FALSE(etag_matches("", "\"abc\""));
}

TEST_CASE("static: hashed assets are immutable; the page is revalidated with its ETag") {
  TempDir dir;
  dir.write("/index.html", "<!doctype html><script src=/assets/app.0123456789.js></script>");
  dir.write("/assets/app.0123456789.js", "console.log('app')");

  auto asset = get(dir, "/assets/app.0123456789.js");
  REQUIRE(asset.kind == StaticReply::Kind::Found);
  CHECK(asset.response.result_int() == 200);
  CHECK(header(asset, http::field::cache_control) == "public, max-age=31536000, immutable");
  CHECK(header(asset, http::field::content_type).rfind("text/javascript", 0) == 0);

  auto page = get(dir, "/m/" + std::string(26, 'q'));
  REQUIRE(page.kind == StaticReply::Kind::Found);
  CHECK(header(page, http::field::cache_control) == "no-cache");
  const std::string etag = header(page, http::field::etag);
  CHECK(etag.size() > 2);
  CHECK(etag.front() == '"');
  CHECK(header(page, http::field::vary).empty());  // nothing precompressed here

  // The browser's copy is current: 304, no body, the same validators.
  auto again = get(dir, "/", "", etag);
  REQUIRE(again.kind == StaticReply::Kind::Found);
  CHECK(again.response.result_int() == 304);
  CHECK(again.response.body().empty());
  CHECK(header(again, http::field::etag) == etag);
  CHECK(header(again, http::field::cache_control) == "no-cache");
  // A new build: the page changed, the old ETag no longer matches.
  dir.write("/index.html", "<!doctype html><script src=/assets/app.abcdef0123.js></script>");
  auto changed = get(dir, "/", "", etag);
  CHECK(changed.response.result_int() == 200);
  CHECK(header(changed, http::field::etag) != etag);
  CHECK(changed.response.body().find("abcdef0123") != std::string::npos);
}

TEST_CASE("static: the precompressed copy the client accepts, with its own ETag") {
  TempDir dir;
  dir.write("/index.html", "page");
  dir.write("/index.html.gz", "gzip bytes");
  dir.write("/index.html.br", "brotli bytes");
  dir.write("/assets/core.0123456789.wasm", "wasm");
  dir.write("/assets/core.0123456789.wasm.gz", "gz wasm");

  auto br = get(dir, "/", "gzip, deflate, br");
  CHECK(br.response.body() == "brotli bytes");
  CHECK(header(br, http::field::content_encoding) == "br");
  CHECK(header(br, http::field::vary) == "Accept-Encoding");
  CHECK(header(br, http::field::content_type).rfind("text/html", 0) == 0);
  auto gz = get(dir, "/", "gzip");
  CHECK(gz.response.body() == "gzip bytes");
  CHECK(header(gz, http::field::content_encoding) == "gzip");
  auto plain = get(dir, "/");
  CHECK(plain.response.body() == "page");
  CHECK(header(plain, http::field::content_encoding).empty());
  CHECK(header(plain, http::field::vary) == "Accept-Encoding");
  // Three encodings, three ETags: a cache never hands gzip to whoever asked for none.
  CHECK(header(br, http::field::etag) != header(gz, http::field::etag));
  CHECK(header(gz, http::field::etag) != header(plain, http::field::etag));
  CHECK(get(dir, "/", "gzip, br", header(br, http::field::etag)).response.result_int() == 304);
  CHECK(get(dir, "/", "gzip", header(br, http::field::etag)).response.result_int() == 200);

  auto wasm = get(dir, "/assets/core.0123456789.wasm", "br, gzip");  // no .br: gzip it is
  CHECK(wasm.response.body() == "gz wasm");
  CHECK(header(wasm, http::field::content_type) == "application/wasm");
}

TEST_CASE("static: methods and names") {
  TempDir dir;
  dir.write("/index.html", "page");
  dir.write("/.secret", "no");
  CHECK(get(dir, "/", "", "", http::verb::post).kind == StaticReply::Kind::MethodNotAllowed);
  CHECK(get(dir, "/index.html", "", "", http::verb::put).kind == StaticReply::Kind::MethodNotAllowed);
  CHECK(get(dir, "/nope", "", "", http::verb::post).kind == StaticReply::Kind::NotFound);
  for (const char* target : {"/.secret", "/assets/../index.html", "/%2e%2e/etc/passwd", "/assets", "//etc/passwd"}) {
    INFO(target);
    CHECK(get(dir, target).kind == StaticReply::Kind::NotFound);
  }
  auto head = get(dir, "/", "", "", http::verb::head);
  CHECK(head.kind == StaticReply::Kind::Found);
}
