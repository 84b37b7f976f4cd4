#include "server/geoip.hpp"

#include <maxminddb.h>

namespace meshmeet::server {

struct GeoIp::Db {
  MMDB_s mmdb;
};

GeoIp::GeoIp() : db_(std::make_unique<Db>()) {}

GeoIp::~GeoIp() {
  if (db_) MMDB_close(&db_->mmdb);
}

std::unique_ptr<GeoIp> GeoIp::open(const std::string& path, std::string& error) {
  std::unique_ptr<GeoIp> geo(new GeoIp());
  int rc = MMDB_open(path.c_str(), MMDB_MODE_MMAP, &geo->db_->mmdb);
  if (rc != MMDB_SUCCESS) {
    error = "cannot open GeoIP database " + path + ": " + MMDB_strerror(rc);
    geo->db_.reset();
    return nullptr;
  }
  return geo;
}

namespace {
std::string lookup_string(MMDB_entry_s* entry, const char* const* path) {
  MMDB_entry_data_s data;
  if (MMDB_aget_value(entry, &data, path) != MMDB_SUCCESS || !data.has_data || data.type != MMDB_DATA_TYPE_UTF8_STRING)
    return {};
  return std::string(data.utf8_string, data.data_size);
}
}  // namespace

GeoLocation GeoIp::lookup(const std::string& ip) const {
  GeoLocation out;
  int gai_error = 0, mmdb_error = 0;
  MMDB_lookup_result_s result = MMDB_lookup_string(&db_->mmdb, ip.c_str(), &gai_error, &mmdb_error);
  if (gai_error != 0 || mmdb_error != MMDB_SUCCESS || !result.found_entry) return out;
  static const char* const country[] = {"country", "iso_code", nullptr};
  static const char* const city[] = {"city", "names", "en", nullptr};
  out.country = lookup_string(&result.entry, country);
  out.city = lookup_string(&result.entry, city);
  return out;
}

}  // namespace meshmeet::server
