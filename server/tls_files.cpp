#include "server/tls_files.hpp"

#include <fstream>
#include <sstream>

#include <boost/asio/buffer.hpp>
#include <openssl/ssl.h>

namespace meshmeet::server {

namespace ssl = boost::asio::ssl;

namespace {

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream text;
  text << in.rdbuf();
  out = text.str();
  return static_cast<bool>(in) || in.eof();
}

// Installs PEM bytes into `context`; false with `error`.
bool install(ssl::context& context, const std::string& cert, const std::string& key, const std::string& cert_file,
             const std::string& key_file, std::string& error) {
  boost::system::error_code ec;
  context.use_certificate_chain(boost::asio::buffer(cert), ec);
  if (ec) {
    error = "--tls-cert " + cert_file + ": " + ec.message();
    return false;
  }
  context.use_private_key(boost::asio::buffer(key), ssl::context::pem, ec);
  if (ec) {
    error = "--tls-key " + key_file + ": " + ec.message();
    return false;
  }
  if (SSL_CTX_check_private_key(context.native_handle()) != 1) {
    error = "--tls-key " + key_file + " does not match the certificate in " + cert_file;
    return false;
  }
  return true;
}

}  // namespace

std::optional<ssl::context> load_tls_context(const std::string& cert_file, const std::string& key_file,
                                             std::string& error) {
  std::string cert, key;
  if (!read_file(cert_file, cert)) {
    error = "cannot read --tls-cert " + cert_file;
    return std::nullopt;
  }
  if (!read_file(key_file, key)) {
    error = "cannot read --tls-key " + key_file;
    return std::nullopt;
  }
  ssl::context context(ssl::context::tls_server);
  context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                      ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  if (!install(context, cert, key, cert_file, key_file, error)) return std::nullopt;
  return context;
}

}  // namespace meshmeet::server
