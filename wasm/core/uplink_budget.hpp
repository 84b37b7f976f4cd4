// A mesh participant uploads one copy of its video per peer, so one uplink
// budget is split across the video senders. Audio is small and matters most:
// it keeps its share off the top.
#pragma once

namespace meshmeet::core {

struct SenderBudget {
  int max_bitrate_bps;
  double scale_resolution_down_by;
};

// The encoding limits for each of `video_senders` video senders (≥ 1).
// `audio_kbps` is reserved per sender when `with_audio`.
SenderBudget split_uplink_budget(int uplink_kbps, int audio_kbps, int video_senders, bool with_audio);

}  // namespace meshmeet::core
