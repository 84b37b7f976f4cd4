// The server's certificate and key, read from --tls-cert and --tls-key: at
// start, and again on SIGHUP (a renewed certificate, no call dropped).
#pragma once

#include <string>

#include <boost/asio/ssl/context.hpp>

namespace meshmeet::server {

// A TLS server context (TLS 1.2 and later).
boost::asio::ssl::context make_tls_context();

// Reads the certificate chain and the key from their files and installs
// them in `context`, all or nothing: both are read and checked against each
// other on a scratch context first, so a bad file (a renewal half-written,
// a key that does not match) leaves `context` as it was. Connections
// already open keep the certificate they were made with; new ones get the
// new one. False with `error` naming the file.
bool load_tls_files(boost::asio::ssl::context& context, const std::string& cert_file, const std::string& key_file,
                    std::string& error);

}  // namespace meshmeet::server
