#!/usr/bin/env python3
"""Memory per active call: RSS of the daemon with N answered calls held
open, minus its RSS before them, divided by N.

The calls are the call benchmark's (call_bench.py: sipp UAC -> 407 -> INVITE
with credentials -> B2BUA -> registered sipp UAS, a relay session each, SDP
rewritten both ways), placed at --rate and held for --hold seconds. The
figure is read once every call is up and the setup transactions have ended
(RFC 6026 keeps an answered INVITE's transactions 64*T1 = 32 s), so what is
left is the calls themselves: B2BUA state, both dialogs, the relay session.
The kernel's share (4 UDP sockets per call) is not in RSS and is reported
separately from /proc/net/sockstat.

  call_memory.py --bin build/pbx/app/duplex --calls 1000
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "protocol"))
import call_bench  # noqa: E402
import duplexd  # noqa: E402
import sipreg  # noqa: E402


def sockets_used():
    with open("/proc/net/sockstat") as f:
        for line in f:
            if line.startswith("sockets:"):
                return int(line.split()[2])
    return 0


def measure(binary, calls, rate, settle, wait):
    work = tempfile.mkdtemp(prefix="duplex-callmem-")
    daemon = duplexd.Daemon(binary, f"--registrar.realm={sipreg.REALM}",
                            "--auth.algorithms=md5,sha256", "--media.bind=127.0.0.1",
                            "--media.rtp_port_min=10000", "--media.rtp_port_max=60000", "--media.timeout=600s",
                            "--nat.upnp=false", "--log.level.sip=warn",
                            "--log.level.media=warn", "--log.level.registrar=warn")
    uas = uac = None
    try:
        sipreg.provision(daemon, call_bench.USERS)
        daemon.start()
        uas_port = duplexd.free_port()
        with open(os.path.join(work, "reg.csv"), "w") as f:
            f.write(f"SEQUENTIAL\n102;[authentication username=102 "
                    f"password={call_bench.USERS['102']}]\n")
        reg = call_bench.sipp(
            ["-sf", os.path.join(HERE, "..", "protocol", "sipp", "call_register.xml"), "-inf",
             os.path.join(work, "reg.csv"), f"127.0.0.1:{daemon.sip_port}", "-i", "127.0.0.1",
             "-p", str(uas_port), "-key", "contact_port", str(uas_port), "-m", "1", "-timeout",
             "10s", "-timeout_error"], work, 30)
        if reg.returncode != 0:
            raise RuntimeError("callee registration failed: " + reg.stderr[-500:])
        uas = subprocess.Popen(["sipp", "-sf", os.path.join(HERE, "call_bench_uas.xml"), "-i",
                                "127.0.0.1", "-mi", "127.0.0.1", "-p", str(uas_port), "-key",
                                "rtp_port", "4000", "-nostdin", "-buff_size", "1048576"],
                               cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(os.path.join(work, "uac.csv"), "w") as f:
            f.write("SEQUENTIAL\n")
            f.write(f"101;[authentication username=101 "
                    f"password={call_bench.USERS['101']}];102\n")
        time.sleep(settle)  # start-up allocations settle (no event to wait on)
        idle = call_bench.rss_kb(daemon.proc.pid)
        sockets_idle = sockets_used()
        hold_ms = int((calls / rate + 2 * settle + wait + 10) * 1000)
        uac = subprocess.Popen(
            ["sipp", "-sf", os.path.join(HERE, "call_bench_uac.xml"), "-inf",
             os.path.join(work, "uac.csv"), f"127.0.0.1:{daemon.sip_port}", "-i", "127.0.0.1",
             "-mi", "127.0.0.1", "-p", str(duplexd.free_port()), "-key", "rtp_port", "4002",
             "-auth_uri", "102@duplex.test", "-r", str(rate), "-m", str(calls), "-d",
             str(hold_ms), "-l", str(calls), "-nostdin", "-buff_size", "1048576",
             "-trace_stat", "-stf", os.path.join(work, "uac.stat"), "-fd", "1"],
            cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Every call up, then Timer L/M (32 s) for the setup transactions.
        time.sleep(calls / rate + wait)
        stats = call_bench.last_stats(os.path.join(work, "uac.stat"))
        up = int(stats.get("CurrentCall", 0))
        loaded = call_bench.rss_kb(daemon.proc.pid)
        sockets = sockets_used() - sockets_idle
        return {"calls": calls, "up": up, "idle_kib": idle, "loaded_kib": loaded,
                "bytes_per_call": round((loaded - idle) * 1024 / max(up, 1)),
                "sockets_per_call": round(sockets / max(up, 1), 1),
                "failed": int(stats.get("FailedCall(C)", 0))}
    finally:
        for p in (uac, uas):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
        daemon.cleanup()
        shutil.rmtree(work, ignore_errors=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", default=os.environ.get("DUPLEX_BIN", "build/pbx/app/duplex"))
    p.add_argument("--calls", type=int, default=1000)
    p.add_argument("--rate", type=int, default=200)
    p.add_argument("--settle", type=float, default=2.0)
    p.add_argument("--wait", type=float, default=34.0,
                   help="seconds after the last call is placed (> Timer L, 32 s)")
    args = p.parse_args()
    r = measure(args.bin, args.calls, args.rate, args.settle, args.wait)
    print(" ".join(f"{k}={v}" for k, v in r.items()))
    if r["up"] != args.calls or r["failed"]:
        print("not every call was up: the figure is not per call", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
