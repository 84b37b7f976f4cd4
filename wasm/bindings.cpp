// The whole Embind surface of the client core, in one file: the Client's
// input methods, drainOutputs() for what it wants done, and a live-object
// counter for leak checks. The JS shim (web/meshmeet.js) owns every browser
// object and is the only caller.
#include <string>

#include <emscripten/bind.h>

#include "wasm/core/client.hpp"

namespace {

using meshmeet::core::Client;
using meshmeet::core::ClientConfig;

int g_live_clients = 0;

// A Client built from the JSON options of joinMeeting (camelCase keys, see
// client_config.hpp). Bad options must be refused before construction:
// validateConfig() says why.
class BoundClient : public Client {
 public:
  explicit BoundClient(const std::string& config_json) : Client(config_of(config_json)) { ++g_live_clients; }
  ~BoundClient() { --g_live_clients; }
  BoundClient(const BoundClient&) = delete;
  BoundClient& operator=(const BoundClient&) = delete;

 private:
  static ClientConfig config_of(const std::string& json) {
    std::string error;
    return meshmeet::core::parse_client_config(json, error).value_or(ClientConfig{});
  }
};

std::string validate_config(const std::string& json) {
  std::string error;
  return meshmeet::core::parse_client_config(json, error) ? std::string() : error;
}

int live_clients() { return g_live_clients; }

}  // namespace

EMSCRIPTEN_BINDINGS(meshmeet_core) {
  using namespace emscripten;
  function("validateConfig", &validate_config);
  function("liveClients", &live_clients);

  // Methods are bound on the core's own class; JS constructs the subclass
  // that counts itself and takes its options as JSON.
  class_<Client>("CoreClient")
      // the app's requests
      .function("join", &Client::join)
      .function("leave", &Client::leave)
      .function("setLocalTrack", &Client::set_local_track)
      .function("setMuted", &Client::set_muted)
      .function("markVerified", &Client::mark_verified)
      .function("setUplinkBudget", &Client::set_uplink_budget)
      .function("setView", &Client::set_view)
      // the signaling socket
      .function("socketOpened", &Client::socket_opened)
      .function("socketClosed", &Client::socket_closed)
      .function("socketMessage", &Client::socket_message)
      // peer connections
      .function("createPeerConnectionFailed", &Client::create_peer_connection_failed)
      .function("negotiationNeeded", &Client::negotiation_needed)
      .function("localDescription", &Client::local_description)
      .function("operationDone", &Client::operation_done)
      .function("operationFailed", &Client::operation_failed)
      .function("iceCandidate", &Client::ice_candidate)
      .function("signalingState", &Client::signaling_state)
      .function("iceConnectionState", &Client::ice_connection_state)
      .function("connectionState", &Client::connection_state)
      .function("track", &Client::track)
      .function("remoteCertificate", &Client::remote_certificate)
      .function("dataChannelOpen", &Client::data_channel_open)
      .function("dataChannelClosed", &Client::data_channel_closed)
      .function("dataChannelMessage", &Client::data_channel_message)
      .function("stats", &Client::stats)
      // the device
      .function("networkChanged", &Client::network_changed)
      .function("cpuPressure", &Client::cpu_pressure)
      // timers
      .function("timerFired", &Client::timer_fired)
      // outputs and introspection
      .function("drainOutputs", &Client::drain_json)
      .function("hasOutputs", &Client::has_outputs)
      .function("state", &Client::state)
      .function("snapshot", &Client::snapshot_json)
      .function("activeTimerCount", &Client::active_timer_count);
  class_<BoundClient, base<Client>>("Client").constructor<std::string>();
}
