"""Calls through SIP trunks on loopback, with sipp playing the VoIP providers
and the phones, trunks and routes set up through the admin API as a user
would:

  provider A  127.0.0.2  challenges the INVITE (407, MD5, qop=auth), then
                         answers with RTP;
  provider B  127.0.0.3  answers 503 (failover to A);
  phones      127.0.0.1  101 calls out, 102 is rung by the DID.

What is checked is what the provider and the phones see: the Request-URI
user the provider got (after digit manipulation), the digest answer (checked
here with hashlib against the provider's nonce), RTP arriving both ways
through the relay, the refusals (403) and the call records (trunk, sent
number). Python stdlib only; every process is stopped by PID."""
import hashlib
import os
import re
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import callsipp  # noqa: E402
import duplexd  # noqa: E402
import sipreg  # noqa: E402
from test_admin_api import AdminClient, admin_password  # noqa: E402

PROVIDER_A = "127.0.0.2"
PROVIDER_B = "127.0.0.3"
STRANGER = "127.0.0.9"
TRUNK_USER = "4930555"
TRUNK_PASSWORD = "Prov-Secret-7731"
PROVIDER_REALM = "provider.test"


class ProviderSipp(callsipp.Sipp):
    """sipp on a loopback address of its own (a provider), stopped by PID."""

    def __init__(self, work, scenario, daemon_port, ip, port, *args, inf=None):
        self.err = os.path.join(work, f"{scenario}-{ip}-{port}.err")
        cmd = ["sipp", "-sf", os.path.join(callsipp.SIPP_DIR, scenario),
               f"127.0.0.1:{daemon_port}", "-i", ip, "-mi", ip, "-p", str(port), "-nostdin",
               # -aa: answer the PBX's OPTIONS keep-alives (sent to every
               # trunk, registering or not) whenever they come, as a real
               # provider does, instead of aborting the scenario.
               "-aa", "-trace_err", "-error_file", self.err, "-key", "out_dir", work]
        if inf:
            cmd += ["-inf", inf]
        cmd += list(args)
        self.proc = subprocess.Popen(cmd, cwd=work, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)


def free_port_on(ip):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((ip, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def udp_socket_on(ip):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((ip, 0))
    return s


def digest_params(value):
    return dict((m.group(1).lower(), m.group(2) if m.group(2) is not None else m.group(3))
                for m in re.finditer(r'(\w+)=(?:"([^"]*)"|([^,\s]+))', value))


def md5(text):
    return hashlib.md5(text.encode()).hexdigest()


class TrunkCallLab(callsipp.CallLab):
    """CallLab plus the admin API, two providers and their trunks."""

    def __init__(self):
        super().__init__()
        self.api = AdminClient(self.daemon.admin_port)
        r = self.api.login(admin_password(self.daemon))
        assert r.status == 200, r.body
        self.port_a = free_port_on(PROVIDER_A)
        self.port_b = free_port_on(PROVIDER_B)
        self.trunk_a = self.create("/api/v1/trunks", {
            "name": "provider-a", "host": PROVIDER_A, "port": self.port_a,
            "username": TRUNK_USER, "password": TRUNK_PASSWORD, "register": False})
        self.trunk_b = self.create("/api/v1/trunks", {
            "name": "provider-b", "host": PROVIDER_B, "port": self.port_b,
            "username": "backup", "password": "Backup-Secret-99", "register": False})
        # National numbers: B first (it answers 503), then A.
        self.create("/api/v1/outbound-routes", {
            "name": "national", "position": 1, "pattern": "0Z.", "trunks": [self.trunk_b,
                                                                          self.trunk_a],
            "strip": 1, "prefix": "+49"})
        self.create("/api/v1/outbound-routes", {
            "name": "international", "position": 2, "pattern": "00Z.",
            "trunks": [self.trunk_a], "strip": 2, "prefix": "+"})
        self.create("/api/v1/inbound-numbers", {"number": "4930555100", "extension": "102"})

    def create(self, path, body):
        r = self.api.request("POST", path, body)
        assert r.status == 201, (path, r.status, r.body)
        return r.json()["id"]

    def patch_extension(self, number, body):
        r = self.api.request("PATCH", f"/api/v1/extensions/{number}", body)
        assert r.status == 200, r.body

    def provider(self, scenario, ip, port, *args, inf=None):
        p = ProviderSipp(self.work, scenario, self.daemon.sip_port, ip, port, *args, inf=inf)
        self.procs.append(p)
        return p

    def caller(self, scenario, number, *args):
        inf = self.csv(f"caller-{number}-{len(self.procs)}.csv",
                       [["101", self.auth("101"), number]])
        if "rtp_port" not in args:  # a refused call sends no media; its SDP names a port
            args = args + ("-key", "rtp_port", "4000")
        return self.start(scenario, duplexd.free_port(), "-m", "1", "-key", "out_dir", self.work,
                          "-auth_uri", f"{number}@duplex.test", *args, inf=inf)

    def read(self, name, timeout=10.0):
        path = os.path.join(self.work, name)

        def content():
            if not os.path.exists(path):
                return ""
            with open(path) as f:
                return f.read().strip()

        text = sipreg.wait_until(content, timeout=timeout)
        if not text:
            raise AssertionError(f"{name} was never written\n" + self.diagnostics())
        return text.strip("'\" \n")

    def wait_records(self, count, timeout=5.0):
        return sipreg.wait_until(lambda: len(self.call_records()) >= count and self.call_records(),
                                 timeout=timeout) or self.call_records()

    def cleanup(self):
        self.api.close()
        super().cleanup()


class TrunkCalls(unittest.TestCase):
    def setUp(self):
        self.lab = TrunkCallLab()
        self.addCleanup(self.lab.cleanup)

    def assert_digest_ok(self, header_value, method, nonce):
        """The PBX's Proxy-Authorization answers the provider's challenge."""
        p = digest_params(header_value)
        self.assertEqual(p.get("username"), TRUNK_USER, header_value)
        self.assertEqual(p.get("realm"), PROVIDER_REALM)
        self.assertEqual(p.get("nonce"), nonce)
        self.assertEqual(p.get("qop"), "auth")
        ha1 = md5(f"{TRUNK_USER}:{PROVIDER_REALM}:{TRUNK_PASSWORD}")
        ha2 = md5(f"{method}:{p['uri']}")
        want = md5(f"{ha1}:{nonce}:{p['nc']}:{p['cnonce']}:auth:{ha2}")
        self.assertEqual(p.get("response"), want, header_value)

    def test_outbound_failover_digest_digits_and_media(self):
        lab = self.lab
        media_caller = callsipp.udp_socket()
        media_provider = udp_socket_on(PROVIDER_A)
        self.addCleanup(media_caller.close)
        self.addCleanup(media_provider.close)
        b = lab.provider("trunk_provider_503.xml", PROVIDER_B, lab.port_b, "-m", "1")
        a = lab.provider("trunk_provider.xml", PROVIDER_A, lab.port_a, "-m", "1",
                         "-key", "rtp_port", str(media_provider.getsockname()[1]))
        uac = lab.caller("call_uac.xml", "030123456", "-key", "rtp_port",
                         str(media_caller.getsockname()[1]), "-d", "2500")
        # B was tried first and answered 503; A got the same number.
        self.assertEqual(lab.read("provider503_ruri"), "+4930123456")
        self.assertEqual(lab.read("provider_ruri"), "+4930123456")
        self.assert_digest_ok(lab.read("provider_auth"), "INVITE", "c2lwcC1wcm92aWRlci1ub25jZQ")
        relay_caller = lab.relay_of("caller")
        relay_provider = lab.relay_of("provider")
        seen_caller, seen_provider = callsipp.exchange_rtp(media_caller, relay_caller,
                                                           media_provider, relay_provider)
        self.assertGreaterEqual(seen_caller.get(relay_caller, 0), 20, seen_caller)
        self.assertGreaterEqual(seen_provider.get(relay_provider, 0), 20, seen_provider)
        for p, name in ((uac, "caller"), (a, "provider A"), (b, "provider B")):
            code, err = p.wait(30)
            self.assertEqual(code, 0, f"{name}: {err}\n{lab.diagnostics()}")
        r = lab.wait_records(1)[0]
        self.assertEqual((r["caller"], r["dialled"], r["callee"]), ("101", "030123456",
                                                                    "+4930123456"), r)
        self.assertEqual((r["trunk"], r["sent_number"]), ("provider-a", "+4930123456"))
        self.assertEqual(r["disposition"], "answered")

    def test_inbound_did_rings_the_extension_with_media_both_ways(self):
        lab = self.lab
        callee_port = duplexd.free_port()
        lab.register("102", callee_port)
        media_provider = udp_socket_on(PROVIDER_A)
        media_phone = callsipp.udp_socket()
        self.addCleanup(media_provider.close)
        self.addCleanup(media_phone.close)
        uas = lab.start("call_uas.xml", callee_port, "-m", "1", "-key", "rtp_port",
                        str(media_phone.getsockname()[1]), "-key", "out_dir", lab.work)
        inf = lab.csv("did.csv", [["4930555100"]])
        uac = lab.provider("trunk_did_uac.xml", PROVIDER_A, free_port_on(PROVIDER_A), "-m", "1",
                           "-key", "rtp_port", str(media_provider.getsockname()[1]), "-d", "2500",
                           inf=inf)
        relay_provider = lab.relay_of("caller")
        relay_phone = lab.relay_of("callee")
        seen_provider, seen_phone = callsipp.exchange_rtp(media_provider, relay_provider,
                                                          media_phone, relay_phone)
        self.assertGreaterEqual(seen_provider.get(relay_provider, 0), 20, seen_provider)
        self.assertGreaterEqual(seen_phone.get(relay_phone, 0), 20, seen_phone)
        for p, name in ((uac, "provider"), (uas, "phone 102")):
            code, err = p.wait(30)
            self.assertEqual(code, 0, f"{name}: {err}\n{lab.diagnostics()}")
        r = lab.wait_records(1)[0]
        self.assertEqual((r["caller"], r["callee"], r["dialled"], r["trunk"]),
                         ("+4930777888", "102", "4930555100", "provider-a"), r)
        self.assertEqual(r["disposition"], "answered")

    def raw_invite(self, source_ip, did):
        """One INVITE from `source_ip` without credentials; the final status."""
        s = udp_socket_on(source_ip)
        self.addCleanup(s.close)
        port = s.getsockname()[1]
        body = (f"v=0\r\no=- 1 1 IN IP4 {source_ip}\r\ns=-\r\nc=IN IP4 {source_ip}\r\nt=0 0\r\n"
                f"m=audio 4000 RTP/AVP 0\r\n")
        msg = (f"INVITE sip:{did}@127.0.0.1 SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP {source_ip}:{port};branch=z9hG4bK{did}{port}\r\n"
               f"Max-Forwards: 70\r\nFrom: <sip:+4930777888@provider.test>;tag=x{port}\r\n"
               f"To: <sip:{did}@provider.test>\r\nCall-ID: raw-{did}-{port}\r\n"
               f"CSeq: 1 INVITE\r\nContact: <sip:gw@{source_ip}:{port}>\r\n"
               f"Content-Type: application/sdp\r\nContent-Length: {len(body)}\r\n\r\n{body}")
        s.sendto(msg.encode(), ("127.0.0.1", self.lab.daemon.sip_port))
        s.settimeout(0.5)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                data = s.recv(65535).decode(errors="replace")
            except socket.timeout:
                continue
            m = re.match(r"SIP/2.0 (\d{3}) ([^\r\n]*)", data)
            if m and int(m.group(1)) >= 200:
                return int(m.group(1)), m.group(2)
        self.fail("no final response\n" + self.lab.diagnostics())

    def test_unknown_did_is_404_and_strangers_are_challenged(self):
        self.assertEqual(self.raw_invite(PROVIDER_A, "4930555999"),
                         (404, "Not Found (unknown number 4930555999)"))
        # Not a trunk's address: authenticate like an extension, never routed.
        self.assertEqual(self.raw_invite(STRANGER, "4930555100")[0], 407)

    def test_international_denied_by_default_then_allowed(self):
        lab = self.lab
        refused = lab.caller("call_uac_refused.xml", "0044207123")
        code, err = refused.wait(20)
        self.assertEqual(code, 0, err + lab.diagnostics())
        self.assertEqual(lab.read("caller_final"), "403")
        r = lab.wait_records(1)[0]
        self.assertEqual(r["hangup_cause"], "403 Forbidden (international calls not allowed for 101)")
        self.assertIn("refused: 403 Forbidden (international calls not allowed for 101)",
                      lab.daemon.drain())

        lab.patch_extension("101", {"permissions": "international"})
        media_caller = callsipp.udp_socket()
        media_provider = udp_socket_on(PROVIDER_A)
        self.addCleanup(media_caller.close)
        self.addCleanup(media_provider.close)
        a = lab.provider("trunk_provider.xml", PROVIDER_A, lab.port_a, "-m", "1",
                         "-key", "rtp_port", str(media_provider.getsockname()[1]))
        # The admin API hands the change to call control before it answers.
        uac = lab.caller("call_uac.xml", "0044207123", "-key", "rtp_port",
                         str(media_caller.getsockname()[1]), "-d", "500")
        code, err = uac.wait(20)
        self.assertEqual(code, 0, err + lab.diagnostics())
        self.assertEqual(lab.read("provider_ruri"), "+44207123")
        code, err = a.wait(20)
        self.assertEqual(code, 0, err)

    def test_concurrent_outside_call_limit(self):
        lab = self.lab
        lab.patch_extension("101", {"max_outside_calls": 1})  # applies at once
        media_caller = callsipp.udp_socket()
        media_provider = udp_socket_on(PROVIDER_A)
        self.addCleanup(media_caller.close)
        self.addCleanup(media_provider.close)
        a = lab.provider("trunk_provider.xml", PROVIDER_A, lab.port_a, "-m", "1",
                         "-key", "rtp_port", str(media_provider.getsockname()[1]))
        # B refuses quickly, so the first call ends up on A and stays up 4 s.
        lab.provider("trunk_provider_503.xml", PROVIDER_B, lab.port_b, "-m", "1")
        first = lab.caller("call_uac.xml", "030111", "-key", "rtp_port",
                           str(media_caller.getsockname()[1]), "-d", "4000")
        lab.relay_of("provider")  # the first call is up
        second = lab.caller("call_uac_refused.xml", "030222")
        code, err = second.wait(20)
        self.assertEqual(code, 0, err + lab.diagnostics())
        self.assertEqual(lab.read("caller_final"), "403")
        self.assertIn("refused: 403 Forbidden (101 reached its limit of 1 outside call)",
                      lab.daemon.drain())
        for p in (first, a):
            code, err = p.wait(30)
            self.assertEqual(code, 0, err + lab.diagnostics())

    def test_reinvite_toward_the_provider_is_resent_with_credentials(self):
        lab = self.lab
        media_caller = callsipp.udp_socket()
        media_provider = udp_socket_on(PROVIDER_A)
        self.addCleanup(media_caller.close)
        self.addCleanup(media_provider.close)
        lab.provider("trunk_provider_503.xml", PROVIDER_B, lab.port_b, "-m", "1")
        a = lab.provider("trunk_provider_held.xml", PROVIDER_A, lab.port_a, "-m", "1",
                         "-key", "rtp_port", str(media_provider.getsockname()[1]))
        uac = lab.caller("call_uac_hold.xml", "030123456", "-key", "rtp_port",
                         str(media_caller.getsockname()[1]))
        for p, name in ((uac, "caller"), (a, "provider A")):
            code, err = p.wait(30)
            self.assertEqual(code, 0, f"{name}: {err}\n{lab.diagnostics()}")
        self.assert_digest_ok(lab.read("provider_reauth"), "INVITE", "cmUtaW52aXRlLW5vbmNl")
        first, second = (int(x) for x in lab.read("provider_recseq").split())
        self.assertEqual(second, first + 1)
        self.assertNotIn(" 500 ", lab.daemon.drain())


if __name__ == "__main__":
    unittest.main()
