#!/usr/bin/env python3
"""Call-setup benchmark: the highest rate of authenticated calls the PBX
sets up and tears down for a whole trial with zero failed calls.

Per call: sipp UAC INVITE -> 407 -> ACK -> INVITE with MD5 credentials ->
100 -> 180 -> 200 -> ACK -> pause (--hold ms) -> BYE -> 200, through the
B2BUA to a registered sipp UAS, with a media relay session allocated and
released for every call (SDP rewritten both ways). Everything on loopback.

A trial passes when the UAC exits 0 with every call successful, the UAS
reports no failure, and the achieved rate is at least 98 % of the asked one.

  call_bench.py --bin build-call/pbx/app/duplex --rate 2500 --duration 30
  call_bench.py --bin ... --search --rate 1500      # step up until it fails
Prints one line per trial and a summary line with the highest passing rate.
"""
import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "protocol"))
import duplexd  # noqa: E402
import sipreg  # noqa: E402

USERS = {"101": "Dx-bench-caller-101", "102": "Dx-bench-callee-102"}


def sipp(args, cwd, timeout):
    return subprocess.run(["sipp"] + args + ["-nostdin", "-buff_size", "1048576"], cwd=cwd,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          timeout=timeout)


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return int(parts[11]) + int(parts[12])


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


EXTRA = [a for a in os.environ.get("DUPLEX_EXTRA", "").split() if a]


def trial(binary, rate, duration, hold):
    work = tempfile.mkdtemp(prefix="duplex-callbench-")
    rtp_base = 10000
    daemon = duplexd.Daemon(binary, f"--registrar.realm={sipreg.REALM}",
                            "--auth.algorithms=md5,sha256", "--media.bind=127.0.0.1",
                            f"--media.rtp_port_min={rtp_base}", "--media.rtp_port_max=60000",
                            "--nat.upnp=false", "--log.level.sip=warn", "--log.level.media=warn",
                            "--log.level.registrar=warn", *EXTRA)
    uas = None
    try:
        sipreg.provision(daemon, USERS)
        daemon.start()
        uas_port = duplexd.free_port()
        with open(os.path.join(work, "reg.csv"), "w") as f:
            f.write(f"SEQUENTIAL\n102;[authentication username=102 password={USERS['102']}]\n")
        reg = sipp(["-sf", os.path.join(HERE, "..", "protocol", "sipp", "call_register.xml"),
                    "-inf", os.path.join(work, "reg.csv"), f"127.0.0.1:{daemon.sip_port}",
                    "-i", "127.0.0.1", "-p", str(uas_port), "-key", "contact_port",
                    str(uas_port), "-m", "1", "-timeout", "10s", "-timeout_error"], work, 30)
        if reg.returncode != 0:
            raise RuntimeError("callee registration failed: " + reg.stderr[-500:])
        uas = subprocess.Popen(["sipp", "-sf", os.path.join(HERE, "call_bench_uas.xml"),
                                "-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", str(uas_port),
                                "-key", "rtp_port", "4000", "-nostdin", "-buff_size", "1048576",
                                "-trace_stat", "-stf", os.path.join(work, "uas.csv"), "-fd", "1"],
                               cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        with open(os.path.join(work, "uac.csv"), "w") as f:
            f.write("SEQUENTIAL\n")
            f.write(f"101;[authentication username=101 password={USERS['101']}];102\n")
        calls = rate * duration
        pid = daemon.proc.pid
        t0, c0 = time.monotonic(), cpu_ticks(pid)
        uac = sipp(["-sf", os.path.join(HERE, "call_bench_uac.xml"), "-inf",
                    os.path.join(work, "uac.csv"), f"127.0.0.1:{daemon.sip_port}", "-i",
                    "127.0.0.1", "-mi", "127.0.0.1", "-p", str(duplexd.free_port()),
                    "-key", "rtp_port", "4002", "-auth_uri", "102@duplex.test",
                    "-r", str(rate), "-rp", "1000", "-m", str(calls), "-d", str(hold),
                    "-l", str(max(1000, rate * 10)), "-timeout", f"{duration + 60}s",
                    "-trace_stat", "-stf", os.path.join(work, "uac.csv.stat"), "-fd", "1"],
                   work, duration + 120)
        elapsed = time.monotonic() - t0
        cpu = (cpu_ticks(pid) - c0) / os.sysconf("SC_CLK_TCK")
        rss = rss_kb(pid)
        stats = last_stats(os.path.join(work, "uac.csv.stat"))
        ok_calls = int(stats.get("SuccessfulCall(C)", 0))
        failed = int(stats.get("FailedCall(C)", -1))
        retrans = int(stats.get("Retransmissions(C)", 0))
        uas.terminate()
        uas.wait(10)
        ustats = last_stats(os.path.join(work, "uas.csv"))
        ufailed = int(ustats.get("FailedCall(C)", 0))
        achieved = calls / max(elapsed - hold / 1000.0, 0.001)
        passed = (uac.returncode == 0 and ok_calls == calls and failed == 0 and ufailed == 0
                  and achieved >= 0.98 * rate)
        records = count_records(daemon)
        return {"rate": rate, "calls": calls, "ok": ok_calls, "failed": failed,
                "uas_failed": ufailed, "retrans": retrans, "elapsed_s": round(elapsed, 1),
                "achieved": round(achieved), "duplex_cpu_pct": round(100 * cpu / elapsed, 1),
                "duplex_rss_mb": round(rss / 1024, 1), "cdr_rows": records, "pass": passed,
                "uac_rc": uac.returncode, "err": uac.stderr[-300:] if not passed else ""}
    finally:
        if uas is not None and uas.poll() is None:
            uas.kill()
            uas.wait()
        daemon.cleanup()
        shutil.rmtree(work, ignore_errors=True)


def last_stats(path):
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        lines = [line.strip() for line in f if line.strip()]
    if len(lines) < 2:
        return {}
    head = lines[0].split(";")
    return dict(zip(head, lines[-1].split(";")))


def count_records(daemon):
    try:
        con = sqlite3.connect(os.path.join(daemon.dir, "duplex.db"))
        n = con.execute("SELECT count(*) FROM call_records").fetchone()[0]
        con.close()
        return n
    except sqlite3.Error:
        return -1


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bin", default=os.environ.get("DUPLEX_BIN", "build/pbx/app/duplex"))
    p.add_argument("--rate", type=int, default=2500)
    p.add_argument("--duration", type=int, default=30)
    p.add_argument("--hold", type=int, default=100, help="ms between ACK and BYE")
    p.add_argument("--search", action="store_true", help="raise the rate by --step until a fail")
    p.add_argument("--step", type=int, default=250)
    a = p.parse_args()
    if not shutil.which("sipp"):
        sys.exit("needs sipp (apt-get install sip-tester)")
    best = 0
    rate = a.rate
    while True:
        r = trial(os.path.abspath(a.bin), rate, a.duration, a.hold)
        print(" ".join(f"{k}={v}" for k, v in r.items() if v != ""), flush=True)
        if r["pass"]:
            best = max(best, rate)
        if not a.search or not r["pass"]:
            break
        rate += a.step
    print(f"summary: highest rate with zero failed calls over {a.duration} s: {best} calls/s")


if __name__ == "__main__":
    main()
