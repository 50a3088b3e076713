"""SIP trunks end to end: the real duplex daemon behind the lab router (NAT,
UPnP, STUN) using a real VoIP provider (Kamailio, tests/trunks/kamailio.cfg)
on the internet side, which relays calls to and from a "PSTN" endpoint.

Run: DUPLEX_BIN=build/pbx/app/duplex python3 -m unittest -v tests/trunks/test_trunk_lab.py
(root; ctest label `netns`). Skipped, saying why, without root or Kamailio.
Set DUPLEX_KEEP_LAB_LOGS=1 to keep the logs (daemon, Kamailio, sipp).

Classes:
  ProviderLab    the provider alone, driven by sipp playing the PBX: proves
                 the lab (digest REGISTER, INVITE to the PSTN with 407,
                 inbound INVITE to the registered contact, 503 instance).
  TrunkCalls     the PBX registers to provider A with its public address,
                 places (strip/prefix, caller ID) and receives (DID) calls
                 with two-way RTP and call records, fails over to A when B
                 answers 503, refuses international numbers until the
                 extension may dial them, enforces the trunk's and the
                 extension's call limits, answers 404 for an unknown DID and
                 refuses an INVITE from a stranger.
  TrunkRecovery  re-registration after the router's public address changes
                 and after the provider restarts; refresh within a 30 s grant
                 (provider B); a 403 stops registering until the password is
                 changed.

Figures printed on stderr: public-address change to new registration,
provider restart to new registration.
"""

import os
import re
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import trunk_lab  # noqa: E402
from trunk_lab import (INET_IP, PBX_IP, PHONE_IP, PROVIDER_A, PROVIDER_B, PSTN_IP,  # noqa: E402
                       PSTN_PORT, REALM, TRUNK_PASSWORD, TRUNK_USER, WAN_IP)

DUPLEX = os.environ.get("DUPLEX_BIN", "")
HERE = os.path.dirname(os.path.abspath(__file__))
PROTOCOL_SIPP = os.path.join(HERE, "..", "protocol", "sipp")
SIP_PORT = 5060
RTP_RANGE = (10000, 10019)
PHONE_REALM = "duplex.test"
NEW_WAN_IP = "203.0.113.7"


def wait_for(what, predicate, timeout, interval=0.2):
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.time() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def make_lab(case):
    try:
        return trunk_lab.TrunkLab()
    except trunk_lab.LabUnavailable as e:
        raise unittest.SkipTest(f"trunk lab unavailable: {e}")


class ProviderLab(unittest.TestCase):
    """The provider on its own, with sipp in the PBX's place: if this fails,
    the lab is broken, not the PBX."""

    @classmethod
    def setUpClass(cls):
        cls.lab = make_lab(cls)
        try:
            cls.provider = cls.lab.start_provider("provider-a", PROVIDER_A)
            cls.broken = cls.lab.start_provider("provider-b", PROVIDER_B, fail503=True)
        except BaseException:
            cls.lab.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.lab.close()

    def csv(self, name, rows):
        path = os.path.join(self.lab.dir, name)
        with open(path, "w") as f:
            f.write("SEQUENTIAL\n")
            for row in rows:
                f.write(";".join(row) + "\n")
        return path

    def register(self, port, password=TRUNK_PASSWORD, provider=PROVIDER_A):
        inf = self.csv(f"reg-{port}.csv", [[TRUNK_USER, f"[authentication username={TRUNK_USER} "
                                            f"password={password}]"]])
        p = self.lab.sipp(self.lab.ns_inet, f"reg-{port}",
                          os.path.join(PROTOCOL_SIPP, "call_register.xml"), INET_IP, port,
                          f"{provider}:5060", "-m", "1", "-inf", inf, "-key", "contact_port",
                          str(port), "-timeout", "10s", "-timeout_error")
        return p.wait(20), p

    def test_register_needs_the_password_and_fills_the_location_table(self):
        self.provider.clear_location()
        code, p = self.register(5070, password="wrong-password")
        self.assertNotEqual(code, 0, "a wrong password must not register")
        self.provider.clear_location()
        self.assertEqual(self.provider.contacts(), [])
        code, p = self.register(5071)
        self.assertEqual(code, 0, p.errors())
        self.assertEqual(self.provider.contacts(), [f"sip:{TRUNK_USER}@{INET_IP}:5071"])

    def test_outbound_invite_is_challenged_and_reaches_the_pstn_with_the_number(self):
        media_pbx = trunk_lab.udp_socket_in(self.lab.ns_inet, INET_IP)
        media_pstn = trunk_lab.udp_socket_in(self.lab.ns_inet, PSTN_IP)
        self.addCleanup(media_pbx.close)
        self.addCleanup(media_pstn.close)
        uas = self.lab.sipp(self.lab.ns_inet, "pstn-uas-1", "pstn_uas.xml", PSTN_IP, PSTN_PORT,
                            f"{PROVIDER_A}:5060", "-m", "1", "-key", "rtp_port",
                            str(media_pstn.getsockname()[1]))
        self.addCleanup(uas.stop)
        number = "4930123456"
        inf = self.csv("uac.csv", [[TRUNK_USER, f"[authentication username={TRUNK_USER} "
                                    f"password={TRUNK_PASSWORD}]", number]])
        uac = self.lab.sipp(self.lab.ns_inet, "uac-1", os.path.join(PROTOCOL_SIPP, "call_uac.xml"),
                            INET_IP, 5072, f"{PROVIDER_A}:5060", "-m", "1", "-inf", inf,
                            "-key", "rtp_port", str(media_pbx.getsockname()[1]),
                            "-auth_uri", f"{number}@duplex.test", "-d", "1500")
        self.addCleanup(uac.stop)
        self.assertEqual(self.lab.read_file("pstn_called"), number, uac.errors() + uas.errors())
        a_to_b = self.lab.read_file("caller_relay").split()
        b_to_a = self.lab.read_file("pstn_relay").split()
        got_pbx, got_pstn, _, _ = trunk_lab.exchange_rtp(
            media_pbx, (a_to_b[0], int(a_to_b[1])), media_pstn, (b_to_a[0], int(b_to_a[1])))
        self.assertGreater(got_pbx, 30)
        self.assertGreater(got_pstn, 30)
        self.assertEqual(uac.wait(20), 0, uac.errors())
        self.assertEqual(uas.wait(10), 0, uas.errors())
        self.assertTrue(any(m == "INVITE" and src.startswith(INET_IP)
                            for m, _, src in self.provider.requests()))

    def test_inbound_invite_reaches_the_registered_contact_with_the_did(self):
        code, p = self.register(5073)
        self.assertEqual(code, 0, p.errors())
        media_pbx = trunk_lab.udp_socket_in(self.lab.ns_inet, INET_IP)
        media_pstn = trunk_lab.udp_socket_in(self.lab.ns_inet, PSTN_IP)
        self.addCleanup(media_pbx.close)
        self.addCleanup(media_pstn.close)
        uas = self.lab.sipp(self.lab.ns_inet, "office-uas",
                            os.path.join(PROTOCOL_SIPP, "call_uas.xml"),
                            INET_IP, 5073, f"{PROVIDER_A}:5060", "-m", "1", "-key", "rtp_port",
                            str(media_pbx.getsockname()[1]), "-trace_msg",
                            "-message_file", os.path.join(self.lab.dir, "office-uas.msg"))
        self.addCleanup(uas.stop)
        self.lab.wait_udp(self.lab.ns_inet, INET_IP, 5073)
        uac = self.lab.sipp(self.lab.ns_inet, "pstn-uac", "pstn_uac.xml", PSTN_IP, 5062,
                            f"{PROVIDER_A}:5060", "-m", "1", "-s", "4930555100", "-key", "rtp_port",
                            str(media_pstn.getsockname()[1]), "-d", "1500")
        self.addCleanup(uac.stop)
        self.assertEqual(uac.wait(20), 0, uac.errors())
        self.assertEqual(uas.wait(10), 0, uas.errors())
        msgs = self.lab.read_path(os.path.join(self.lab.dir, "office-uas.msg"))
        self.assertRegex(msgs, rf"INVITE sip:4930555100@{re.escape(INET_IP)}:5073 SIP/2.0")

    def test_broken_provider_answers_503(self):
        sock = trunk_lab.udp_socket_in(self.lab.ns_inet, INET_IP)
        self.addCleanup(sock.close)
        port = sock.getsockname()[1]
        invite = (f"INVITE sip:4930123457@{PROVIDER_B} SIP/2.0\r\n"
                  f"Via: SIP/2.0/UDP {INET_IP}:{port};branch=z9hG4bKlab503;rport\r\n"
                  "Max-Forwards: 70\r\n"
                  f"From: <sip:{TRUNK_USER}@{REALM}>;tag=lab503\r\n"
                  f"To: <sip:4930123457@{REALM}>\r\n"
                  "Call-ID: lab503@trunklab\r\nCSeq: 1 INVITE\r\n"
                  f"Contact: <sip:{TRUNK_USER}@{INET_IP}:{port}>\r\nContent-Length: 0\r\n\r\n")
        sock.settimeout(5)
        sock.sendto(invite.encode(), (PROVIDER_B, 5060))
        status = None
        while status is None or status.startswith("SIP/2.0 1"):
            status = sock.recv(4096).decode().split("\r\n", 1)[0]
        self.assertEqual(status, "SIP/2.0 503 Service Unavailable")



class PbxCase(unittest.TestCase):
    """One lab, one provider pair and one daemon per class, provisioned
    through the admin API the way an administrator does it."""

    provider_a_args = {}
    provider_b_args = {}
    trunk_b_register = False
    register_interval = 300
    USERS = {"201": "Dx-Desk-Phone-Secret-A4827", "202": "Dx-Desk-Phone-Secret-B9153"}
    PHONE_PORTS = {"201": 5201, "202": 5202}
    CALLER_ID = "4930555100"
    DID = "4930555100"

    @classmethod
    def setUpClass(cls):
        if not DUPLEX or not os.access(DUPLEX, os.X_OK):
            raise AssertionError("DUPLEX_BIN must name the built duplex binary")
        cls.lab = make_lab(cls)
        try:
            cls.provider_a = cls.lab.start_provider("provider-a", PROVIDER_A, **cls.provider_a_args)
            cls.provider_b = cls.lab.start_provider("provider-b", PROVIDER_B, fail503=True,
                                                    **cls.provider_b_args)
            cls.start_pbx()
            cls.provision()
            cls.wait_ready()
        except BaseException:
            cls.lab.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.lab.close()

    @classmethod
    def start_pbx(cls):
        cls.data = os.path.join(cls.lab.dir, "pbx-data")
        cmd = [DUPLEX, f"--data.dir={cls.data}", f"--sip.port={SIP_PORT}", "--admin.port=0",
               f"--registrar.realm={PHONE_REALM}", "--auth.algorithms=md5,sha256",
               f"--media.rtp_port_min={RTP_RANGE[0]}", f"--media.rtp_port_max={RTP_RANGE[1]}",
               f"--nat.stun_servers={trunk_lab.netns_lab.STUN_IP1}:3478",
               "--nat.poll_interval=5s", "--sip.trace=true"]
        cls.daemon = cls.lab.spawn(cls.lab.ns_pbx, cmd, "duplex.out")
        port = wait_for("the daemon's listening line",
                        lambda: re.search(r"admin http://127\.0\.0\.1:(\d+)", cls.log()), 20)
        cls.admin = trunk_lab.PbxAdmin(cls.lab, int(port.group(1)), cls.data)

    @classmethod
    def log(cls):
        return cls.lab.read_path(os.path.join(cls.data, "duplex.log"))

    @classmethod
    def provision(cls):
        for number, password in cls.USERS.items():
            cls.admin.must("POST", "/api/v1/extensions", {"number": number,
                                                          "sip_password": password})
        cls.trunk_a = cls.admin.must("POST", "/api/v1/trunks", {
            "name": "provider-a", "host": PROVIDER_A, "port": 5060, "transport": "udp",
            "username": TRUNK_USER, "password": TRUNK_PASSWORD, "register": True,
            "register_interval": cls.register_interval, "caller_id": cls.CALLER_ID,
            "max_calls": 4, "enabled": True, "extra_addresses": []})["id"]
        # Provider B is the broken one: every INVITE gets 503.
        cls.trunk_b = cls.admin.must("POST", "/api/v1/trunks", {
            "name": "provider-b", "host": PROVIDER_B, "port": 5060, "transport": "udp",
            "username": TRUNK_USER, "password": TRUNK_PASSWORD,
            "register": cls.trunk_b_register,
            "register_interval": cls.register_interval, "caller_id": cls.CALLER_ID,
            "max_calls": 4, "enabled": True, "extra_addresses": []})["id"]
        routes = [
            # 07... goes to B first, then A: the failover route.
            {"name": "failover", "position": 1, "pattern": "07X.",
             "trunks": [cls.trunk_b, cls.trunk_a], "strip": 1, "prefix": "49"},
            # 00 + country code: the provider wants it without the 00.
            {"name": "international", "position": 2, "pattern": "00X.",
             "trunks": [cls.trunk_a], "strip": 2, "prefix": ""},
            # 0 + area code: the provider wants 49 + area code.
            {"name": "national", "position": 3, "pattern": "0X.",
             "trunks": [cls.trunk_a], "strip": 1, "prefix": "49"},
        ]
        for route in routes:
            cls.admin.must("POST", "/api/v1/outbound-routes", route)
        cls.admin.must("POST", "/api/v1/inbound-numbers", {"number": cls.DID, "extension": "201"})

    @classmethod
    def wait_ready(cls):
        """Until the PBX knows its public address (STUN, a few seconds after
        start) it can only advertise its LAN address, to the provider too; an
        office is "ready" once the provider holds it at the public address."""
        def at_public_address():
            return any(uri.split("@")[-1].startswith(WAN_IP + ":") or
                       uri.split("@")[-1].startswith(WAN_IP + ";") or uri.endswith("@" + WAN_IP)
                       for uri in cls.provider_a.contacts())
        wait_for("the provider to hold the PBX at its public address", at_public_address, 40)

    # -- helpers -------------------------------------------------------------
    def call_record(self, **match):
        """The call record (GET /api/v1/calls) whose fields equal `match`;
        waits for it (records are written when the call ends)."""
        def find():
            body = self.admin.must("GET", "/api/v1/calls")
            for r in body.get("records", []):
                if all(r.get(k) == v for k, v in match.items()):
                    return r
            return None
        return wait_for(f"a call record with {match}", find, 15, interval=0.5)

    def wait_no_active_calls(self):
        """Call limits are about calls that are up: start from none."""
        def idle():
            calls = self.admin.must("GET", "/api/v1/status").get("active_calls")
            return isinstance(calls, list) and not calls
        wait_for("no active calls in the status", idle, 20, interval=0.5)

    def work(self):
        """A fresh folder for the files this test's sipp scenarios write."""
        import tempfile
        return tempfile.mkdtemp(dir=self.lab.dir, prefix=self._testMethodName[:40] + "-")

    def diagnostics(self):
        return ("\n--- duplex.log (tail) ---\n" + self.log()[-6000:]
                + "\n--- provider-a (tail) ---\n" + self.provider_a.log()[-3000:])

    def trunk_status(self, name="provider-a"):
        trunks = self.admin.must("GET", "/api/v1/status").get("trunks")
        for t in trunks if isinstance(trunks, list) else []:
            if t.get("name") == name:
                return t
        return None

    def wait_state(self, name, state, timeout=5):
        """The status API shows trunk `name` in `state` (it follows the
        provider's answer by a moment)."""
        wait_for(f"trunk {name} {state} in the status",
                 lambda: (self.trunk_status(name) or {}).get("state") == state, timeout)

    def registered_contacts(self, provider=None):
        """(host, port) of each Contact the provider's location table holds."""
        out = []
        for uri in (provider or self.provider_a).contacts():
            m = re.match(r"sips?:(?:[^@]+@)?([^:;>]+)(?::(\d+))?", uri)
            if m:
                out.append((m.group(1), int(m.group(2) or 5060)))
        return out

    def wait_registered(self, host=WAN_IP, timeout=30):
        wait_for(f"the provider's location table to hold the PBX at {host}",
                 lambda: host in [h for h, _ in self.registered_contacts()], timeout)

    def csv(self, folder, name, rows):
        path = os.path.join(folder, name)
        with open(path, "w") as f:
            f.write("SEQUENTIAL\n")
            for row in rows:
                f.write(";".join(row) + "\n")
        return path

    def phone_register(self, user, folder):
        """The phone of `user` registers from its own port (one binding per
        extension for the whole class: calls to it ring one phone)."""
        port = self.PHONE_PORTS[user]
        inf = self.csv(folder, f"reg-{user}-{port}.csv", [[user, self.auth(user)]])
        p = self.lab.sipp(self.lab.ns_phone, f"reg-{user}-{port}",
                          os.path.join(PROTOCOL_SIPP, "call_register.xml"), PHONE_IP, port,
                          f"{PBX_IP}:{SIP_PORT}", "-m", "1", "-inf", inf,
                          "-key", "contact_port", str(port), "-timeout", "10s", "-timeout_error",
                          out_dir=folder)
        self.assertEqual(p.wait(20), 0, f"phone {user} did not register: {p.errors()}")

    def auth(self, user):
        return f"[authentication username={user} password={self.USERS[user]}]"

    def phone_call(self, user, number, port, folder, scenario="call_uac.xml", hold_ms=3000):
        """Extension `user` dials `number` (sipp in the phone namespace, RTP
        socket of the test there). Returns (sipp, rtp socket)."""
        media = trunk_lab.udp_socket_in(self.lab.ns_phone, PHONE_IP)
        self.addCleanup(media.close)
        inf = self.csv(folder, f"call-{user}-{port}.csv", [[user, self.auth(user), number]])
        uac = self.lab.sipp(self.lab.ns_phone, f"uac-{user}-{port}",
                            os.path.join(PROTOCOL_SIPP, scenario), PHONE_IP, port,
                            f"{PBX_IP}:{SIP_PORT}", "-m", "1", "-inf", inf,
                            "-key", "rtp_port", str(media.getsockname()[1]),
                            "-auth_uri", f"{number}@{PHONE_REALM}", "-d", str(hold_ms),
                            out_dir=folder)
        self.addCleanup(uac.stop)
        return uac, media

    def pstn_answer(self, folder, name="pstn-uas"):
        """The PSTN endpoint, ready to answer one call. Returns (sipp, rtp socket)."""
        media = trunk_lab.udp_socket_in(self.lab.ns_inet, PSTN_IP)
        self.addCleanup(media.close)
        uas = self.lab.sipp(self.lab.ns_inet, f"{name}-{os.path.basename(folder)}", "pstn_uas.xml",
                            PSTN_IP, PSTN_PORT, f"{PROVIDER_A}:5060", "-m", "1",
                            "-key", "rtp_port", str(media.getsockname()[1]), out_dir=folder)
        self.addCleanup(uas.stop)
        return uas, media

    def relay(self, folder, name):
        text = self.lab.read_file(name, timeout=15, folder=folder)
        self.assertIsNotNone(text, f"no SDP answer reached the far end ({name})"
                             + self.diagnostics())
        ip, port = text.split()
        return ip, int(port)

    def assert_two_way_rtp(self, sock_a, relay_a, sock_b, relay_b, b_sees_source=None):
        got_a, got_b, _, sources_b = trunk_lab.exchange_rtp(sock_a, relay_a, sock_b, relay_b)
        self.assertGreaterEqual(got_a, 30, f"only {got_a}/40 RTP packets reached the phone"
                                + self.diagnostics())
        self.assertGreaterEqual(got_b, 30, f"only {got_b}/40 RTP packets reached the far end"
                                + self.diagnostics())
        if b_sees_source:
            self.assertEqual({ip for ip, _ in sources_b}, {b_sees_source})


class TrunkCalls(PbxCase):
    """Registration, calls out and in, failover, permissions and limits."""

    def test_pbx_behind_nat_registers_with_its_public_address(self):
        self.wait_registered(timeout=30)
        contacts = self.registered_contacts()
        # The router's public address and the SIP port UPnP mapped on it: the
        # provider can reach the PBX there (no NAT fixing on the provider).
        self.assertEqual(contacts, [(WAN_IP, SIP_PORT)], self.diagnostics())
        status = wait_for("status registered",
                          lambda: (self.trunk_status() or {}).get("state") == "registered"
                          and self.trunk_status(), 10)
        self.assertEqual(status["state"], "registered")
        # What the status page shows: the Contact the provider has, behind NAT.
        self.assertIn(f"@{WAN_IP}:{SIP_PORT}", status["contact"])
        self.assertIs(status["behind_nat"], True)
        registers = [r for r in self.provider_a.requests("REGISTER")]
        self.assertTrue(registers and all(src.startswith(WAN_IP + ":") for _, _, src in registers))

    def test_outbound_call_with_digit_manipulation_and_two_way_rtp(self):
        folder = self.work()
        self.phone_register("201", folder)
        uas, pstn_media = self.pstn_answer(folder)
        uac, phone_media = self.phone_call("201", "030123456", 5301, folder)
        # The national route strips the 0 and adds 49; the trunk's caller ID.
        self.assertEqual(self.lab.read_file("pstn_called", folder=folder, timeout=15),
                         "4930123456", uac.errors() + self.diagnostics())
        self.assertEqual(self.lab.read_file("pstn_from", folder=folder), self.CALLER_ID)
        self.assert_two_way_rtp(phone_media, self.relay(folder, "caller_relay"),
                                pstn_media, self.relay(folder, "pstn_relay"),
                                b_sees_source=WAN_IP)
        self.assertEqual(uac.wait(20), 0, uac.errors() + self.diagnostics())
        self.assertEqual(uas.wait(10), 0, uas.errors())
        record = self.call_record(dialled="030123456", sent_number="4930123456")
        self.assertEqual((record["trunk"], record["disposition"]), ("provider-a", "answered"))

    def test_inbound_call_to_did_rings_the_extension_with_two_way_rtp(self):
        self.wait_registered(timeout=30)  # the provider sends the call to that binding
        folder = self.work()
        self.phone_register("201", folder)
        phone_media = trunk_lab.udp_socket_in(self.lab.ns_phone, PHONE_IP)
        self.addCleanup(phone_media.close)
        phone = self.lab.sipp(self.lab.ns_phone, "phone-uas-201",
                              os.path.join(PROTOCOL_SIPP, "call_uas.xml"), PHONE_IP,
                              self.PHONE_PORTS["201"],
                              f"{PBX_IP}:{SIP_PORT}", "-m", "1", "-key", "rtp_port",
                              str(phone_media.getsockname()[1]), out_dir=folder)
        self.addCleanup(phone.stop)
        pstn_media = trunk_lab.udp_socket_in(self.lab.ns_inet, PSTN_IP)
        self.addCleanup(pstn_media.close)
        self.lab.wait_udp(self.lab.ns_phone, PHONE_IP, self.PHONE_PORTS["201"])
        caller = self.lab.sipp(self.lab.ns_inet, "pstn-uac", "pstn_uac.xml", PSTN_IP, 5062,
                               f"{PROVIDER_A}:5060", "-m", "1", "-s", self.DID,
                               "-key", "rtp_port", str(pstn_media.getsockname()[1]),
                               "-d", "3000", out_dir=folder)
        self.addCleanup(caller.stop)
        self.assert_two_way_rtp(phone_media, self.relay(folder, "callee_relay"),
                                pstn_media, self.relay(folder, "pstn_caller_relay"),
                                b_sees_source=WAN_IP)
        self.assertEqual(caller.wait(20), 0, caller.errors() + self.diagnostics())
        self.assertEqual(phone.wait(10), 0, phone.errors())
        record = self.call_record(dialled=self.DID, trunk="provider-a")
        self.assertEqual((record["callee"], record["disposition"]), ("201", "answered"), record)

    def test_failover_to_the_next_trunk_when_the_first_answers_503(self):
        folder = self.work()
        self.phone_register("202", folder)
        uas, pstn_media = self.pstn_answer(folder)
        uac, phone_media = self.phone_call("202", "07123456", 5311, folder)
        self.assertEqual(self.lab.read_file("pstn_called", folder=folder, timeout=15),
                         "497123456", uac.errors() + self.diagnostics())
        tried_b = [src for m, uri, src in self.provider_b.requests("INVITE")
                   if uri.startswith("sip:497123456@")]
        self.assertTrue(tried_b, "provider B (first in the route) was never tried")
        self.assertTrue(all(src.startswith(WAN_IP + ":") for src in tried_b))
        self.assert_two_way_rtp(phone_media, self.relay(folder, "caller_relay"),
                                pstn_media, self.relay(folder, "pstn_relay"))
        self.assertEqual(uac.wait(20), 0, uac.errors() + self.diagnostics())

    def test_international_refused_by_default_allowed_after_the_setting(self):
        folder = self.work()
        self.phone_register("202", folder)
        uac, _ = self.phone_call("202", "0044207946000", 5321, folder,
                                 scenario="call_uac_refused.xml")
        uac.wait(20)
        self.assertEqual(self.lab.read_file("caller_final", folder=folder), "403",
                         uac.errors() + self.diagnostics())
        self.assertEqual(self.provider_a.calls_to("44207946000"), set(),
                         "a refused call must not reach the provider")

        self.admin.must("PATCH", "/api/v1/extensions/202", {"permissions": "international"})
        self.addCleanup(self.admin.must, "PATCH", "/api/v1/extensions/202",
                        {"permissions": "national"})
        folder = self.work()
        uas, pstn_media = self.pstn_answer(folder)
        uac, phone_media = self.phone_call("202", "0044207946000", 5322, folder, hold_ms=1000)
        self.assertEqual(self.lab.read_file("pstn_called", folder=folder, timeout=15),
                         "44207946000", uac.errors() + self.diagnostics())
        self.assertEqual(uac.wait(20), 0, uac.errors() + self.diagnostics())

    def test_trunk_call_limit_refuses_the_call_over_it(self):
        self.wait_no_active_calls()
        self.admin.must("PATCH", f"/api/v1/trunks/{self.trunk_a}", {"max_calls": 1})
        self.addCleanup(self.admin.must, "PATCH", f"/api/v1/trunks/{self.trunk_a}",
                        {"max_calls": 4})
        folder = self.work()
        self.phone_register("201", folder)
        self.phone_register("202", folder)
        uas, pstn_media = self.pstn_answer(folder)
        first, _ = self.phone_call("201", "030111222", 5331, folder, hold_ms=6000)
        self.assertEqual(self.lab.read_file("pstn_called", folder=folder, timeout=15),
                         "4930111222", first.errors() + self.diagnostics())
        second_folder = self.work()
        second, _ = self.phone_call("202", "030333444", 5332, second_folder,
                                    scenario="call_uac_refused.xml")
        second.wait(20)
        final = self.lab.read_file("caller_final", folder=second_folder)
        self.assertIsNotNone(final, second.errors() + self.diagnostics())
        self.assertIn(int(final), (403, 480, 486, 503),
                      "the call over the trunk's limit must be refused")
        self.assertEqual(self.provider_a.calls_to("4930333444"), set(),
                         "the call over the limit reached the provider")
        self.assertEqual(first.wait(20), 0, first.errors())

    def test_extension_outside_call_limit(self):
        self.wait_no_active_calls()
        self.admin.must("PATCH", "/api/v1/extensions/201", {"max_outside_calls": 1})
        self.addCleanup(self.admin.must, "PATCH", "/api/v1/extensions/201",
                        {"max_outside_calls": None})
        folder = self.work()
        self.phone_register("201", folder)
        uas, _ = self.pstn_answer(folder)
        first, _ = self.phone_call("201", "030555666", 5341, folder, hold_ms=6000)
        self.assertEqual(self.lab.read_file("pstn_called", folder=folder, timeout=15),
                         "4930555666", first.errors() + self.diagnostics())
        second_folder = self.work()
        second, _ = self.phone_call("201", "030777888", 5342, second_folder,
                                    scenario="call_uac_refused.xml")
        second.wait(20)
        self.assertEqual(self.lab.read_file("caller_final", folder=second_folder), "403",
                         second.errors() + self.diagnostics())
        self.assertEqual(self.provider_a.calls_to("4930777888"), set())
        self.assertEqual(first.wait(20), 0, first.errors())

    def test_inbound_call_to_an_unknown_number_gets_404(self):
        # The provider delivers a call for a number the office has not set up
        # (no dialing.inbound_default): the caller hears "not found".
        self.wait_registered(timeout=30)
        sock = trunk_lab.udp_socket_in(self.lab.ns_inet, PSTN_IP)
        self.addCleanup(sock.close)
        port = sock.getsockname()[1]
        invite = (f"INVITE sip:4930555199@{PROVIDER_A} SIP/2.0\r\n"
                  f"Via: SIP/2.0/UDP {PSTN_IP}:{port};branch=z9hG4bKunknown1;rport\r\n"
                  "Max-Forwards: 70\r\n"
                  f"From: <sip:4930999777@{PSTN_IP}>;tag=pstn404\r\n"
                  f"To: <sip:4930555199@{PROVIDER_A}>\r\n"
                  "Call-ID: unknown-did-1@trunklab\r\nCSeq: 1 INVITE\r\n"
                  f"Contact: <sip:4930999777@{PSTN_IP}:{port}>\r\nContent-Length: 0\r\n\r\n")
        sock.settimeout(10)
        sock.sendto(invite.encode(), (PROVIDER_A, 5060))
        status = 100
        while status < 200:
            status = int(sock.recv(4096).decode().split(" ", 2)[1])
        self.assertEqual(status, 404, self.diagnostics())
        # The PBX itself answered it (the provider only relays); its log is
        # written behind, so wait for the line.
        wait_for("the PBX's 404 in its log", lambda: re.search(
            r"SIP/2\.0 404 [^\n]*\n(?:[^\n]+\n)*?Call-ID: unknown-did-1@trunklab", self.log()), 10)

    def test_inbound_call_from_a_stranger_is_refused(self):
        # Someone on the internet (not the provider) sends an INVITE for the
        # office's number straight to its public address: no phone rings.
        sock = trunk_lab.udp_socket_in(self.lab.ns_inet, INET_IP)
        self.addCleanup(sock.close)
        port = sock.getsockname()[1]
        invite = (f"INVITE sip:{self.DID}@{WAN_IP} SIP/2.0\r\n"
                  f"Via: SIP/2.0/UDP {INET_IP}:{port};branch=z9hG4bKstranger1;rport\r\n"
                  "Max-Forwards: 70\r\n"
                  f"From: <sip:4930999000@{INET_IP}>;tag=stranger\r\n"
                  f"To: <sip:{self.DID}@{WAN_IP}>\r\n"
                  "Call-ID: stranger-1@trunklab\r\nCSeq: 1 INVITE\r\n"
                  f"Contact: <sip:4930999000@{INET_IP}:{port}>\r\nContent-Length: 0\r\n\r\n")
        sock.settimeout(5)
        sock.sendto(invite.encode(), (WAN_IP, SIP_PORT))
        status = 100
        while status < 200:
            status = int(sock.recv(4096).decode().split(" ", 2)[1])
        self.assertGreaterEqual(status, 400, self.diagnostics())


class TrunkRecovery(PbxCase):
    """The registration survives what happens to offices and providers.
    Provider B grants only 30 s (less than the 300 s the PBX asks for): the
    PBX must refresh before that, the whole time."""

    provider_b_args = {"max_expires": 30}
    trunk_b_register = True

    def test_public_address_change_reregisters_then_provider_restart_recovers(self):
        self.wait_registered(timeout=30)
        wait_for("the registration at provider B",
                 lambda: self.registered_contacts(self.provider_b), 30)
        # Provider B's binding is sampled every second for the whole test:
        # with a 30 s grant, a late refresh shows as a gap.
        gaps, stop = [], threading.Event()

        def sample():
            while not stop.wait(1.0):
                if not self.provider_b.contacts():
                    gaps.append(time.strftime("%H:%M:%S"))
        sampler = threading.Thread(target=sample)
        sampler.start()
        self.addCleanup(sampler.join)
        self.addCleanup(stop.set)
        sampled_from = time.time()
        self.assertEqual(self.registered_contacts(), [(WAN_IP, SIP_PORT)], self.diagnostics())

        # The ISP hands the router a new address. The PBX notices (STUN poll,
        # 5 s) and re-registers at once: the provider's binding names the new
        # address long before the 300 s refresh would.
        changed = time.time()
        self.lab.change_wan_address(NEW_WAN_IP)
        wait_for("a registration with the new public address",
                 lambda: self.registered_contacts() == [(NEW_WAN_IP, SIP_PORT)], 30)
        print(f"  public address change to new registration: {time.time() - changed:.1f} s",
              file=sys.stderr)
        self.wait_state("provider-a", "registered")

        # The provider restarts and forgets every registration. With a short
        # interval, the PBX's next refresh puts its binding back.
        self.admin.must("PATCH", f"/api/v1/trunks/{self.trunk_a}", {"register_interval": 60})
        wait_for("the registration for 60 s after the change",
                 lambda: [left for _, left in self.provider_a.bindings() if left <= 60], 15)
        # Kamailio keeps its location table in memory only (usrloc db_mode 0):
        # any binding it holds after the restart came from a new REGISTER.
        self.provider_a.restart()
        restarted = time.time()
        wait_for("the registration after the provider's restart",
                 lambda: self.registered_contacts() == [(NEW_WAN_IP, SIP_PORT)], 75)
        print(f"  provider restart to new registration: {time.time() - restarted:.1f} s",
              file=sys.stderr)
        self.wait_state("provider-a", "registered")

        # Longer than provider B's 30 s grant, so at least one refresh was due.
        wait_for("40 s of sampling", lambda: time.time() - sampled_from >= 40, 45, interval=1)
        stop.set()
        sampler.join()
        self.assertEqual(gaps, [], "provider B lost the PBX's binding (refresh too late)")
        self.wait_state("provider-b", "registered")

    def test_wrong_password_stops_until_the_settings_change(self):
        wait_for("registered", lambda: (self.trunk_status() or {}).get("state") == "registered",
                 30)
        self.admin.must("PATCH", f"/api/v1/trunks/{self.trunk_a}",
                        {"password": "Not-The-Password-1"})
        status = wait_for("the trunk to report the provider's 403 (state failed)",
                          lambda: (self.trunk_status() or {}).get("state") == "failed"
                          and self.trunk_status(), 15)
        self.assertIn("403", str(status.get("last_error")), status)
        # 403 means "stop": no REGISTER storm at the provider while nothing changes.
        before = len(self.provider_a.requests("REGISTER"))
        time.sleep(6)  # a window for a retry loop to show; the daemon's clock is real here
        self.assertLessEqual(len(self.provider_a.requests("REGISTER")), before + 1)
        self.admin.must("PATCH", f"/api/v1/trunks/{self.trunk_a}", {"password": TRUNK_PASSWORD})
        wait_for("registered again after the password was fixed",
                 lambda: (self.trunk_status() or {}).get("state") == "registered", 15)


if __name__ == "__main__":
    unittest.main(verbosity=2)
