// Country and city of a creator's IP address, from a MaxMind .mmdb file.
#pragma once

#include <memory>
#include <string>

namespace meshmeet::server {

struct GeoLocation {
  std::string country;  // ISO 3166 code, e.g. "NL"
  std::string city;     // English name
};

class GeoIp {
 public:
  // nullptr and `error` set when the file cannot be opened as an mmdb.
  static std::unique_ptr<GeoIp> open(const std::string& path, std::string& error);
  ~GeoIp();
  GeoIp(const GeoIp&) = delete;
  GeoIp& operator=(const GeoIp&) = delete;

  GeoLocation lookup(const std::string& ip) const;  // empty fields when unknown

 private:
  GeoIp();
  struct Db;
  std::unique_ptr<Db> db_;
};

}  // namespace meshmeet::server
