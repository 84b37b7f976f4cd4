// server/server: the server relays through whatever RoomRegistry its
// factory makes (this process's own now, a shared one later), and reads
// participants and meetings from it for HTTP and /metrics.
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "server/meeting_store.hpp"
#include "server/server.hpp"

using namespace meshmeet::server;
namespace proto = meshmeet::protocol;

namespace {

// A registry that answers with fixed numbers and remembers how it was made.
class FixedRooms final : public RoomRegistry {
 public:
  FixedRooms(RoomSettings settings, Delivery& delivery) : settings(std::move(settings)), delivery(delivery) {}

  void join(ConnId, const proto::Join&, std::string_view, TimePoint) override {}
  using RoomRegistry::signal;
  void signal(ConnId, std::string_view, std::string_view) override {}
  void remove(ConnId, proto::LeaveReason) override {}
  void hold(ConnId, proto::LeaveReason, TimePoint) override {}
  ExpireOutcome expire(TimePoint) override { return {}; }
  std::uint32_t participants(std::string_view) const override { return 5; }
  std::optional<MeetingRecord> live_meeting(std::string_view) const override { return std::nullopt; }
  bool is_live(const Digest&) const override { return false; }
  std::size_t participant_count() const override { return 7; }
  std::size_t active_meetings() const override { return 3; }
  std::size_t dropped_held_signals() const override { return 11; }

  RoomSettings settings;
  Delivery& delivery;
};

HttpRequest get(const std::string& target) {
  HttpRequest req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  return req;
}

}  // namespace

TEST_CASE("server: the room registry comes from the factory it is given, and HTTP and /metrics read it") {
  boost::asio::io_context io(1);
  Config config;
  config.room_cap = 3;
  config.resume_grace = 4;
  config.heartbeat_interval = 2;
  config.heartbeat_timeout = 6;
  std::string error;
  auto store = MeetingStore::open(":memory:", false, error);
  REQUIRE(store);

  FixedRooms* made = nullptr;
  int factory_calls = 0;
  RoomRegistryFactory factory = [&](const RoomSettings& settings, Delivery& delivery, RandomSource&) {
    ++factory_calls;
    auto rooms = std::make_unique<FixedRooms>(settings, delivery);
    made = rooms.get();
    return std::unique_ptr<RoomRegistry>(std::move(rooms));
  };
  Server server(io, config, std::move(store), nullptr, std::nullopt, factory);

  CHECK(factory_calls == 1);
  REQUIRE(made != nullptr);
  CHECK(&server.rooms() == made);
  CHECK(&made->delivery == static_cast<Delivery*>(&server));  // relays go out through the server's sockets
  // The settings the flags give.
  CHECK(made->settings.room_cap == 3);
  CHECK(made->settings.resume_grace == seconds(4));
  CHECK(made->settings.heartbeat_interval_ms == 2000);
  CHECK(made->settings.heartbeat_timeout_ms == 6000);

  const std::string id = "abcdefghijklmnopqrstuvwxyz";
  NewMeeting meeting{id, "standup", rfc3339_now(), "127.0.0.1", "test", "", ""};
  REQUIRE(server.store().create(meeting, error));
  auto info = server.api().handle(get("/api/meetings/" + id), "127.0.0.1", Clock::now());
  CHECK(info.result() == http::status::ok);
  CHECK(info.body().find("\"participants\":5") != std::string::npos);

  auto metrics = server.api().handle(get("/metrics"), "127.0.0.1", Clock::now());
  CHECK(metrics.result() == http::status::ok);
  CHECK(metrics.body().find("\nmeshmeet_participants 7\n") != std::string::npos);
  CHECK(metrics.body().find("\nmeshmeet_meetings_active 3\n") != std::string::npos);
  CHECK(metrics.body().find("\nmeshmeet_held_signals_dropped_total 11\n") != std::string::npos);
}
