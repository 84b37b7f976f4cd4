#include "wasm/core/uplink_budget.hpp"

#include <algorithm>

namespace meshmeet::core {

namespace {
constexpr int kMinVideoKbps = 30;  // below this a video sender is useless, but we never starve audio for it
}

SenderBudget split_uplink_budget(int uplink_kbps, int audio_kbps, int video_senders, bool with_audio) {
  const int senders = std::max(1, video_senders);
  const int for_audio = with_audio ? audio_kbps * senders : 0;
  const int per_sender = std::max(kMinVideoKbps, (uplink_kbps - for_audio) / senders);
  // Resolution follows bitrate, so the encoder spends bits on sharpness
  // rather than on more pixels than it can afford (for a 720p source:
  // 720p, 480p, 360p, 240p, 180p).
  double scale = 4.0;
  if (per_sender >= 1500)
    scale = 1.0;
  else if (per_sender >= 800)
    scale = 1.5;
  else if (per_sender >= 450)
    scale = 2.0;
  else if (per_sender >= 200)
    scale = 3.0;
  return SenderBudget{per_sender * 1000, scale};
}

}  // namespace meshmeet::core
