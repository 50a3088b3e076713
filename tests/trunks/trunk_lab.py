"""The trunk lab: the NAT lab of tests/nat/netns_lab.py plus a VoIP provider
(Kamailio) and a "PSTN" endpoint on the internet side, and a phone namespace
on the office LAN.

    internet ns   203.0.113.2, STUN on 198.51.100.1/.2 (netns_lab)
                  provider A: Kamailio on 203.0.113.50:5060 (registrar, digest)
                  provider B: Kamailio on 203.0.113.51:5060 (registrar, digest;
                              answers INVITEs with 503 when started so)
                  "PSTN": sipp on 198.51.100.20:5060, reached through the provider
        |
    router ns     WAN 203.0.113.1, nftables NAT, miniupnpd (netns_lab)
        |  LAN bridge br0 10.77.0.1
    pbx ns        10.77.0.10: the duplex daemon
    phone ns      10.77.0.20: office phones (sipp), test-owned RTP sockets

The provider's config is tests/trunks/kamailio.cfg with the addresses filled
in. Kamailio's location table is read through its ctl socket (kamcmd).
Sockets "inside" a namespace are made by a thread that enters it (setns),
so the test itself sends and receives RTP there and speaks HTTP to the admin
API on the PBX's loopback. Everything started here is stopped by PID and every
namespace removed on close(), also when a test fails.
"""

import ctypes
import http.client
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "nat"))
import netns_lab  # noqa: E402
from netns_lab import LabUnavailable, run  # noqa: E402,F401

PROVIDER_A = "203.0.113.50"
PROVIDER_B = "203.0.113.51"
PSTN_IP = "198.51.100.20"
PSTN_PORT = 5060
PHONE_IP = "10.77.0.20"
PBX_IP = netns_lab.PBX_IP
WAN_IP = netns_lab.WAN_IP
INET_IP = netns_lab.INET_IP
REALM = "provider.test"
TRUNK_USER = "office1"
TRUNK_PASSWORD = "Pr0vider-Trunk-Secret-77"
KAMAILIO_MODULES = "/usr/lib/x86_64-linux-gnu/kamailio/modules"
CLONE_NEWNET = 0x40000000


def check_prerequisites():
    """LabUnavailable (a skip reason) when this machine cannot run the lab."""
    if os.geteuid() != 0:
        raise LabUnavailable("the trunk lab needs root (network namespaces); CI runs it as root")
    for tool in ("kamailio", "kamcmd"):
        if not shutil.which(tool) and not os.path.exists(f"/usr/sbin/{tool}"):
            raise LabUnavailable(f"'{tool}' is missing: apt-get install -y kamailio")
    if not os.path.exists(os.path.join(KAMAILIO_MODULES, "registrar.so")):
        raise LabUnavailable(f"Kamailio modules not found in {KAMAILIO_MODULES}")
    if not shutil.which("sipp"):
        raise LabUnavailable("'sipp' is missing: apt-get install -y sip-tester")
    netns_lab.check_prerequisites()


_libc = ctypes.CDLL(None, use_errno=True)


def in_namespace(ns, fn):
    """Runs fn() on a thread that has entered network namespace `ns`; returns
    its result. A socket made there stays in that namespace for its life."""
    out = {}

    def body():
        try:
            fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
            try:
                if _libc.setns(fd, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), f"setns({ns}) failed")
            finally:
                os.close(fd)
            out["value"] = fn()
        except BaseException as e:  # handed to the caller's thread
            out["error"] = e

    t = threading.Thread(target=body)
    t.start()
    t.join()
    if "error" in out:
        raise out["error"]
    return out["value"]


def udp_socket_in(ns, ip, port=0):
    def make():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((ip, port))
        return s
    return in_namespace(ns, make)


def rtp_packet(seq, ssrc, payload_byte):
    header = struct.pack("!BBHII", 0x80, 0, seq & 0xFFFF, seq * 160, ssrc)
    return header + bytes([payload_byte]) * 160


def exchange_rtp(sock_a, dest_a, sock_b, dest_b, count=40):
    """A and B each send `count` PCMU packets (payload 0xAA / 0xBB) to the
    address advertised to them. Returns (packets of B's that A received,
    packets of A's that B received, {source seen by A}, {source seen by B})."""
    got = [0, 0]
    sources = [set(), set()]
    for seq in range(count):
        sock_a.sendto(rtp_packet(seq, 0xA1, 0xAA), dest_a)
        sock_b.sendto(rtp_packet(seq, 0xB2, 0xBB), dest_b)
        time.sleep(0.01)
    deadline = time.monotonic() + 2.0
    for i, (sock, want) in enumerate(((sock_a, 0xBB), (sock_b, 0xAA))):
        sock.settimeout(0.1)
        while time.monotonic() < deadline and got[i] < count:
            try:
                data, src = sock.recvfrom(2048)
            except socket.timeout:
                continue
            if len(data) == 172 and data[12] == want:
                got[i] += 1
                sources[i].add(src)
    return got[0], got[1], sources[0], sources[1]


class Kamailio:
    """One provider instance: its config, its process, its location table."""

    def __init__(self, lab, name, ip, fail503=False, max_expires=3600):
        self.lab, self.name, self.ip = lab, name, ip
        self.fail503 = fail503
        self.ctl = os.path.join(lab.dir, f"{name}.ctl")
        self.cfg = os.path.join(lab.dir, f"{name}.cfg")
        with open(os.path.join(HERE, "kamailio.cfg")) as f:
            text = f.read()
        for key, value in {"IP": ip, "PORT": "5060", "REALM": REALM, "USER": TRUNK_USER,
                           "PASSWORD": TRUNK_PASSWORD, "PSTN_IP": PSTN_IP,
                           "PSTN_PORT": str(PSTN_PORT), "CTL": self.ctl,
                           "MAX_EXPIRES": str(max_expires), "MPATH": KAMAILIO_MODULES}.items():
            text = text.replace(f"@@{key}@@", value)
        with open(self.cfg, "w") as f:
            f.write(text)
        self.runs = 0
        self.proc = None
        self.start()

    def start(self):
        self.runs += 1
        self.log_name = f"{self.name}-{self.runs}.log"
        cmd = ["kamailio", "-f", self.cfg, "-DD", "-E", "-m", "32", "-M", "4",
               "-Y", self.lab.dir, "-P", os.path.join(self.lab.dir, f"{self.name}.pid")]
        if self.fail503:
            cmd += ["-A", "FAIL503"]
        self.proc = self.lab.spawn(self.lab.ns_inet, cmd, self.log_name)
        deadline = time.time() + 15
        while time.time() < deadline:
            out = self.lab.ns(self.lab.ns_inet, "ss", "-Hlun", check=False).stdout
            if f"{self.ip}:5060 " in out and os.path.exists(self.ctl):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"Kamailio {self.name} did not start:\n" + self.log())

    def stop(self):
        if self.proc is not None:
            self.lab.stop(self.proc, signal.SIGTERM)
            self.proc = None
        if os.path.exists(self.ctl):
            os.remove(self.ctl)

    def restart(self):
        self.stop()
        self.start()

    def log(self):
        return "".join(self.lab.read(f"{self.name}-{i}.log") for i in range(1, self.runs + 1))

    def requests(self, method=None):
        """[(method, request-uri, source)] of every request it received."""
        return [r[:3] for r in self.requests_with_call_id(method)]

    def requests_with_call_id(self, method=None):
        """[(method, request-uri, source, call-id)] of every request it received."""
        out = []
        for m in re.finditer(r"DXREQ (\S+) (\S+) from (\S+) ci=(\S+) to=", self.log()):
            if method is None or m.group(1) == method:
                out.append((m.group(1), m.group(2), m.group(3), m.group(4)))
        return out

    def calls_to(self, number):
        """Call-IDs of the INVITEs it received for `number` (Request-URI user)."""
        return {r[3] for r in self.requests_with_call_id("INVITE")
                if r[1].startswith(f"sip:{number}@")}

    def kamcmd(self, *args):
        return self.lab.ns(self.lab.ns_inet, "kamcmd", "-s", f"unix:{self.ctl}", *args,
                           check=False)

    def clear_location(self, aor=TRUNK_USER):
        self.kamcmd("ul.rm", "location", aor)

    def bindings(self, aor=TRUNK_USER):
        """[(contact URI, seconds left)] of `aor` in its location table."""
        r = self.kamcmd("ul.lookup", "location", aor)
        if r.returncode != 0:
            return []
        return [(m.group(1), int(m.group(2))) for m in
                re.finditer(r"Address:\s*(\S+).*?Expires:\s*(-?\d+)", r.stdout, re.S)]

    def contacts(self, aor=TRUNK_USER):
        """The Contact URIs its location table holds for `aor` (kamcmd ul.lookup)."""
        r = self.kamcmd("ul.lookup", "location", aor)
        if r.returncode != 0:
            return []  # "404 AOR not found"
        return re.findall(r"Address:\s*(\S+)", r.stdout)


class Sipp:
    """One sipp process in a namespace; stopped by PID."""

    def __init__(self, lab, ns, name, scenario, local_ip, local_port, remote, *args,
                 out_dir=None):
        self.lab = lab
        self.err = os.path.join(lab.dir, f"{name}.err")
        self.log_name = f"{name}.out"
        cmd = ["sipp", "-sf", os.path.join(HERE, "sipp", scenario), remote,
               "-i", local_ip, "-mi", local_ip, "-p", str(local_port), "-nostdin",
               "-trace_err", "-error_file", self.err, "-key", "out_dir", out_dir or lab.dir, *args]
        self.proc = lab.spawn(ns, cmd, self.log_name)

    def wait(self, timeout):
        """sipp's exit code (0 = scenario passed), None on timeout (killed)."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            return None

    def errors(self):
        text = self.lab.read(self.log_name)[-2000:]
        if os.path.exists(self.err):
            with open(self.err) as f:
                text += f.read()[-3000:]
        return text

    def stop(self):
        self.lab.stop(self.proc, signal.SIGKILL)


class TrunkLab(netns_lab.Lab):
    """netns_lab.Lab plus the provider side and the phone namespace."""

    def __init__(self):
        check_prerequisites()
        self.providers = {}
        super().__init__(symmetric=False)

    def _build(self):
        super()._build()
        i = self.ns_inet
        for ip in (PROVIDER_A, PROVIDER_B):
            self.ns(i, "ip", "addr", "add", f"{ip}/24", "dev", "dxw1")
        self.ns(i, "ip", "addr", "add", f"{PSTN_IP}/24", "dev", "dxw1")
        # The phone: a second host on the office LAN bridge.
        self.ns_phone = f"dxphone{os.getpid() % 100000}"
        run(["ip", "netns", "add", self.ns_phone])
        self.namespaces.append(self.ns_phone)
        self.ns(self.ns_phone, "ip", "link", "set", "lo", "up")
        run(["ip", "link", "add", "dxl2", "netns", self.ns_rtr, "type", "veth",
             "peer", "name", "dxl3", "netns", self.ns_phone])
        self.ns(self.ns_rtr, "ip", "link", "set", "dxl2", "master", "br0")
        self.ns(self.ns_rtr, "ip", "link", "set", "dxl2", "up")
        self.ns(self.ns_phone, "ip", "addr", "add", f"{PHONE_IP}/24", "dev", "dxl3")
        self.ns(self.ns_phone, "ip", "link", "set", "dxl3", "up")
        self.ns(self.ns_phone, "ip", "route", "add", "default", "via", netns_lab.LAN_GW)

    def wait_udp(self, ns, ip, port, timeout=10):
        """Returns once something in `ns` listens on UDP ip:port."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if f"{ip}:{port} " in self.ns(ns, "ss", "-Hlun", check=False).stdout:
                return
            time.sleep(0.05)
        raise RuntimeError(f"nothing listens on UDP {ip}:{port} in {ns}")

    def start_provider(self, name, ip, **kw):
        k = Kamailio(self, name, ip, **kw)
        self.providers[name] = k
        return k

    def sipp(self, ns, name, scenario, local_ip, local_port, remote, *args, out_dir=None):
        return Sipp(self, ns, name, scenario, local_ip, local_port, remote, *args,
                    out_dir=out_dir)

    def read_file(self, name, timeout=10.0, folder=None):
        """A file a sipp scenario writes into the lab folder (waits for it);
        None if it did not appear in time."""
        path = os.path.join(folder or self.dir, name)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(path):
                with open(path) as f:
                    text = f.read().strip()
                if text:
                    return text
            time.sleep(0.05)
        return None

    def close(self):
        for k in list(self.providers.values()):
            try:
                k.stop()
            except Exception:
                pass
        super().close()


class PbxAdmin:
    """The admin API of the daemon in the PBX namespace, logged in as admin
    with the password the daemon generated (as a user of the web page would)."""

    def __init__(self, lab, port, data_dir):
        self.lab, self.port = lab, port
        with open(os.path.join(data_dir, "admin-password.txt")) as f:
            password = f.read().strip().rsplit(": ", 1)[1]
        self.token = None
        status, body = self.request("POST", "/api/v1/auth/login",
                                    {"username": "admin", "password": password})
        if status != 200:
            raise RuntimeError(f"admin login failed: {status} {body}")
        self.token = body["token"]

    def request(self, method, path, body=None):
        def connect():
            s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            return s
        sock = in_namespace(self.lab.ns_pbx, connect)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.sock = sock
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        try:
            conn.request(method, path, body=json.dumps(body) if body is not None else None,
                         headers=headers)
            r = conn.getresponse()
            raw = r.read().decode()
            try:
                data = json.loads(raw) if raw else None
            except ValueError:
                data = raw
            return r.status, data
        finally:
            conn.close()

    def must(self, method, path, body=None, expect=(200, 201, 204)):
        status, data = self.request(method, path, body)
        if status not in expect:
            raise AssertionError(f"{method} {path} {json.dumps(body)} -> {status} {data}")
        return data
