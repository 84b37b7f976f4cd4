#include "wasm/core/uplink_budget.hpp"

#include <algorithm>

namespace meshmeet::core {

namespace {
constexpr int kMinVideoKbps = 30;     // below this a video sender is useless, but we never starve audio for it
constexpr int kAssumedHeight = 720;   // a source whose height the browser did not say
constexpr int kScreenMaxHeight = 1080;  // text stays legible; a 4K screen need not be sent whole

// The picture height a camera copy's bitrate affords: where common encoders
// stop spending bits on sharpness and start starving every pixel.
int affordable_height(int kbps) {
  if (kbps >= 1500) return 720;
  if (kbps >= 800) return 480;
  if (kbps >= 450) return 360;
  if (kbps >= 200) return 240;
  return 180;
}

// A screen's frame rate by bitrate: slides and code need few frames, each sharp.
int screen_framerate(int kbps) {
  if (kbps >= 1500) return 15;
  if (kbps >= 500) return 8;
  return 5;
}
}  // namespace

SenderBudget split_uplink_budget(int uplink_kbps, int audio_kbps, int video_senders, bool with_audio,
                                 VideoSource source) {
  const int senders = std::max(1, video_senders);
  const int for_audio = with_audio ? audio_kbps * senders : 0;
  const int per_sender = std::max(kMinVideoKbps, (uplink_kbps - for_audio) / senders);
  const double height = source.height > 0 ? source.height : kAssumedHeight;
  if (source.screen)
    return SenderBudget{per_sender * 1000, std::max(1.0, height / kScreenMaxHeight), screen_framerate(per_sender)};
  return SenderBudget{per_sender * 1000, std::max(1.0, height / affordable_height(per_sender)), 0};
}

}  // namespace meshmeet::core
