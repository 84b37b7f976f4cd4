// The server's certificate and key, read from --tls-cert and --tls-key: at
// start, and again on SIGHUP (a renewed certificate, no call dropped).
#pragma once

#include <optional>
#include <string>

#include <boost/asio/ssl/context.hpp>

namespace meshmeet::server {

// A fresh TLS server context (TLS 1.2 and later) holding the certificate
// chain and the key read from their files, checked against each other; or
// nullopt with `error` naming the file. A fresh context each time, so a
// reload starts from nothing (no intermediate of an earlier chain, no key
// of another type left behind). Connections made with an earlier context
// keep it: OpenSSL counts its references.
std::optional<boost::asio::ssl::context> load_tls_context(const std::string& cert_file, const std::string& key_file,
                                                          std::string& error);

}  // namespace meshmeet::server
