#!/usr/bin/env python3
"""Daemon benchmarks: start-up time, idle RSS, and the highest OPTIONS rate
sipp gets answered with zero failures over a window, with the daemon's CPU and
RSS at that rate. Everything on 127.0.0.1. Prints a Markdown table.

    tests/bench/daemon_bench.py --bin build/pbx/app/duplex [--duration 20]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "protocol"))
import duplexd  # noqa: E402

HZ = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return int(rest[11]) + int(rest[12])


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def startup(binary, runs):
    """Seconds from exec to the first answered OPTIONS, and idle RSS."""
    times, rss = [], []
    for _ in range(runs):
        d = duplexd.Daemon(binary)
        port = duplexd.free_port()
        d.sip_port = port
        try:
            t0 = time.monotonic()
            d.proc = subprocess.Popen([binary] + d.args + [f"--sip.port={port}"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            peer = duplexd.UdpPeer(d.sip_port)
            call_id, probe = duplexd.options_probe("127.0.0.1", d.sip_port)
            answered = None
            while time.monotonic() - t0 < 10:
                peer.send(probe)
                if peer.recv(timeout=0.002):
                    answered = time.monotonic()
                    break
            peer.close()
            if answered is None:
                raise RuntimeError("daemon never answered")
            times.append(answered - t0)
            time.sleep(1.0)  # let it settle before reading idle memory
            rss.append(rss_kib(d.proc.pid))
        finally:
            d.proc.terminate()
            d.proc.wait()
            d.proc = None
            d.cleanup()
    return statistics.median(times), statistics.median(rss)


class SippStandIn:
    """sipp answering OPTIONS itself: what the harness reaches without us."""

    def __init__(self):
        self.sip_port = duplexd.free_port()
        self.dir = tempfile.mkdtemp(prefix="duplex-bench-uas-")
        self.proc = subprocess.Popen(
            ["sipp", "-sf", os.path.join(HERE, "sipp", "options_uas.xml"), "-i", "127.0.0.1",
             "-p", str(self.sip_port), "-nostdin", "-max_recv_loops", "10000"],
            cwd=self.dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)

    def stop(self, expect_clean=False):
        self.proc.terminate()
        self.proc.wait()

    def cleanup(self):
        pass


def trial(binary, rate, duration):
    """One load run at `rate`; returns a dict of facts. `binary` None: the
    sipp stand-in instead of the daemon."""
    if binary is None:
        d = SippStandIn()
    else:
        d = duplexd.Daemon(binary, "--log.level=warn", "--log.level.app=info")
        d.start()
    try:
        total = rate * duration
        out = tempfile.mkdtemp(prefix="duplex-bench-")
        cmd = ["sipp", "-sf", os.path.join(HERE, "sipp", "options.xml"),
               f"127.0.0.1:{d.sip_port}", "-i", "127.0.0.1", "-p", "0",
               "-r", str(rate), "-m", str(total), "-l", str(max(1000, rate * 2)),
               "-nostdin", "-timeout", f"{duration * 3}s", "-max_recv_loops", "10000",
               "-max_sched_loops", "10000", "-trace_err", "-error_file",
               os.path.join(out, "err.log")]
        t_cpu0, t0 = cpu_ticks(d.proc.pid), time.monotonic()
        sipp = subprocess.Popen(cmd, cwd=out, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # CPU over the steady window [2 s, duration - 1 s]
        time.sleep(2)
        c1, w1 = cpu_ticks(d.proc.pid), time.monotonic()
        time.sleep(max(1, duration - 3))
        c2, w2 = cpu_ticks(d.proc.pid), time.monotonic()
        rss = rss_kib(d.proc.pid)
        code = sipp.wait(timeout=duration * 4)
        elapsed = time.monotonic() - t0
        del t_cpu0
        return {
            "rate": rate, "ok": code == 0 and elapsed < duration * 1.15,
            "sipp_exit": code, "elapsed": elapsed,
            "cpu_pct": 100.0 * (c2 - c1) / HZ / (w2 - w1), "rss_kib": rss,
        }
    finally:
        d.stop(expect_clean=False)
        d.cleanup()


def search(binary, duration, start, limit):
    best, rate, worst = None, start, None
    while rate <= limit:
        r = trial(binary, rate, duration)
        print(f"  rate {rate}/s: {'pass' if r['ok'] else 'FAIL'} "
              f"(sipp exit {r['sipp_exit']}, {r['elapsed']:.1f} s, cpu {r['cpu_pct']:.0f}%)",
              file=sys.stderr)
        if not r["ok"]:
            worst = rate
            break
        best = r
        rate = int(rate * 1.5)
    if best and worst:  # bisect between the last pass and the first failure
        lo, hi = best["rate"], worst
        while hi - lo > max(500, lo // 20):
            mid = (lo + hi) // 2
            r = trial(binary, mid, duration)
            print(f"  rate {mid}/s: {'pass' if r['ok'] else 'FAIL'}", file=sys.stderr)
            if r["ok"]:
                best, lo = r, mid
            else:
                hi = mid
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--duration", type=int, default=20)
    ap.add_argument("--start-rate", type=int, default=5000)
    ap.add_argument("--max-rate", type=int, default=200000)
    ap.add_argument("--startup-runs", type=int, default=10)
    ap.add_argument("--no-ceiling", action="store_true",
                    help="skip the sipp-against-sipp ceiling run")
    args = ap.parse_args()
    st, idle = startup(args.bin, args.startup_runs)
    print("daemon:", file=sys.stderr)
    best = search(args.bin, args.duration, args.start_rate, args.max_rate)
    ceiling = None
    if not args.no_ceiling:
        print("sipp stand-in (harness ceiling):", file=sys.stderr)
        ceiling = search(None, args.duration, args.start_rate, args.max_rate)
    print("| figure | value |")
    print("|---|---|")
    print(f"| start-up to first answered OPTIONS (median of {args.startup_runs}) | {st*1000:.1f} ms |")
    print(f"| idle RSS (median) | {idle/1024:.1f} MiB |")
    if best:
        print(f"| OPTIONS max rate, 0 failures over {args.duration} s | {best['rate']}/s |")
        print(f"| daemon CPU at that rate (% of one core) | {best['cpu_pct']:.0f} % |")
        print(f"| daemon RSS at that rate | {best['rss_kib']/1024:.1f} MiB |")
        if best["cpu_pct"] > 0:
            print(f"| daemon CPU per OPTIONS | {best['cpu_pct'] * 10000 / best['rate']:.1f} µs |")
    if ceiling:
        print(f"| harness ceiling: sipp against a sipp stand-in, same run | {ceiling['rate']}/s |")
        if best:
            print(f"| ratio daemon / ceiling | {best['rate'] / ceiling['rate']:.2f} |")
    else:
        print(f"| OPTIONS max rate | below {args.start_rate}/s |")


if __name__ == "__main__":
    main()
