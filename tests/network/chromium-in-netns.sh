#!/bin/sh
# Chromium inside one home of the network lab: playwright-core starts this as
# its browser and talks to it over a pipe, so no network is needed between
# them. Run without CAP_SYS_NICE, as tests/browser/chromium-even-priority.sh
# explains, so no page's media threads starve another's main thread.
set -e
exec ip netns exec "${MESHMEET_NETNS:?}" \
  setpriv --inh-caps=-sys_nice --bounding-set=-sys_nice -- "${MESHMEET_CHROMIUM_BIN:?}" "$@"
