#!/bin/sh
# Runs $LAB_EXEC inside the lab namespace $LAB_NETNS with the given arguments:
# how the tests start the server (and Firefox) on the lab's own network.
set -e
exec ip netns exec "${LAB_NETNS:?}" "${LAB_EXEC:?}" "$@"
