#!/bin/sh
# Starts Chromium ($MESHMEET_CHROMIUM_BIN) without CAP_SYS_NICE, so that
# none of its threads can take a higher priority than the rest.
#
# Why: as root, Chromium raises its media threads (WebRTC, compositor,
# audio) to nice -8 and real time. With five pages of one meeting on two
# cores, the four established pages' media threads then starve a joining
# page's main thread: it took 15 to 25 s to apply an offer, so the connect
# watchdogs at both ends kept tearing its connections down. Pages of a real
# meeting run on separate machines; here every thread competes evenly.
set -e
exec setpriv --inh-caps=-sys_nice --bounding-set=-sys_nice -- "${MESHMEET_CHROMIUM_BIN:?}" "$@"
