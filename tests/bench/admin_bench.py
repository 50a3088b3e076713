#!/usr/bin/env python3
"""Admin API benchmark: wrk against GET /api/v1/status and GET
/api/v1/extensions with 1,000 extensions (requests/s, p50 and p99 latency),
alone and while sipp drives digest registrations; and the cost to SIP: the
registration response time and failures at a fixed REGISTER rate without and
with the admin API under wrk load. Everything on 127.0.0.1. Prints a
Markdown table.

    tests/bench/admin_bench.py --bin build/pbx/app/duplex [--duration 10] [--rate 500]

Needs wrk and sipp (Debian packages wrk, sip-tester). The extensions are
created through the API itself (POST /api/v1/extensions/bulk).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "protocol"))
import duplexd  # noqa: E402
import sipreg  # noqa: E402
from register_bench import last_stats, make_users, users_csv  # noqa: E402

ARGS = [f"--registrar.realm={sipreg.REALM}", "--auth.algorithms=md5,sha256",
        "--log.level=warn", "--log.level.app=info", "--nat.upnp=false"]


def api(port, method, path, body=None, token=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read() or b"null")


def to_ms(text):
    value, unit = float(re.match(r"[\d.]+", text).group()), re.sub(r"[\d.]+", "", text)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(port, path, token, duration, connections=8):
    # wrk runs at nice 19: admin clients are elsewhere in an office, and the
    # harness's own CPU should not count as the API's cost to SIP.
    out = subprocess.run(["nice", "-n", "19", "wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency",
                          "-H", f"Authorization: Bearer {token}",
                          f"http://127.0.0.1:{port}{path}"],
                         capture_output=True, text=True, timeout=duration + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = to_ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = to_ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": rps, "p50": p50, "p99": p99, "non2xx": int(non2xx.group(1)) if non2xx else 0,
            "errors": errors.group(1) if errors else ""}


def sipp_load(d, csv_path, rate, duration, work):
    total = rate * duration
    cmd = ["sipp", "-sf", os.path.join(HERE, "sipp", "reg_auth.xml"), "-inf", csv_path,
           f"127.0.0.1:{d.sip_port}", "-i", "127.0.0.1", "-p", "0", "-r", str(rate), "-rp", "1000",
           "-m", str(total), "-l", str(max(2000, rate * 2)), "-nostdin", "-timeout",
           f"{duration * 3}s", "-max_recv_loops", "10000", "-max_sched_loops", "10000",
           "-trace_stat", "-stf", os.path.join(work, f"stat-{time.monotonic_ns()}.csv"), "-fd", "1"]
    return subprocess.Popen(cmd, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE), cmd


def sipp_result(proc, cmd):
    code = proc.wait(timeout=600)
    stat = last_stats(cmd[cmd.index("-stf") + 1])
    # sipp measures the whole REGISTER -> 401 -> REGISTER -> 200 exchange in
    # whole milliseconds; its repartition buckets give the distribution.
    buckets = []
    for key, value in stat.items():
        m = re.match(r"ResponseTimeRepartition1_(<|>=)(\d+)$", key)
        if m:
            bound = int(m.group(2)) if m.group(1) == "<" else float("inf")
            buckets.append((bound, int(value or 0)))
    buckets.sort()
    total = sum(n for _, n in buckets)

    def quantile(q):
        seen = 0
        for bound, n in buckets:
            seen += n
            if total and seen >= q * total:
                return bound
        return float("nan")
    over1 = sum(n for bound, n in buckets if bound > 1)
    return {"exit": code, "ok": int(stat.get("SuccessfulCall(C)", 0)),
            "failed": int(stat.get("FailedCall(C)", 0)),
            "retrans": int(stat.get("Retransmissions(C)", 0)),
            "p50": quantile(0.5), "p99": quantile(0.99),
            "over1": 100.0 * over1 / total if total else float("nan")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--rate", type=int, default=500, help="REGISTER per second under load")
    ap.add_argument("--extensions", type=int, default=1000)
    a = ap.parse_args()
    for tool in ("wrk", "sipp"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is not installed")

    work = tempfile.mkdtemp(prefix="duplex-adminbench-")
    d = duplexd.Daemon(a.bin, *ARGS, start_timeout=30)
    d.start()
    try:
        with open(os.path.join(d.dir, "admin-password.txt")) as f:
            password = f.read().strip().rsplit(": ", 1)[1]
        token = api(d.admin_port, "POST", "/api/v1/auth/login",
                    {"username": "admin", "password": password})["token"]
        users = make_users(a.extensions)
        t0 = time.monotonic()
        api(d.admin_port, "POST", "/api/v1/extensions/bulk",
            {"extensions": [{"number": n, "sip_password": p} for n, p in users.items()]}, token)
        bulk_s = time.monotonic() - t0
        read = api(d.admin_port, "POST", "/api/v1/tokens", {"name": "bench", "scope": "read"},
                   token)["token"]
        csv_path = os.path.join(work, "users.csv")
        users_csv(csv_path, users)
        # Register everyone once so the status lists 1,000 registrations.
        p, cmd = sipp_load(d, csv_path, a.rate, -(-a.extensions // a.rate), work)
        sipp_result(p, cmd)

        rows = []
        for path in ("/api/v1/status", "/api/v1/extensions"):
            rows.append((path, "alone", wrk(d.admin_port, path, read, a.duration)))

        base_p, base_cmd = sipp_load(d, csv_path, a.rate, a.duration, work)
        base = sipp_result(base_p, base_cmd)

        loaded = {}
        for path in ("/api/v1/status", "/api/v1/extensions"):
            p, cmd = sipp_load(d, csv_path, a.rate, a.duration, work)
            time.sleep(0.5)
            w = wrk(d.admin_port, path, read, max(1, a.duration - 1))
            loaded[path] = sipp_result(p, cmd)
            rows.append((path, f"with {a.rate} REGISTER/s", w))

        print(f"## Admin API (wrk -t2 -c8, {a.extensions} extensions, {a.duration} s, "
              f"bulk create of {a.extensions}: {bulk_s:.2f} s)\n")
        print("| request | SIP load | requests/s | p50 ms | p99 ms | non-2xx |")
        print("|---|---|---:|---:|---:|---:|")
        for path, load, w in rows:
            print(f"| GET {path} | {load} | {w['rps']:.0f} | {w['p50']:.2f} | {w['p99']:.2f} | "
                  f"{w['non2xx']} |")
        print(f"\n## SIP registrations at {a.rate}/s (sipp reg_auth.xml, digest MD5)\n")
        print("| admin API load | registrations ok | failed | retransmissions | p50 ms (<) "
              "| p99 ms (<) | over 1 ms |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for name, r in [("none", base)] + [(f"wrk GET {k}", v) for k, v in loaded.items()]:
            print(f"| {name} | {r['ok']} | {r['failed']} | {r['retrans']} | {r['p50']} | "
                  f"{r['p99']} | {r['over1']:.1f}% |")
        regs = len(api(d.admin_port, "GET", "/api/v1/status", token=read)["registrations"])
        print(f"\nregistrations listed by /api/v1/status: {regs}; machine: {os.cpu_count()} CPUs, "
              "shared; wrk (nice 19), sipp and the daemon on the same cores")
    finally:
        d.cleanup()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
