"""Two real softphones (baresip, g711) call each other through the PBX, each
playing its own tone; the test measures from each phone's recording of what
it decoded that it heard the other phone's tone. Then the same with the
callee behind a port-translating NAT (it registers from a port other than
its Contact; natrelay.py), where the PBX must send the INVITE to the NAT's
mapping and the relay must latch to where the media really comes from (the
phone's SDP names its interface address, 192.0.2.x here, not the loopback
source its packets come from)."""
import os
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import baresip_phone  # noqa: E402
import callsipp  # noqa: E402
import duplexd  # noqa: E402
import natrelay  # noqa: E402
import sipreg  # noqa: E402

CALLER_TONE, CALLEE_TONE = 440, 1000


class BaresipTwoWayAudio(unittest.TestCase):
    def setUp(self):
        if not shutil.which("baresip"):
            raise RuntimeError("baresip is not installed (Debian package baresip; "
                               "./installer/quickstart.sh test installs it)")
        self.work = tempfile.mkdtemp(prefix="duplex-baresip-")
        self.addCleanup(shutil.rmtree, self.work, True)
        self.tones = {}
        for f in (CALLER_TONE, CALLEE_TONE):
            path = os.path.join(self.work, f"tone{f}.wav")
            baresip_phone.write_tone(path, f)
            self.tones[f] = path
        # baresip 1.0 fails on any non-MD5 challenge (README "Registrar").
        self.lab = callsipp.CallLab(["--auth.algorithms=md5"])
        self.addCleanup(self.lab.cleanup)

    def phone(self, name, user, tone, outbound_port, auto_answer=False):
        p = baresip_phone.Phone(self.work, name, user, self.lab.USERS[user], sipreg.REALM,
                                outbound_port, self.tones[tone], duplexd.free_port(),
                                auto_answer)
        self.addCleanup(p.stop)
        return p

    def wait_registered(self, phone):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if "200 OK" in phone.output():
                return
            time.sleep(0.05)
        self.fail(f"{phone.dir} did not register:\n{phone.output()[-1500:]}")

    def talk(self, caller, callee, seconds=4.0):
        caller.command(f"/dial sip:102@{sipreg.REALM}")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not self.lab.call_records() and \
                "Call established" not in caller.output():
            time.sleep(0.05)
        self.assertIn("Call established", caller.output(), caller.output()[-1500:])
        time.sleep(seconds)
        caller.command("/hangup")
        records = sipreg.wait_until(lambda: self.lab.call_records(), timeout=5)
        self.assertEqual(len(records), 1, self.lab.diagnostics())
        self.assertEqual(records[0]["disposition"], "answered")
        caller.stop()
        callee.stop()
        for phone, want, other in ((caller, CALLEE_TONE, CALLER_TONE),
                                   (callee, CALLER_TONE, CALLEE_TONE)):
            path = phone.decoded()
            self.assertIsNotNone(path, f"{phone.dir}: no recording")
            h = baresip_phone.heard(path, [want, other])
            # Each phone heard the other's tone: audible, and that tone dominates.
            self.assertGreater(h["seconds"], seconds - 1.5, h)
            self.assertGreater(h["rms"], 1000, h)
            self.assertGreater(h[want], 0.9, (phone.dir, h))
        return records[0]

    def test_two_phones_hear_each_other(self):
        callee = self.phone("callee", "102", CALLEE_TONE, self.lab.daemon.sip_port, True)
        caller = self.phone("caller", "101", CALLER_TONE, self.lab.daemon.sip_port)
        self.wait_registered(callee)
        self.wait_registered(caller)
        record = self.talk(caller, callee)
        self.assertEqual((record["caller"], record["callee"]), ("101", "102"))

    def test_callee_behind_a_port_translating_nat_hears_and_is_heard(self):
        nat = natrelay.NatRelay(self.lab.daemon.sip_port)
        self.addCleanup(nat.close)
        callee = self.phone("callee", "102", CALLEE_TONE, nat.lan_port, True)
        caller = self.phone("caller", "101", CALLER_TONE, self.lab.daemon.sip_port)
        self.wait_registered(callee)
        self.wait_registered(caller)
        record = self.talk(caller, callee)
        # The INVITE reached the phone through the NAT's mapping.
        self.assertTrue(any(d.startswith(b"INVITE ") for d in nat.to_phone))
        import json
        facts = json.loads(record["media_facts"])
        # The callee's SDP named another address than its media came from:
        # the relay latched to the real source.
        self.assertTrue(facts["b"]["latched_source"].startswith("127.0.0.1:"), facts["b"])
        self.assertNotEqual(facts["b"]["sdp_address"].split(":")[0], "127.0.0.1", facts["b"])


if __name__ == "__main__":
    unittest.main()
