#!/usr/bin/env python3
"""Registrar benchmark: the highest rate of digest-authenticated
registrations (REGISTER -> 401 -> REGISTER with Authorization -> 200, 1,000
distinct extensions, sipp on loopback) sustained for a window with zero failed
registrations and at most 1% retransmissions, the daemon's CPU and RSS at
that rate, the same scenario against a sipp stand-in (the harness ceiling),
and the memory that 10,000 bindings take above idle. Prints a Markdown table.

    tests/bench/register_bench.py --bin build/pbx/app/duplex [--duration 20]

sipp 3.6 answers only the first challenge and only MD5, so the daemon offers
MD5 first (auth.algorithms=md5,sha256), as an office with such phones would
configure it. The scenario is ../shared/anchors' reg_auth.xml, copied here, so
the figure compares with Kamailio's run by anchors/run-kamailio.sh reg-auth.
"""
import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "protocol"))
import duplexd  # noqa: E402
import sipreg  # noqa: E402
from daemon_bench import cpu_ticks, rss_kib, HZ  # noqa: E402

ARGS = [f"--registrar.realm={sipreg.REALM}", "--auth.algorithms=md5,sha256",
        "--log.level=warn", "--log.level.app=info"]


def users_csv(path, users):
    with open(path, "w") as f:
        f.write("SEQUENTIAL\n")
        for user, password in users.items():
            f.write(f"{user};127.0.0.1;[authentication username={user} password={password}]\n")


def make_users(n, first=10000):
    return {str(first + i): f"bench-pass-{i:06d}-Xy" for i in range(n)}


def last_stats(path):
    with open(path) as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    return rows[-1] if rows else {}


def start_daemon(binary, users):
    d = duplexd.Daemon(binary, *ARGS, start_timeout=30)
    sipreg.provision(d, users)
    d.start()
    return d


class StandIn:
    """sipp answering 401 then 200 itself (no digest check): the harness."""

    def __init__(self, work):
        self.sip_port = duplexd.free_port()
        self.proc = subprocess.Popen(
            ["sipp", "-sf", os.path.join(HERE, "sipp", "reg_auth_uas.xml"), "-i", "127.0.0.1",
             "-p", str(self.sip_port), "-nostdin", "-max_recv_loops", "10000"],
            cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)  # sipp has no readiness signal


def trial(binary, users, rate, duration):
    work = tempfile.mkdtemp(prefix="duplex-regbench-")
    csv_path = os.path.join(work, "users.csv")
    # The scenario's field2 is the authentication keyword (anchors' layout).
    users_csv(csv_path, users)
    target = StandIn(work) if binary is None else start_daemon(binary, users)
    pid = target.proc.pid
    total = int(rate * duration)
    try:
        cmd = ["sipp", "-sf", os.path.join(HERE, "sipp", "reg_auth.xml"), "-inf", csv_path,
               f"127.0.0.1:{target.sip_port}", "-i", "127.0.0.1", "-p", "0",
               "-r", str(rate), "-rp", "1000", "-m", str(total), "-l", str(max(2000, rate * 2)),
               "-nostdin", "-buff_size", "1048576",  # as the anchors' sipbench.py
               "-timeout", f"{duration * 3}s", "-max_recv_loops", "10000",
               "-max_sched_loops", "10000", "-trace_stat", "-stf", os.path.join(work, "stat.csv"),
               "-fd", "1"]
        t0 = time.monotonic()
        sipp = subprocess.Popen(cmd, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(2)  # measure CPU over the steady window [2 s, duration - 1 s]
        c1, w1 = cpu_ticks(pid), time.monotonic()
        time.sleep(max(1, duration - 3))
        c2, w2 = cpu_ticks(pid), time.monotonic()
        rss = rss_kib(pid)
        code = sipp.wait(timeout=duration * 4)
        elapsed = time.monotonic() - t0
        st = last_stats(os.path.join(work, "stat.csv"))
        ok_calls = int(st.get("SuccessfulCall(C)", 0))
        failed = int(st.get("FailedCall(C)", 0))
        retrans = int(st.get("Retransmissions(C)", 0))
        ok = (code == 0 and failed == 0 and ok_calls == total and retrans <= 0.01 * 2 * total
              and elapsed < duration * 1.15)
        return {"rate": rate, "ok": ok, "sipp_exit": code, "elapsed": elapsed, "failed": failed,
                "retrans": retrans, "done": ok_calls,
                "cpu_pct": 100.0 * (c2 - c1) / HZ / (w2 - w1), "rss_kib": rss}
    finally:
        if binary is None:
            target.proc.terminate()
            target.proc.wait()
        else:
            target.cleanup()
        shutil.rmtree(work, ignore_errors=True)


def search(binary, users, duration, start, limit):
    best, worst, rate = None, None, start
    while rate <= limit:
        r = trial(binary, users, rate, duration)
        print(f"  rate {rate}/s: {'pass' if r['ok'] else 'FAIL'} (done {r['done']}, failed "
              f"{r['failed']}, retrans {r['retrans']}, {r['elapsed']:.1f} s, cpu "
              f"{r['cpu_pct']:.0f}%)", file=sys.stderr)
        if not r["ok"]:
            worst = r
            break
        best = r
        rate = int(rate * 1.25)
    if best and worst:
        lo, hi = best["rate"], worst["rate"]
        while hi - lo > max(250, lo // 40):
            mid = (lo + hi) // 2
            r = trial(binary, users, mid, duration)
            print(f"  rate {mid}/s: {'pass' if r['ok'] else 'FAIL'} (failed {r['failed']}, "
                  f"retrans {r['retrans']}, cpu {r['cpu_pct']:.0f}%)", file=sys.stderr)
            if r["ok"]:
                best, lo = r, mid
            else:
                worst, hi = r, mid
    return best, worst


def binding_memory(binary, n):
    """RSS above idle after n extensions registered once each."""
    users = make_users(n, first=100000)
    work = tempfile.mkdtemp(prefix="duplex-regmem-")
    csv_path = os.path.join(work, "users.csv")
    users_csv(csv_path, users)
    d = start_daemon(binary, users)
    try:
        time.sleep(1.0)  # let start-up allocations settle before the idle figure
        idle = rss_kib(d.proc.pid)
        cmd = ["sipp", "-sf", os.path.join(HERE, "sipp", "reg_auth.xml"), "-inf", csv_path,
               f"127.0.0.1:{d.sip_port}", "-i", "127.0.0.1", "-p", "0", "-r", "2000",
               "-m", str(n), "-nostdin", "-timeout", "60s"]
        code = subprocess.call(cmd, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Server transactions of the last REGISTERs live 32 s (Timer J, RFC
        # 3261 17.2.2); wait them out so the figure is the bindings alone.
        time.sleep(34)
        loaded = rss_kib(d.proc.pid)
        return code, idle, loaded
    finally:
        d.cleanup()
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--duration", type=int, default=20)
    ap.add_argument("--users", type=int, default=1000)
    ap.add_argument("--start-rate", type=int, default=8000)
    ap.add_argument("--max-rate", type=int, default=60000)
    ap.add_argument("--no-ceiling", action="store_true")
    ap.add_argument("--no-memory", action="store_true")
    args = ap.parse_args()
    users = make_users(args.users)
    print("daemon:", file=sys.stderr)
    best, worst = search(args.bin, users, args.duration, args.start_rate, args.max_rate)
    ceiling = None
    if not args.no_ceiling:
        print("sipp stand-in (harness ceiling):", file=sys.stderr)
        ceiling, _ = search(None, users, args.duration, args.start_rate, args.max_rate)
    mem = None if args.no_memory else binding_memory(args.bin, 10000)
    print("| figure | value |")
    print("|---|---|")
    if best:
        print(f"| authenticated REGISTER max rate, 0 failed, <=1% retrans, {args.duration} s, "
              f"{args.users} extensions | {best['rate']}/s |")
        print(f"| retransmissions at that rate | {best['retrans']} |")
        print(f"| daemon CPU at that rate (% of one core) | {best['cpu_pct']:.0f} % |")
        print(f"| daemon CPU per registration (2 requests) | "
              f"{best['cpu_pct'] * 10000 / best['rate']:.1f} µs |")
        print(f"| daemon RSS at that rate | {best['rss_kib'] / 1024:.1f} MiB |")
    else:
        print(f"| authenticated REGISTER max rate | below {args.start_rate}/s |")
    if worst:
        print(f"| first failing rate | {worst['rate']}/s (failed {worst['failed']}, "
              f"retrans {worst['retrans']}) |")
    if ceiling:
        print(f"| harness ceiling: same sipp scenario against a sipp stand-in | "
              f"{ceiling['rate']}/s |")
    if mem:
        code, idle, loaded = mem
        print(f"| 10,000 bindings: RSS idle -> loaded (sipp exit {code}) | {idle / 1024:.1f} -> "
              f"{loaded / 1024:.1f} MiB (+{(loaded - idle) / 1024:.1f} MiB) |")


if __name__ == "__main__":
    main()
