"""Call tests with sipp on loopback: a caller (sipp UAC, MD5 digest against
the 407), a callee (sipp UAS, registered first from the same port), and RTP
from test-owned UDP sockets whose ports the scenarios write into their SDP.
The scenarios write the relay address and port the PBX advertised to each
side into files, so a test can send RTP there and check where it arrives
and from which port. Python stdlib only."""
import os
import shutil
import socket
import sqlite3
import struct
import subprocess
import tempfile
import time

import duplexd
import sipreg

HERE = os.path.dirname(os.path.abspath(__file__))
SIPP_DIR = os.path.join(HERE, "sipp")


def require_sipp():
    if not shutil.which("sipp"):
        raise RuntimeError("sipp is not installed (Debian package sip-tester; "
                           "./installer/quickstart.sh test installs it)")


def daemon_args(rtp_base):
    """Daemon options for call tests: MD5 first (sipp 3.6 answers only the
    first challenge), a relay port range of our own, short timeouts."""
    return [f"--registrar.realm={sipreg.REALM}", "--auth.algorithms=md5,sha256",
            f"--media.rtp_port_min={rtp_base}", f"--media.rtp_port_max={rtp_base + 199}",
            "--media.bind=127.0.0.1", "--nat.upnp=false", "--log.level.sip=info"]


def rtp_base_port():
    """An even port where 200 ports look free (tests run in parallel)."""
    for _ in range(50):
        base = duplexd.free_port() & ~1
        if 20000 <= base <= 60000:
            return base
    return 40000


def rtp_packet(seq, ssrc, payload_byte):
    header = struct.pack("!BBHII", 0x80, 0, seq & 0xFFFF, seq * 160, ssrc)
    return header + bytes([payload_byte]) * 160


class Sipp:
    """One sipp process; stopped by PID at cleanup."""

    def __init__(self, work, scenario, daemon_port, *args, inf=None, local_port=0):
        self.err = os.path.join(work, f"{scenario}-{local_port}.err")
        cmd = ["sipp", "-sf", os.path.join(SIPP_DIR, scenario), f"127.0.0.1:{daemon_port}",
               "-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", str(local_port), "-nostdin",
               "-trace_err", "-error_file", self.err]
        if inf:
            cmd += ["-inf", inf]
        cmd += list(args)
        self.proc = subprocess.Popen(cmd, cwd=work, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)

    def wait(self, timeout):
        try:
            _, stderr = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, stderr = self.proc.communicate()
            return None, stderr
        errors = ""
        if os.path.exists(self.err):
            with open(self.err) as f:
                errors = f.read()[-3000:]
        return self.proc.returncode, (stderr or "")[-2000:] + errors

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class CallLab:
    """A daemon with extensions 101..103 and a work folder for sipp."""

    USERS = {"101": "Dx-caller-secret-101", "102": "Dx-callee-secret-102",
             "103": "Dx-third-secret-103"}

    def __init__(self, extra_args=(), features=None):
        """`features`: {number: {column: value}} set in the extensions table
        before the daemon starts (DND, forwards)."""
        require_sipp()
        self.work = tempfile.mkdtemp(prefix="duplex-call-")
        self.rtp_base = rtp_base_port()
        self.daemon = duplexd.Daemon(duplexd.duplex_binary(),
                                     *(daemon_args(self.rtp_base) + list(extra_args)))
        sipreg.provision(self.daemon, self.USERS)
        if features:
            con = sqlite3.connect(os.path.join(self.daemon.dir, "duplex.db"))
            with con:
                for number, columns in features.items():
                    for column, value in columns.items():
                        con.execute(f"UPDATE extensions SET {column} = ? WHERE number = ?",
                                    (value, number))
            con.close()
        self.daemon.start()
        self.procs = []

    def csv(self, name, rows):
        path = os.path.join(self.work, name)
        with open(path, "w") as f:
            f.write("SEQUENTIAL\n")
            for row in rows:
                f.write(";".join(row) + "\n")
        return path

    def auth(self, user):
        """sipp's credentials field. For INVITEs also pass -auth_uri (sipp's
        digest uri is sip:<remote ip>:<port> otherwise, not the Request-URI,
        which the PBX refuses: RFC 7616 3.4.6)."""
        return f"[authentication username={user} password={self.USERS[user]}]"

    def register(self, user, port, contact_port=None):
        """The phone of `user` registers from 127.0.0.1:`port`."""
        inf = self.csv(f"reg-{user}.csv", [[user, self.auth(user)]])
        p = Sipp(self.work, "call_register.xml", self.daemon.sip_port, "-m", "1",
                 "-key", "contact_port", str(contact_port or port), "-timeout", "10s",
                 "-timeout_error", inf=inf, local_port=port)
        code, err = p.wait(20)
        if code != 0:
            raise AssertionError(f"registration of {user} failed ({code}): {err}")

    def start(self, scenario, port, *args, inf=None):
        p = Sipp(self.work, scenario, self.daemon.sip_port, *args, inf=inf, local_port=port)
        self.procs.append(p)
        return p

    def relay_of(self, side, timeout=10.0):
        """(ip, port) the PBX advertised to `side` ("caller"/"callee")."""
        path = os.path.join(self.work, f"{side}_relay")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(path):
                with open(path) as f:
                    parts = f.read().split()
                if len(parts) == 2:
                    return parts[0], int(parts[1])
            time.sleep(0.02)
        raise AssertionError(f"the {side} never got an SDP with a relay address\n"
                             + self.diagnostics())

    def diagnostics(self):
        """The daemon log's tail and sipp's error logs, for failure messages."""
        out = ["--- daemon log ---", self.daemon.drain()[-4000:]]
        for p in self.procs:
            if os.path.exists(p.err):
                with open(p.err) as f:
                    out += [f"--- {p.err} ---", f.read()[-2000:]]
        return "\n".join(out)

    def call_records(self):
        con = sqlite3.connect(os.path.join(self.daemon.dir, "duplex.db"))
        con.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in con.execute("SELECT * FROM call_records ORDER BY id")]
        finally:
            con.close()

    def cleanup(self):
        for p in self.procs:
            p.stop()
        self.daemon.cleanup()
        shutil.rmtree(self.work, ignore_errors=True)


def udp_socket():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    return s


def exchange_rtp(sock_a, relay_a, sock_b, relay_b, count=25):
    """Each side sends `count` RTP packets to the relay port advertised to it.
    Returns ({source: packets} seen by A, {source: packets} seen by B)."""
    seen = ({}, {})
    for seq in range(count):
        sock_a.sendto(rtp_packet(seq, 0xA, 0xAA), relay_a)
        sock_b.sendto(rtp_packet(seq, 0xB, 0xBB), relay_b)
        time.sleep(0.005)
    deadline = time.monotonic() + 2.0
    for sock, got, want in ((sock_a, seen[0], 0xBB), (sock_b, seen[1], 0xAA)):
        sock.settimeout(0.1)
        while time.monotonic() < deadline and sum(got.values()) < count:
            try:
                data, src = sock.recvfrom(2048)
            except socket.timeout:
                continue
            if len(data) == 172 and data[12] == want:
                got[src] = got.get(src, 0) + 1
    return seen
