#include "wasm/core/uplink_budget.hpp"

#include <algorithm>
#include <limits>
#include <numeric>
#include <optional>

namespace meshmeet::core {

namespace {
constexpr int kMinVideoKbps = 30;     // below this a video sender is useless, but we never starve audio for it
constexpr int kAssumedHeight = 720;   // a source whose height the browser did not say
constexpr int kScreenMaxHeight = 1080;  // text stays legible; a 4K screen need not be sent whole
constexpr int kUnlimited = std::numeric_limits<int>::max();

// The picture height a camera copy's bitrate affords: where common encoders
// stop spending bits on sharpness and start starving every pixel.
int affordable_height(int kbps) {
  if (kbps >= 1500) return 720;
  if (kbps >= 800) return 480;
  if (kbps >= 450) return 360;
  if (kbps >= 200) return 240;
  return 180;
}

// The other way round: the bitrate past which a copy drawn `height` pixels
// high gains nothing visible.
int useful_kbps(int height) {
  if (height <= 180) return 150;
  if (height <= 240) return 200;
  if (height <= 360) return 450;
  if (height <= 480) return 800;
  if (height <= 720) return 1500;
  return 2500;
}

// A screen's frame rate by bitrate: slides and code need few frames, each sharp.
int screen_framerate(int kbps) {
  if (kbps >= 1500) return 15;
  if (kbps >= 500) return 8;
  return 5;
}

// A camera copy's frame rate by the height it is sent at (0: the source's
// own). A small picture shows little motion detail, and a mesh encodes one
// copy per peer, so a copy sent as a thumbnail takes fewer frames, each with
// more of its bits: the pairs of LiveKit's classic presets (h216 at 15
// frames/s, h360 at 20, h540 at 25, 720 and up at 30).
int camera_framerate(double height) {
  if (height <= 240) return 15;
  if (height <= 360) return 20;
  if (height <= 540) return 25;
  return 0;
}

// Per CPU step: the share of the height every camera copy keeps, and the
// frame rate cap (0: none beyond the copy's own). A screen keeps its
// resolution and only slows down. Never below 0.6: a tile sent its own size
// is then drawn at most 1.67× the picture it gets (at ½ it was 2×, and
// encoders round the height down to whole macroblocks, so a little more:
// visibly soft).
constexpr double kCpuHeightFactor[kMaxCpuStep + 1] = {1.0, 0.75, 0.6, 0.6};
constexpr int kCpuFramerate[kMaxCpuStep + 1] = {0, 0, 0, 15};

SenderBudget shape(int kbps, double source_height, bool screen, int view, int cpu_step) {
  const int step = std::clamp(cpu_step, 0, kMaxCpuStep);
  if (screen) {
    double height = std::min<double>(source_height, kScreenMaxHeight);
    if (view > 0) height = std::min<double>(height, view);
    int framerate = screen_framerate(kbps);
    if (step > 0) framerate = std::max(2, framerate >> step);
    return SenderBudget{kbps * 1000, std::max(1.0, source_height / height), framerate};
  }
  double height = std::min<double>(affordable_height(kbps), source_height);
  if (view > 0) height = std::min<double>(height, view);
  height *= kCpuHeightFactor[step];  // of what would be sent, whatever limits it
  // By the size the copy is sent at, the CPU step's cut included: a copy the
  // step made a thumbnail goes at a thumbnail's rate and with a thumbnail's
  // bits, which is most of what a step saves (every frame and every packet
  // is encoded or encrypted, sent, received and decoded once per peer).
  int framerate = camera_framerate(height);
  if (kCpuFramerate[step] > 0) framerate = framerate > 0 ? std::min(framerate, kCpuFramerate[step]) : kCpuFramerate[step];
  if (step > 0) kbps = std::min(kbps, useful_kbps(static_cast<int>(height)));
  return SenderBudget{kbps * 1000, std::max(1.0, source_height / height), framerate};
}
}  // namespace

SenderBudget split_uplink_budget(int uplink_kbps, int audio_kbps, int video_senders, bool with_audio,
                                 VideoSource source) {
  return split_uplink_by_view(uplink_kbps, audio_kbps, with_audio, source,
                              std::vector<int>(std::max(1, video_senders), kViewUnknown))[0];
}

std::vector<SenderBudget> split_uplink_by_view(int uplink_kbps, int audio_kbps, bool with_audio, VideoSource source,
                                               const std::vector<int>& views, int cpu_step) {
  const int senders = static_cast<int>(views.size());
  std::vector<SenderBudget> out;
  if (senders == 0) return out;
  const double source_height = source.height > 0 ? source.height : kAssumedHeight;
  // What each copy can use: nothing for a peer that draws none, what its
  // view's height is worth, or anything for a peer that did not say.
  std::vector<int> need(senders);
  for (int i = 0; i < senders; ++i)
    need[i] = views[i] == 0   ? 0
              : views[i] < 0 ? kUnlimited
                             : useful_kbps(std::min<int>(views[i], static_cast<int>(source_height)));
  // Water-filling: the copies that need less than an equal part of what is
  // left get what they need, served least first; the others share the rest
  // equally. Audio keeps its part for every connection, video or not.
  const int for_audio = with_audio ? audio_kbps * senders : 0;
  int left = std::max(0, uplink_kbps - for_audio);
  std::vector<int> order(senders);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return need[a] < need[b]; });
  std::vector<int> given(senders, 0);
  int drawing = static_cast<int>(std::count_if(need.begin(), need.end(), [](int n) { return n > 0; }));
  std::optional<int> equal;  // once the copies left need more than their part
  for (int i : order) {
    if (need[i] == 0) continue;
    if (!equal && need[i] > left / drawing) equal = left / drawing;
    given[i] = equal ? *equal : need[i];
    if (!equal) {
      left -= given[i];
      --drawing;
    }
  }
  out.reserve(senders);
  for (int i = 0; i < senders; ++i) {
    SenderBudget b = shape(std::max(kMinVideoKbps, given[i]), source_height, source.screen, views[i], cpu_step);
    if (views[i] == 0) b.active = false;
    out.push_back(b);
  }
  return out;
}

}  // namespace meshmeet::core
