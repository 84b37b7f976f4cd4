// A mesh participant uploads one copy of its video per peer, so one uplink
// budget is split across the video senders. Audio is small and matters most:
// it keeps its share off the top.
//
// What a copy's share buys depends on what is sent. A camera gets the
// resolution its bitrate affords, scaled from the source's real height (a
// 480p camera is not scaled as if it were 720p, and never below what the
// budget allows), and a frame rate by that size: a thumbnail (240 lines or
// less) 15 frames/s, up to 360 lines 20, up to 540 lines 25, larger the
// camera's own. A shared screen is text: it keeps its resolution (up to
// 1080 lines) and gives up frame rate instead, so that a screen shared to
// six people stays readable (the shim also marks its track
// contentHint "text").
//
// Each peer may say how large it draws our video (its "view", see
// peer_signal.hpp): that copy is then encoded no larger than that, and the
// bitrate a small tile does not need goes to the copies that can use it. A
// peer that draws none (its tile off-screen, its tab hidden) gets no video
// at all until it draws it again. When the CPU cannot keep up with every
// copy, the mesh asks for a CPU step: every copy drawn smaller together,
// at the frame rate and with the bits of its smaller size (cpu_load.hpp
// decides when).
#pragma once

#include <vector>

namespace meshmeet::core {

// The video being sent.
struct VideoSource {
  int height = 0;  // in pixels; 0 when unknown (taken as 720)
  bool screen = false;
};

struct SenderBudget {
  int max_bitrate_bps;
  double scale_resolution_down_by;
  int max_framerate;    // 0: the source's own
  bool active = true;  // false: no video to this peer (it draws none)
  bool operator==(const SenderBudget& o) const {
    return max_bitrate_bps == o.max_bitrate_bps && scale_resolution_down_by == o.scale_resolution_down_by &&
           max_framerate == o.max_framerate && active == o.active;
  }
  bool operator!=(const SenderBudget& o) const { return !(*this == o); }
};

// A peer that has not said how large it draws our video (an older peer, or
// no tile yet): its copy is limited by the budget alone.
constexpr int kViewUnknown = -1;
// The CPU steps: 0 is none; each one draws every copy smaller, the last
// also at a lower frame rate.
constexpr int kMaxCpuStep = 3;

// The encoding limits for each of `video_senders` video senders (≥ 1) when
// no peer said how large it draws our video. `audio_kbps` is reserved per
// sender when `with_audio`.
SenderBudget split_uplink_budget(int uplink_kbps, int audio_kbps, int video_senders, bool with_audio,
                                 VideoSource source = {});

// The encoding limits for one copy per entry of `views` (each a peer's view
// height in pixels, 0 for none, or kViewUnknown), in the same order: no copy
// larger than its view, the bitrate split so that no copy gets more than its
// view can use while another could use more, every copy `cpu_step` steps
// down (0 … kMaxCpuStep).
std::vector<SenderBudget> split_uplink_by_view(int uplink_kbps, int audio_kbps, bool with_audio, VideoSource source,
                                               const std::vector<int>& views, int cpu_step = 0);

// How long a packet of our audio to each peer is, in milliseconds, with
// `peers` others in the meeting (asked of the browser through each peer's
// description, sdp_fields.hpp). A mesh device sends every peer its own copy
// and receives one from each, and every packet costs the same whatever it
// carries: about 60 bytes of IP, UDP, RTP and SRTP on the uplink (24 kb/s
// per copy at the browsers' 20 ms packets, next to 32 kb/s of voice) and one
// pass through the browser's network thread at each end. From two peers on,
// 40 ms packets halve both, for 20 ms more of delay; in a call of two there
// is one copy and nothing to save, so the browsers' 20 ms stay. Set when a
// peer's description arrives, so a connection made in a call of two keeps
// its 20 ms until it is negotiated again.
constexpr int kBrowserAudioPacketMs = 20;  // what a browser sends when the description says nothing
constexpr int audio_packet_ms(int peers) { return peers >= 2 ? 40 : kBrowserAudioPacketMs; }

}  // namespace meshmeet::core
