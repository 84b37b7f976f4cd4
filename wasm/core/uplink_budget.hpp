// A mesh participant uploads one copy of its video per peer, so one uplink
// budget is split across the video senders. Audio is small and matters most:
// it keeps its share off the top.
//
// What a copy's share buys depends on what is sent. A camera gets the
// resolution its bitrate affords, scaled from the source's real height (a
// 480p camera is not scaled as if it were 720p, and never below what the
// budget allows). A shared screen is text: it keeps its resolution (up to
// 1080 lines) and gives up frame rate instead, so that a screen shared to
// six people stays readable (the shim also marks its track
// contentHint "text").
#pragma once

namespace meshmeet::core {

// The video being sent.
struct VideoSource {
  int height = 0;  // in pixels; 0 when unknown (taken as 720)
  bool screen = false;
};

struct SenderBudget {
  int max_bitrate_bps;
  double scale_resolution_down_by;
  int max_framerate;  // 0: the source's own
  bool operator==(const SenderBudget& o) const {
    return max_bitrate_bps == o.max_bitrate_bps && scale_resolution_down_by == o.scale_resolution_down_by &&
           max_framerate == o.max_framerate;
  }
  bool operator!=(const SenderBudget& o) const { return !(*this == o); }
};

// The encoding limits for each of `video_senders` video senders (≥ 1).
// `audio_kbps` is reserved per sender when `with_audio`.
SenderBudget split_uplink_budget(int uplink_kbps, int audio_kbps, int video_senders, bool with_audio,
                                 VideoSource source = {});

}  // namespace meshmeet::core
