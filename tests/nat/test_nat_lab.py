"""End-to-end NAT tests: the real duplex daemon behind a real router
(nftables NAT + miniupnpd) with a real STUN server (coturn) and a dyndns2
server on the internet side, all in network namespaces built per test.

Run: DUPLEX_BIN=build/pbx/app/duplex python3 -m unittest tests/nat/test_nat_lab.py
(root; ctest label `netns`). Set DUPLEX_KEEP_LAB_LOGS=1 to keep the logs.
"""

import base64
import json
import os
import re
import signal
import socket
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netns_lab  # noqa: E402
from netns_lab import INET_IP, PBX_IP, WAN_IP  # noqa: E402

DUPLEX = os.environ.get("DUPLEX_BIN", "")
SIP_PORT = 5060
DYNDNS_PORT = 8245

DYNDNS_SERVER = r'''
import base64, http.server, sys, json
log = open(sys.argv[1], "a", buffering=1)
answer = sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        log.write(json.dumps({"path": self.path, "auth": self.headers.get("Authorization", ""),
                              "agent": self.headers.get("User-Agent", "")}) + "\n")
        body = answer.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.HTTPServer(("0.0.0.0", int(sys.argv[3])), H).serve_forever()
'''


def wait_for(what, predicate, timeout, interval=0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class NatLabCase(unittest.TestCase):
    symmetric = False
    rtp = (10000, 10009)
    extra = []

    def setUp(self):
        if not DUPLEX or not os.access(DUPLEX, os.X_OK):
            self.fail("DUPLEX_BIN must name the built duplex binary")
        try:
            self.lab = netns_lab.Lab(symmetric=self.symmetric)
        except netns_lab.LabUnavailable as e:
            self.fail(f"NAT lab unavailable: {e}")
        self.addCleanup(self.lab.close)
        self.data = os.path.join(self.lab.dir, "pbx-data")
        self.daemon = None
        self.runs = 0
        self.log_offset = 0

    def start_pbx(self):
        self.runs += 1
        self.log_offset = len(self.lab.read_path(os.path.join(self.data, "duplex.log")))
        cmd = [DUPLEX, f"--data.dir={self.data}", f"--sip.port={SIP_PORT}",
               "--admin.port=0", "--log.level.nat=debug",
               f"--media.rtp_port_min={self.rtp[0]}", f"--media.rtp_port_max={self.rtp[1]}",
               f"--nat.stun_servers={netns_lab.STUN_IP1}:3478", "--nat.poll_interval=5s",
               "--nat.upnp_lease=60s", *self.extra]
        self.started = time.time()
        self.daemon = self.lab.spawn(self.lab.ns_pbx, cmd, f"duplex-{self.runs}.out")
        wait_for("the daemon's listening line", lambda: "listening:" in self.log(), 20)
        self.figure("start to listening line")

    def figure(self, what):
        print(f"  {what}: {time.time() - self.started:.2f} s", file=sys.stderr)

    def log(self):
        """The daemon's log file since the current run started."""
        return self.lab.read_path(os.path.join(self.data, "duplex.log"))[self.log_offset:]

    def wait_log(self, pattern, timeout=30):
        return wait_for(f"log /{pattern}/", lambda: re.search(pattern, self.log()), timeout)

    def admin(self, method, path, body=None):
        """One admin API request as the admin page makes it (login with the
        generated password), from inside the PBX namespace; returns the JSON."""
        port = re.search(r"admin http://127\.0\.0\.1:(\d+)", self.log()).group(1)
        with open(os.path.join(self.data, "admin-password.txt")) as f:
            password = f.read().strip().rsplit(": ", 1)[1]
        script = (
            "import json,sys,urllib.request\n"
            f"base='http://127.0.0.1:{port}/api/v1'\n"
            "req=urllib.request.Request(base+'/auth/login',data=json.dumps({'username':'admin',"
            f"'password':{password!r}}}).encode(),headers={{'Content-Type':'application/json'}})\n"
            "tok=json.load(urllib.request.urlopen(req,timeout=5))['token']\n"
            "h={'Authorization':'Bearer '+tok,'Content-Type':'application/json'}\n"
            f"body={json.dumps(body)!r}\n"
            f"req=urllib.request.Request(base+{path!r},method={method!r},headers=h,"
            "data=None if body=='null' else body.encode())\n"
            "print(json.dumps(json.load(urllib.request.urlopen(req,timeout=5))))\n")
        r = self.lab.ns(self.lab.ns_pbx, sys.executable, "-c", script, check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def nat_status(self):
        """GET /api/v1/status as the admin page does; returns its "nat" object."""
        return self.admin("GET", "/status")["nat"]

    def expected_mappings(self, rtp=True):
        m = [("TCP", SIP_PORT, PBX_IP, SIP_PORT), ("UDP", SIP_PORT, PBX_IP, SIP_PORT)]
        if rtp:
            m += [("UDP", p, PBX_IP, p) for p in range(self.rtp[0], self.rtp[1] + 1)]
        return sorted(m)

    def sip_options_from_internet(self):
        """An OPTIONS sent from the internet to the router's WAN port 5060."""
        script = (
            "import socket,sys\n"
            "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.settimeout(3)\n"
            f"s.bind(('{INET_IP}',0));p=s.getsockname()[1]\n"
            "m=('OPTIONS sip:pbx@%s SIP/2.0\\r\\nVia: SIP/2.0/UDP %s:%d;branch=z9hG4bKlab1;rport\\r\\n"
            "Max-Forwards: 70\\r\\nFrom: <sip:lab@%s>;tag=1\\r\\nTo: <sip:pbx@%s>\\r\\n"
            "Call-ID: natlab-1\\r\\nCSeq: 1 OPTIONS\\r\\nContent-Length: 0\\r\\n\\r\\n')"
            f"%('{WAN_IP}','{INET_IP}',p,'{INET_IP}','{WAN_IP}')\n"
            f"s.sendto(m.encode(),('{WAN_IP}',{SIP_PORT}))\n"
            "print(s.recv(4096).decode().split('\\r\\n')[0])\n")
        return self.lab.ns(self.lab.ns_inet, sys.executable, "-c", script, check=False)

    def udp_forwarded(self, port):
        """True when UDP sent from the internet to WAN:port arrives in the PBX."""
        receiver = self.lab.spawn(self.lab.ns_pbx, [sys.executable, "-c", (
            "import socket\n"
            f"s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(('{PBX_IP}',{port}))\n"
            "s.settimeout(5);print(s.recvfrom(100)[0].decode(),flush=True)\n")],
            f"udp-{port}.out")
        time.sleep(0.5)
        self.lab.ns(self.lab.ns_inet, sys.executable, "-c", (
            "import socket,time\n"
            "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
            f"[s.sendto(b'rtp-probe',('{WAN_IP}',{port})) or time.sleep(0.2) for _ in range(5)]\n"))
        receiver.wait(10)
        return "rtp-probe" in self.lab.read(f"udp-{port}.out")


class BehindFullConeRouter(NatLabCase):
    symmetric = False
    extra = ["--dyndns.provider=http://%s:%d/nic/update" % (INET_IP, DYNDNS_PORT),
             "--dyndns.hostname=office.example.test", "--dyndns.user=alice",
             "--dyndns.password=s3cret", "--dyndns.min_interval=60s"]

    def dyndns_requests(self):
        import json
        lines = self.lab.read("dyndns-requests.log").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def test_router_forwards_renews_follows_wan_change_and_cleans_up(self):
        with open(os.path.join(self.lab.dir, "dyndns.py"), "w") as f:
            f.write(DYNDNS_SERVER)
        self.lab.spawn(self.lab.ns_inet, [sys.executable, os.path.join(self.lab.dir, "dyndns.py"),
                                          os.path.join(self.lab.dir, "dyndns-requests.log"),
                                          "good", str(DYNDNS_PORT)], "dyndns.out")
        # The DynDNS name resolves (hosts file of the PBX namespace) to an old
        # address: the provider's DNS lags behind, as it does.
        self.lab.set_hosts(self.lab.ns_pbx, {"office.example.test": "203.0.113.200"})
        self.start_pbx()

        # The SIP port and the whole RTP range (12 <= budget 24) appear on the router.
        wait_for("12 mappings on the router",
                 lambda: self.lab.router_mappings() == self.expected_mappings(), 20)
        self.wait_log(r"UPnP mapped: 12 port mapping\(s\) on http://10\.77\.0\.1:5000/")
        self.figure("start to 12 mappings on the router")
        # ... and really forward: a SIP OPTIONS from the internet is answered,
        # RTP sent to the router's WAN port arrives at the PBX.
        reply = self.sip_options_from_internet()
        self.assertRegex(reply.stdout.strip(), r"^SIP/2\.0 \d{3} ", reply.stderr)
        self.assertTrue(self.udp_forwarded(10003), "UDP 10003 was not forwarded to the PBX")

        # STUN sees the router's WAN address; the verdict fits masquerade.
        self.wait_log(r"public address 203\.0\.113\.1 \(from stun\)")
        self.wait_log(r"NAT type \(198\.51\.100\.1:3478\): endpoint-independent mapping")
        self.figure("start to NAT-type verdict")

        # DynDNS: exactly one update with the public address, auth and agent.
        wait_for("the DynDNS update", lambda: len(self.dyndns_requests()) >= 1, 20)
        first = self.dyndns_requests()[0]
        self.assertEqual(first["path"], "/nic/update?hostname=office.example.test&myip=203.0.113.1")
        self.assertEqual(first["auth"], "Basic " + base64.b64encode(b"alice:s3cret").decode())
        self.assertEqual(first["agent"], "Duplex PBX/0.1.0")

        # Leases (60 s) are renewed at half-life: the router's expiry moves on.
        before = self.lab.leases()[("UDP", SIP_PORT)]
        wait_for("a renewed lease", lambda: self.lab.leases().get(("UDP", SIP_PORT), 0) > before + 20,
                 45, 1)

        # The router's WAN address changes: noticed, published, one DynDNS update.
        self.lab.change_wan_address("203.0.113.9")
        self.wait_log(r"public address 203\.0\.113\.9 \(from stun\), was 203\.0\.113\.1", 30)
        self.wait_log(r"the DynDNS name office\.example\.test still points to the old address "
                      r"203\.0\.113\.200, not 203\.0\.113\.9", 15)
        wait_for("the second DynDNS update", lambda: len(self.dyndns_requests()) >= 2, 70)
        self.assertIn("myip=203.0.113.9", self.dyndns_requests()[1]["path"])
        time.sleep(12)  # two more polls: still exactly two updates
        self.assertEqual(len(self.dyndns_requests()), 2)
        # The provider's DNS catches up; a restart then sends no update.
        self.lab.set_hosts(self.lab.ns_pbx, {"office.example.test": "203.0.113.9"})

        # kill -9: the mappings stay on the router; a restart removes the stale
        # ones first and maps again (no duplicates).
        self.lab.stop(self.daemon, signal.SIGKILL)
        self.assertEqual(self.lab.router_mappings(), self.expected_mappings())
        self.start_pbx()
        self.wait_log(r"removed 12 stale mapping\(s\) left by an earlier run")
        wait_for("12 mappings again",
                 lambda: self.lab.router_mappings() == self.expected_mappings(), 20)
        self.wait_log(r"public address 203\.0\.113\.9 \(from stun\)")
        self.wait_log(r"DynDNS office\.example\.test: .*already points to 203\.0\.113\.9 \(DNS\)")
        self.assertEqual(len(self.dyndns_requests()), 2)

        # A clean stop removes every mapping.
        self.assertEqual(self.lab.stop(self.daemon, signal.SIGTERM), 0)
        self.assertEqual(self.lab.router_mappings(), [])


class BehindSymmetricRouter(NatLabCase):
    symmetric = True
    rtp = (10000, 10199)  # 200 ports + 2 SIP > budget 24: RTP mapped per call
    extra = ["--nat.poll_interval=60s"]  # so that only the interface event can explain a refresh

    def test_symmetric_verdict_and_budget(self):
        self.start_pbx()
        wait_for("the SIP mappings",
                 lambda: self.lab.router_mappings() == self.expected_mappings(rtp=False), 20)
        self.wait_log(r"public address 203\.0\.113\.1 \(from stun\)")
        self.wait_log(r"NAT type \(198\.51\.100\.1:3478\): address- and port-dependent mapping "
                      r"\(symmetric\): only relayed media works")
        time.sleep(2)  # settled: still within the budget, no RTP mapped up front
        self.assertEqual(len(self.lab.router_mappings()), 2)
        # A new LAN address is noticed at once (rtnetlink), not at the next poll.
        changed = time.time()
        self.lab.ns(self.lab.ns_pbx, "ip", "addr", "add", "10.77.0.11/24", "dev", "dxl1")
        self.wait_log(r"network interfaces changed", 10)
        self.assertLess(time.time() - changed, 10)
        # The router reboots (mappings gone, new BOOTID): its SSDP announcement
        # makes the PBX map again at once, well before the 60 s poll.
        rebooted = time.time()
        self.lab.reboot_router()  # flushes the router's rules (the PBX may re-map within ms)
        self.wait_log(r"UPnP: a router announced itself", 15)
        wait_for("the SIP mappings after the reboot",
                 lambda: self.lab.router_mappings() == self.expected_mappings(rtp=False), 15)
        rebooted_log = self.lab.read(self.lab.miniupnpd_log)
        self.assertIn("AddPortMapping: ext port 5060 to 10.77.0.10:5060 protocol UDP", rebooted_log)
        self.assertIn("AddPortMapping: ext port 5060 to 10.77.0.10:5060 protocol TCP", rebooted_log)
        self.assertLess(time.time() - rebooted, 30)

        # What the admin page shows.
        nat = self.nat_status()
        self.assertEqual(nat["public_address"], "203.0.113.1")
        self.assertEqual(nat["upnp"]["state"], "mapped")
        self.assertTrue(nat["upnp"]["rtp_on_demand"])
        self.assertEqual(nat["upnp"]["mapping_budget"], 24)
        self.assertEqual(sorted((m["protocol"], m["external_port"]) for m in nat["upnp"]["mappings"]),
                         [("TCP", 5060), ("UDP", 5060)])
        self.assertTrue(all(m["expires"] and m["renew_at"] for m in nat["upnp"]["mappings"]))
        self.assertEqual(nat["nat_type"]["mapping"], "address-and-port-dependent")
        self.assertEqual(nat["manual_forwarding"], [])
        self.assertEqual(self.lab.stop(self.daemon, signal.SIGTERM), 0)
        self.assertEqual(self.lab.router_mappings(), [])


class WithUpnpOff(NatLabCase):
    extra = ["--nat.upnp=off"]

    def test_status_gives_the_manual_forwarding_plan(self):
        self.start_pbx()
        self.wait_log(r"public address 203\.0\.113\.1 \(from stun\)")
        nat = self.nat_status()
        self.assertEqual(nat["upnp"]["state"], "off")
        self.assertEqual(nat["upnp"]["mappings"], [])
        self.assertEqual(nat["manual_forwarding_text"],
                         "Forward UDP port 5060 to 10.77.0.10 port 5060 (SIP). Forward TCP port "
                         "5060 to 10.77.0.10 port 5060 (SIP). Forward UDP ports 10000-10009 to "
                         "10.77.0.10 ports 10000-10009 (RTP media).")
        self.assertEqual(nat["public_address"], "203.0.113.1")
        self.assertEqual(self.lab.router_mappings(), [])  # nothing asked of the router
        self.assertEqual(self.lab.stop(self.daemon, signal.SIGTERM), 0)

    def test_turned_on_and_off_and_rtp_range_moved_without_restart(self):
        """The admin turns UPnP on in the settings: the mappings appear on the
        router; moves the RTP range: the router follows; turns UPnP off: every
        mapping of the PBX is gone from the router. One daemon run throughout."""
        self.start_pbx()
        self.wait_log(r"public address 203\.0\.113\.1 \(from stun\)")
        r = self.admin("PATCH", "/settings", {"nat.upnp": True})
        self.assertEqual(r["applied_live"], ["nat.upnp"])
        self.assertEqual(r["needs_restart"], [])
        wait_for("12 mappings on the router after UPnP on",
                 lambda: self.lab.router_mappings() == self.expected_mappings(), 20)
        self.figure("start to 12 mappings after turning UPnP on")
        self.assertTrue(self.udp_forwarded(10003), "UDP 10003 was not forwarded to the PBX")
        wait_for("the status says mapped", lambda: self.nat_status()["upnp"]["state"] == "mapped", 10)

        r = self.admin("PATCH", "/settings", {"media.rtp_port_min": 10004,
                                              "media.rtp_port_max": 10013})
        self.assertEqual(sorted(r["applied_live"]), ["media.rtp_port_max", "media.rtp_port_min"])
        self.rtp = (10004, 10013)
        wait_for("the moved RTP range on the router",
                 lambda: self.lab.router_mappings() == self.expected_mappings(), 20)

        r = self.admin("PATCH", "/settings", {"nat.upnp": False})
        self.assertEqual(r["applied_live"], ["nat.upnp"])
        wait_for("no mapping left on the router", lambda: self.lab.router_mappings() == [], 20)
        self.wait_log(r"UPnP: removed 12 of 12 port mapping\(s\)")
        nat = self.nat_status()
        self.assertEqual(nat["upnp"]["state"], "off")
        self.assertEqual(nat["upnp"]["mappings"], [])
        self.assertIn("Forward UDP ports 10004-10013 to 10.77.0.10 ports 10004-10013 (RTP media).",
                      nat["manual_forwarding_text"])
        self.assertEqual(self.admin("GET", "/status")["restart_required"], [])
        self.assertEqual(self.lab.stop(self.daemon, signal.SIGTERM), 0)
        self.assertEqual(self.lab.router_mappings(), [])


class WithSilentStunServer(NatLabCase):
    """A STUN server that never answers: the router's address is used, the
    status says what is wrong, the log says it once, and SIP keeps working."""

    def start_pbx(self):
        self.extra = ["--nat.stun_servers=198.51.100.99:3478"]  # nobody there
        super().start_pbx()

    def test_falls_back_to_upnp_and_reports_once(self):
        self.start_pbx()
        self.wait_log(r"public address 203\.0\.113\.1 \(from upnp\)", 30)
        time.sleep(16)  # three more polls, each one timing out on STUN
        warnings = re.findall(r"STUN 198\.51\.100\.99:3478: no STUN reply", self.log())
        self.assertEqual(len(warnings), 1, self.log())
        nat = self.nat_status()
        stun = [src for src in nat["sources"] if src["source"] == "stun"]
        self.assertEqual(stun[0]["address"], "")
        self.assertEqual(stun[0]["error"], "no STUN reply from 198.51.100.99:3478 after 4 requests")
        self.assertEqual(nat["public_address"], "203.0.113.1")
        self.assertRegex(self.sip_options_from_internet().stdout.strip(), r"^SIP/2\.0 \d{3} ")
        self.assertEqual(self.lab.stop(self.daemon, signal.SIGTERM), 0)


if __name__ == "__main__":
    unittest.main()
