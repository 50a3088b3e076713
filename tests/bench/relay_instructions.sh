#!/usr/bin/env bash
# Instructions per forwarded packet of Duplex's relay thread and of the anchor's
# minimal recvmmsg->sendmmsg relay (udpbench relay), under the same load: the
# load-independent form of issue 4's ">= 90 % of the anchor" relay target.
# Results and their reading: tests/bench/media.md.
#
#   [MODE=lockstep|paced] [BURST=1] [SEND_BATCH=1] [KEEP_CALLGRIND=DIR] \
#     tests/bench/relay_instructions.sh [BUILD_DIR] [RATE_PPS] [SECONDS] [STREAMS]
#   defaults: lockstep, build 4000 10 100 (about 20 s per relay)
#
# Each relay runs under valgrind --tool=callgrind, collecting only its relay
# loop (--toggle-collect: the anchor's main(), i.e. its relay loop plus
# argument parsing and socket set-up; Duplex's MediaRelay::Engine::run(),
# which includes applying the sessions' set-up commands, the 200 ms timer
# ticks and the one-way diagnosis the load provokes: leg B never sends).
# The same generator (MODE below; 172-byte RTP packets over STREAMS ports from
# one fixed source port) feeds both and takes what they forward. Forwarded
# packets come from each relay's own counters (udpbench's RESULT packets_out;
# relay_bench's RESULT packets_out, i.e. RelayCounters::packets_relayed).
#
# Prints per relay: forwarded packets, user-space instructions (Ir) per
# packet, packets per read (recvmmsg), and the relay loop's system calls per
# packet: calls of the libc wrappers epoll_wait, recvmmsg, sendmmsg and
# syscall (Duplex makes its three per-packet calls through syscall(2),
# relay_engine.h). clock_gettime is not counted: natively a vDSO call, not a
# syscall. Callgrind sees user space only; the kernel's side of the syscalls
# (most of a packet's cost on loopback) is the same for both relays when the
# syscall counts are equal, which lockstep guarantees. KEEP_CALLGRIND=DIR
# keeps the two callgrind files for callgrind_annotate.
#
# Loopback only; ports 62000+ (sinks), 62900 (source), 63000+ (anchor input),
# 64000+ (Duplex's relay ports). Needs gcc, valgrind, python3.
set -euo pipefail

BUILD=${1:-build}
RATE=${2:-4000}
SECS=${3:-10}
N=${4:-100}
[[ $N =~ ^[0-9]+$ ]] && ((N >= 1 && N <= 250)) ||
  { echo "STREAMS must be 1-250 (the fixed port blocks below hold 250 sessions), not '$N'" >&2; exit 2; }
# MODE=lockstep (default): RATE x SECONDS packets, each sent when the previous
# one has come out of the relay, so every epoll round, recvmmsg() and
# sendmmsg() carries exactly one packet whatever the machine's load: the
# figures repeat run to run (RTP's own regime too: 50 packets/s per stream
# arrive one at a time). MODE=paced: udpbench send at RATE for SECONDS,
# SEND_BATCH packets per sendmmsg(); how many packets a relay then drains per
# recvmmsg() (packets_per_read) depends on scheduling, and so does Ir/packet.
# BURST=K (lockstep, K > 1): the relay is stopped (SIGSTOP) while K packets
# per stream queue up, then continued and drained: every read takes exactly
# K packets (K up to the relay's batch: 32 for the anchor), which shows the
# cost per packet apart from the cost per read and per epoll round.
MODE=${MODE:-lockstep}
BURST=${BURST:-1}
SEND_BATCH=${SEND_BATCH:-1}
ANCHORS=${DUPLEX_ANCHORS:-/work/shared/anchors}
EXE=$(readlink -f "$BUILD/tests/bench/relay_bench")
[[ -x $EXE ]] || { echo "no $BUILD/tests/bench/relay_bench: build target relay_bench" >&2; exit 2; }
# Fixed ports above the kernel's ephemeral range (32768-60999) and outside the
# unit tests' relay ranges (20000-59999): nothing else here sends to them.
SINK=62000
SOURCE=62900
ANCHOR_IN=63000
DUPLEX_PORTS=64000

WORK=$(mktemp -d /tmp/relay-instructions.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

gcc -O2 -g -Wall -Wextra -o "$WORK/udpbench" "$ANCHORS/udp/udpbench.c"
U=$WORK/udpbench

result() {  # result FILE KEY: the value of KEY= on the RESULT line
  sed -n "s/^RESULT .*[ ]$2=\([^ ]*\).*/\1/p" "$1" | tail -1
}

calls() {  # calls CALLGRIND_OUT FUNCTION: calls of FUNCTION (any signature, summed over callers)
  awk -v f="$2" '
    /^cfn=/ { target = substr($0, 5); sub(/\(.*/, "", target) }
    /^calls=/ { split(substr($0, 7), a, " "); if (target == f) n += a[1] }
    END { print n + 0 }' "$1"
}

measure() {  # measure NAME OUTFILE TOGGLE RELAY-ARGV...: starts one relay under callgrind (pid in RELAY)
  local name=$1 out=$2
  shift 2
  local toggle=$1
  shift
  valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect="$toggle" \
    --compress-strings=no --compress-pos=no "$@" >"$WORK/$name.relay" 2>"$WORK/$name.valgrind" &
  RELAY=$!
  PIDS+=("$RELAY")
}

run_load() {  # run_load PORTLIST: the generator (and, paced, the receiver); returns when done
  if [[ $MODE == lockstep ]]; then
    python3 "$WORK/lockstep.py" "$SOURCE" "$SINK" "$N" $((RATE * SECS)) "$1" "$BURST" "$RELAY" \
      >"$WORK/send.out"
    return
  fi
  "$U" recv -l 127.0.0.1:$SINK -n "$N" -b 32 -I 3000 >"$WORK/recv.out" 2>/dev/null &
  local recv=$!
  PIDS+=("$recv")
  sleep 0.3
  "$U" send -d 127.0.0.1:1 -P "$1" -l 127.0.0.1:$SOURCE -b "$SEND_BATCH" -r "$RATE" -t "$SECS" \
    >"$WORK/send.out" 2>/dev/null
  wait "$recv" || true
}

# Lockstep generator: one 172-byte RTP packet per stream in turn (own SSRC
# and sequence per stream), each sent when the previous one came out of the
# relay at its sink (1 s timeout: counted lost).
cat >"$WORK/lockstep.py" <<'PY'
import os, select, signal, socket, struct, sys
source, sink, n, total, ports, burst, relay = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), \
    int(sys.argv[4]), [int(p) for p in sys.argv[5].split(",")], int(sys.argv[6]), int(sys.argv[7])
out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
out.bind(("127.0.0.1", source))
sinks = []
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", sink + i))
    sinks.append(s)
payload = b"\xd5" * 160
seqs = [0] * n
def send(i):
    seq = seqs[i]
    seqs[i] += 1
    out.sendto(struct.pack("!BBHII", 0x80, 0, seq & 0xFFFF, (seq * 160) & 0xFFFFFFFF, 0x1000 + i) + payload,
               ("127.0.0.1", ports[i]))
def take(i):  # one packet at sink i, or counted lost after 1 s
    if select.select([sinks[i]], [], [], 1.0)[0]:
        sinks[i].recv(2048)
        return 0
    return 1
lost = sent = 0
if burst <= 1:  # one packet in flight
    for k in range(total):
        send(k % n)
        sent += 1
        lost += take(k % n)
else:  # the relay stopped while BURST packets per stream queue up: every read takes BURST
    while sent < total:
        os.kill(relay, signal.SIGSTOP)
        for i in range(n):
            for _ in range(burst):
                send(i)
        os.kill(relay, signal.SIGCONT)
        for i in range(n):
            for _ in range(burst):
                lost += take(i)
        sent += n * burst
print(f"RESULT mode=lockstep burst={burst} packets={sent} received={sent - lost} lost={lost}")
PY

report() {  # report NAME CALLGRIND_OUT FORWARDED
  local name=$1 out=$2 fwd=$3
  local events totals
  events=$(sed -n 's/^events: *//p' "$out" | head -1)
  totals=$(sed -n 's/^summary: *//p' "$out" | head -1)
  awk -v n="$name" -v f="$fwd" -v s="$(result "$WORK/send.out" packets)" \
    -v events="$events" -v totals="$totals" \
    -v ew="$(calls "$out" epoll_wait)" -v rm="$(calls "$out" recvmmsg)" \
    -v sm="$(calls "$out" sendmmsg)" -v sc="$(calls "$out" syscall)" \
    -v reads="$(calls "$out" duplex::media::MediaRelay::Engine::onReadable)" '
    BEGIN {
      ne = split(events, e, " "); split(totals, t, " ")
      for (i = 1; i <= ne; ++i) v[e[i]] = t[i]
      if (f == 0) { printf "RESULT relay=%s forwarded=0 (nothing forwarded)\n", n; exit }
      if (reads == 0) reads = rm  # the anchor: one recvmmsg per readable socket
      printf "RESULT relay=%s sent=%d forwarded=%d ir=%d ir_per_packet=%.1f syscalls_per_packet=%.3f " \
             "packets_per_read=%.2f epoll_wait=%d recvmmsg=%d sendmmsg=%d syscall=%d\n",
             n, s, f, v["Ir"], v["Ir"] / f, (ew + rm + sm + sc) / f, f / reads, ew, rm, sm, sc
    }'
}

# --- the anchor: udpbench relay, N input ports -> N sink ports -------------
ports=$(seq -s, $ANCHOR_IN $((ANCHOR_IN + N - 1)))
measure anchor "$WORK/anchor.cg" main "$U" relay -l 127.0.0.1:$ANCHOR_IN \
  -d 127.0.0.1:$SINK -n "$N" -b 32 -I 3000
sleep 2  # valgrind start-up and socket set-up
run_load "$ports"
wait "$RELAY" || true
fwd=$(result "$WORK/anchor.relay" packets_out)
report anchor "$WORK/anchor.cg" "${fwd:-0}"

# --- Duplex: relay_bench serve, N sessions (leg A from SOURCE, leg B to SINK+i)
measure duplex "$WORK/duplex.cg" '*MediaRelay::Engine::run()' "$EXE" serve \
  --sessions "$N" --sink-base $SINK --source-port $SOURCE --port-min $DUPLEX_PORTS
for _ in $(seq 1 200); do
  grep -q '^TARGETS ' "$WORK/duplex.relay" 2>/dev/null && break
  sleep 0.1
done
ports=$(sed -n 's/^TARGETS //p' "$WORK/duplex.relay")
[[ -n $ports ]] || { echo "relay_bench printed no TARGETS" >&2; cat "$WORK/duplex.valgrind" >&2; exit 1; }
run_load "$ports"
kill -TERM "$RELAY"
wait "$RELAY" || true
fwd=$(result "$WORK/duplex.relay" packets_out)
report duplex "$WORK/duplex.cg" "${fwd:-0}"

if [[ -n ${KEEP_CALLGRIND:-} ]]; then
  cp "$WORK/anchor.cg" "$WORK/duplex.cg" "$KEEP_CALLGRIND/"
  echo "callgrind files in $KEEP_CALLGRIND (callgrind_annotate --inclusive=yes ...)"
fi
