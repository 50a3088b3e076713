#!/bin/bash
# Added latency of the media relay beside the anchor's bare relay, in one
# sitting (issue 4 section 6: p99 under 1 ms at 1,000 calls, 100,000
# packets/s). Prints one RESULT line per run.
#
#   tests/bench/relay_latency.sh BUILD_DIR [ROUNDS] [SECS]
#
# Each round runs, one after the other, so that the machine's minute is the
# same for all four:
#   anchor  the anchor's `udpbench relay` (../shared/anchors/udp/udpbench.c,
#           compiled here), one socket per stream: 2,000 streams = both
#           directions of 1,000 calls, pinned to CPU 1 like Duplex's relay;
#   rt=10   Duplex's MediaRelay at SCHED_FIFO 10, the daemon's default
#           (media.realtime_priority);
#   rt=0    Duplex's MediaRelay at normal priority;
#   direct  phone to phone without a relay (the loopback stack's own latency).
# The same generator (relay_bench latency, CPU 0) drives all of them.
# Needs root or RLIMIT_RTPRIO >= 10 for rt=10 (it says so otherwise).
set -euo pipefail
build=$(cd "${1:?usage: relay_latency.sh BUILD_DIR [ROUNDS] [SECS]}" && pwd)
rounds=${2:-3}
secs=${3:-10}
here=$(cd "$(dirname "$0")" && pwd)
anchors=${DUPLEX_ANCHORS:-$here/../../../shared/anchors}
bench=$build/tests/bench/relay_bench
scratch=$(mktemp -d /tmp/duplex-latency-XXXXXX)
trap 'rm -rf "$scratch"' EXIT
gcc -O2 -o "$scratch/udpbench" "$anchors/udp/udpbench.c"
ulimit -n 20000

result() { grep '^RESULT' | sed 's/^RESULT mode=latency //'; }

echo "# relay latency $(date '+%F %T'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$rounds"); do
  taskset -c 1 "$scratch/udpbench" relay -l 127.0.0.1:21000 -d 127.0.0.1:25000 -n 2000 -b 32 \
    -t 3600 >"$scratch/anchor.out" 2>&1 &
  anchor=$!
  sleep 0.5
  "$bench" latency --sessions 1000 --rate 100000 --secs "$secs" --anchor-in 21000 \
    --anchor-out 25000 | result
  kill -INT "$anchor"
  wait "$anchor" || true
  for rt in 10 0; do
    "$bench" latency --sessions 1000 --rate 100000 --secs "$secs" --rt "$rt" | result
  done
  "$bench" latency --sessions 1000 --rate 100000 --secs "$secs" --direct | result
done
echo "# done $(date '+%F %T'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
