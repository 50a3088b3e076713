#!/usr/bin/env python3
"""Media relay benchmark beside the UDP anchor, in the same sitting (issue 4 section 6).

    python3 tests/bench/relay_bench.py --build build [--secs 10] [--runs 3] [--quick]

1. Paced search (the anchor's own harness, /work/shared/anchors/lib/udprun.py):
   highest aggregate rate over 100 streams of 172-byte packets with loss <= 0.1 %,
   load generator (udpbench send + recv) pinned to CPU 0, relay pinned to CPU 1:
   once for the anchor's bare recvmmsg->sendmmsg relay, once for Duplex's
   MediaRelay (relay_bench serve). The ratio Duplex / anchor is the figure.
2. Flat-out: unpaced sender, 100 streams: packets/s each relay forwards.
3. Latency: relay_bench latency, 1,000 calls both ways = 100,000 packets/s,
   p50/p99 one-way latency through the relay and phone-to-phone without it.
4. Memory: RSS growth per session with 1,000 sessions.
Loopback only. Needs gcc and taskset; the anchor sources are compiled into a
scratch folder (the anchors folder may be read-only).
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ANCHORS = os.environ.get("DUPLEX_ANCHORS", "/work/shared/anchors")
sys.path.insert(0, os.path.join(ANCHORS, "lib"))
import udprun  # noqa: E402  (the anchor's harness: pin(), parse_result(), paced_search())


class DuplexRelay:
    """relay_bench serve, shaped like udprun.Relay for paced_search()."""

    def __init__(self, exe, n, sink=23000):
        self.exe, self.n, self.sink, self.startup = exe, n, sink, None
        self.work = tempfile.mkdtemp(prefix="duplex-relay-")
        self.p = None

    def start(self):
        out = open(os.path.join(self.work, "relay.out"), "w")
        self.p = subprocess.Popen(udprun.pin(1) + [self.exe, "serve", "--sessions", str(self.n),
                                                   "--sink-base", str(self.sink),
                                                   "--source-port", "27000"],
                                  stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            text = open(out.name).read()
            m = re.search(r"^TARGETS (\S+)$", text, re.M)
            if m:
                self.targets = [int(x) for x in m.group(1).split(",")]
                mem = re.search(r"^MEMORY .*$", text, re.M)
                self.memory = mem.group(0) if mem else ""
                return
            if self.p.poll() is not None:
                raise RuntimeError("relay_bench exited: " + text[-500:])
            time.sleep(0.05)
        raise RuntimeError("relay_bench did not print TARGETS")

    def rss_kb(self):
        try:
            with open(f"/proc/{self.p.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            return None

    def stop(self):
        result = {}
        if self.p and self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
            result = udprun.parse_result(open(os.path.join(self.work, "relay.out")).read())
        shutil.rmtree(self.work, ignore_errors=True)
        return result


def flat_out(U, relay, secs, n=100):
    """Unpaced sender into `relay` (started here); returns relayed pps and CPU."""
    relay.start()
    work = tempfile.mkdtemp(prefix="duplex-flat-")
    try:
        rout = open(os.path.join(work, "recv.out"), "w")
        recv = subprocess.Popen(udprun.pin(0) + [U, "recv", "-l", f"127.0.0.1:{relay.sink}", "-n", str(n),
                                                 "-b", "32", "-I", "1500"], stdout=rout, stderr=subprocess.STDOUT)
        time.sleep(0.2)
        sout = open(os.path.join(work, "send.out"), "w")
        plist = ",".join(str(p) for p in relay.targets)
        send = subprocess.Popen(udprun.pin(0) + [U, "send", "-d", "127.0.0.1:1", "-P", plist, "-l", "127.0.0.1:27000",
                                                 "-b", "32", "-t", str(secs)], stdout=sout, stderr=subprocess.STDOUT)
        time.sleep(1)
        t_a, c_a = time.monotonic(), udprun.ticks(relay.p.pid)
        time.sleep(secs - 2)
        t_b, c_b = time.monotonic(), udprun.ticks(relay.p.pid)
        send.wait(timeout=secs + 10)
        recv.wait(timeout=30)
        rr = udprun.parse_result(open(rout.name).read())
        sr = udprun.parse_result(open(sout.name).read())
    finally:
        stats = relay.stop()
        shutil.rmtree(work, ignore_errors=True)
    cpu = 100.0 * (c_b - c_a) / udprun.HZ / (t_b - t_a)
    return {"sent_pps": sr.get("pps"), "received_pps": rr.get("pps_in"),
            "received": rr.get("packets_in"), "sent": sr.get("packets"),
            "relay_cpu_pct": round(cpu, 1), "relay": stats}


def interleaved(U, exe, a):
    """Fixed paced rates, anchor and duplex alternating, so that the machine's
    load drifts over both alike; relay CPU % at the same rate gives the packets
    per relay CPU-second of each (less sensitive to other load than a max rate)."""
    for rate in (100000, 150000):
        rows = {"anchor": [], "duplex": []}
        for run in range(a.runs):
            for name, mk in (("anchor", lambda: udprun.Relay("udpbench", U, 100)),
                             ("duplex", lambda: DuplexRelay(exe, 100))):
                r = udprun.paced_trial(U, mk(), rate, a.secs, a.max_loss)
                rows[name].append(r)
                print(f"rate {rate} run {run + 1} {name}: pass={r['pass']} loss={r['loss_pct']}% "
                      f"relay CPU={r['relay_cpu_pct']}% sender={r['sender_pps']}", flush=True)
        eff = {}
        for name, rs in rows.items():
            ok = [r for r in rs if r["relay_cpu_pct"]]
            eff[name] = sum(r["sender_pps"] / (r["relay_cpu_pct"] / 100.0) for r in ok) / max(1, len(ok))
        print(f"rate {rate}: passes anchor {sum(r['pass'] for r in rows['anchor'])}/{a.runs}, duplex "
              f"{sum(r['pass'] for r in rows['duplex'])}/{a.runs}; packets per relay CPU-second anchor "
              f"{eff['anchor']:,.0f}, duplex {eff['duplex']:,.0f}, ratio {eff['duplex'] / eff['anchor']:.2f}",
              flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build", help="CMake build dir with tests/bench/relay_bench")
    ap.add_argument("--secs", type=int, default=10)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--max-loss", type=float, default=0.1)
    ap.add_argument("--quick", action="store_true", help="skip the paced searches")
    ap.add_argument("--interleaved", action="store_true",
                    help="only the interleaved fixed-rate trials (anchor, duplex, anchor, ...)")
    a = ap.parse_args()
    exe = os.path.abspath(os.path.join(a.build, "tests", "bench", "relay_bench"))
    scratch = tempfile.mkdtemp(prefix="duplex-anchor-")
    U = os.path.join(scratch, "udpbench")
    subprocess.check_call(["gcc", "-O2", "-Wall", "-Wextra", "-o", U, os.path.join(ANCHORS, "udp", "udpbench.c")])
    print(f"# relay benchmark {time.strftime('%Y-%m-%d %H:%M:%S')}, load average {os.getloadavg()[0]:.2f}",
          flush=True)

    if a.interleaved:
        interleaved(U, exe, a)
        shutil.rmtree(scratch, ignore_errors=True)
        return

    # Memory per session at 1,000 sessions.
    mem = DuplexRelay(exe, 1000)
    mem.start()
    print(mem.memory, flush=True)
    mem.stop()

    # Flat-out, both relays, alternating.
    for run in range(a.runs):
        anchor = udprun.Relay("udpbench", U, 100)
        fa = flat_out(U, anchor, a.secs)
        fd = flat_out(U, DuplexRelay(exe, 100), a.secs)
        ratio = (fd["received_pps"] or 0) / (fa["received_pps"] or 1)
        print(f"flat-out run {run + 1}: anchor {fa['received_pps']} pps (relay CPU {fa['relay_cpu_pct']} %), "
              f"duplex {fd['received_pps']} pps (relay CPU {fd['relay_cpu_pct']} %), ratio {ratio:.2f}; "
              f"duplex sent {fd['sent']} received {fd['received']}", flush=True)

    # Latency at 1,000 calls / 100,000 packets/s.
    for path in ([], ["--direct"]):
        out = subprocess.run([exe, "latency", "--sessions", "1000", "--rate", "100000", "--secs", str(a.secs)] + path,
                             capture_output=True, text=True)
        print(out.stdout.strip() or out.stderr.strip(), flush=True)

    if not a.quick:
        ra, _ = udprun.paced_search(U, a, "anchor udpbench relay, 1 core, 100 streams (paced)",
                                    lambda: udprun.Relay("udpbench", U, 100), 100000)
        rd, _ = udprun.paced_search(U, a, "duplex MediaRelay, 1 core, 100 streams (paced)",
                                    lambda: DuplexRelay(exe, 100), 100000)
        ratio = (rd["max_rate_pps"] or 0) / (ra["max_rate_pps"] or 1)
        print(f"\npaced max (loss <= {a.max_loss} %): anchor {ra['max_rate_pps']} pps, "
              f"duplex {rd['max_rate_pps']} pps, ratio {ratio:.2f}")
        print(f"anchor: {ra}\nduplex: {rd}")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
