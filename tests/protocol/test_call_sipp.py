"""A call through the PBX as two sipp phones and their RTP see it: the
caller is challenged (407) and answers with MD5, the callee (registered
from its port) rings and answers, and RTP sent by each side to the relay
address the PBX advertised to it arrives at the other side, from exactly
that advertised relay port (symmetric RTP). Then the caller hangs up and the
call record says what happened."""
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import callsipp  # noqa: E402
import duplexd  # noqa: E402
import sipreg  # noqa: E402


class BasicCall(unittest.TestCase):
    def setUp(self):
        self.lab = callsipp.CallLab()
        self.addCleanup(self.lab.cleanup)

    def test_two_way_rtp_through_the_relay_and_a_call_record(self):
        lab = self.lab
        callee_port = duplexd.free_port()
        lab.register("102", callee_port)
        media_a, media_b = callsipp.udp_socket(), callsipp.udp_socket()
        self.addCleanup(media_a.close)
        self.addCleanup(media_b.close)
        uas = lab.start("call_uas.xml", callee_port, "-m", "1", "-key", "rtp_port",
                        str(media_b.getsockname()[1]), "-key", "out_dir", lab.work)
        inf = lab.csv("caller.csv", [["101", lab.auth("101"), "102"]])
        uac = lab.start("call_uac.xml", duplexd.free_port(), "-m", "1", "-key", "rtp_port",
                        str(media_a.getsockname()[1]), "-key", "out_dir", lab.work,
                        "-d", "2500", "-auth_uri", "102@duplex.test", inf=inf)
        relay_a = lab.relay_of("caller")
        relay_b = lab.relay_of("callee")
        # Loopback peers are LAN peers: they get the LAN address.
        self.assertEqual(relay_a[0], "127.0.0.1")
        self.assertEqual(relay_b[0], "127.0.0.1")
        self.assertNotEqual(relay_a[1], media_a.getsockname()[1])  # not the phone's own port
        self.assertTrue(lab.rtp_base <= relay_a[1] < lab.rtp_base + 200, relay_a)
        self.assertTrue(lab.rtp_base <= relay_b[1] < lab.rtp_base + 200, relay_b)
        seen_a, seen_b = callsipp.exchange_rtp(media_a, relay_a, media_b, relay_b)
        # Each side heard the other, and only from the port advertised to it.
        self.assertEqual(set(seen_a), {relay_a}, seen_a)
        self.assertEqual(set(seen_b), {relay_b}, seen_b)
        self.assertGreaterEqual(seen_a[relay_a], 20)
        self.assertGreaterEqual(seen_b[relay_b], 20)
        code, err = uac.wait(20)
        self.assertEqual(code, 0, err)
        code, err = uas.wait(10)
        self.assertEqual(code, 0, err)
        records = sipreg.wait_until(lambda: lab.call_records(), timeout=5)
        self.assertEqual(len(records), 1, records)
        r = records[0]
        self.assertEqual((r["caller"], r["callee"], r["dialled"]), ("101", "102", "102"))
        self.assertEqual(r["disposition"], "answered")
        self.assertEqual(r["hangup_side"], "caller")
        self.assertIsNotNone(r["answer_at"])
        facts = json.loads(r["media_facts"])
        self.assertGreaterEqual(facts["a"]["rtp_packets_in"], 20, facts)
        self.assertGreaterEqual(facts["b"]["rtp_packets_in"], 20, facts)


class RtpAttack(unittest.TestCase):
    """A third party sprays the relay ports of an established call with an
    in-sequence RTP burst after the learning window: the media must not
    switch to it and it must receive nothing. (Attacks inside the learning
    window are the relay's own tests, media/: on loopback every source shares
    the phones' IP, which the latching rules rank like the phone itself.)"""

    def test_spraying_the_relay_ports_hijacks_nothing(self):
        lab = callsipp.CallLab()
        self.addCleanup(lab.cleanup)
        callee_port = duplexd.free_port()
        lab.register("102", callee_port)
        media_a, media_b, attacker = (callsipp.udp_socket() for _ in range(3))
        for s in (media_a, media_b, attacker):
            self.addCleanup(s.close)
        uas = lab.start("call_uas.xml", callee_port, "-m", "1", "-key", "rtp_port",
                        str(media_b.getsockname()[1]), "-key", "out_dir", lab.work)
        inf = lab.csv("caller.csv", [["101", lab.auth("101"), "102"]])
        uac = lab.start("call_uac.xml", duplexd.free_port(), "-m", "1", "-key", "rtp_port",
                        str(media_a.getsockname()[1]), "-key", "out_dir", lab.work,
                        "-d", "8000", "-auth_uri", "102@duplex.test", inf=inf)
        relay_a = lab.relay_of("caller")
        relay_b = lab.relay_of("callee")
        first_a, first_b = callsipp.exchange_rtp(media_a, relay_a, media_b, relay_b, count=20)
        self.assertGreaterEqual(first_b.get(relay_b, 0), 15, first_b)
        time.sleep(2.2)  # past the 2 s learning window: locked
        for seq in range(50):  # a single packet, then an in-sequence burst
            attacker.sendto(callsipp.rtp_packet(2000 + seq, 0xBAD, 0x66), relay_a)
            attacker.sendto(callsipp.rtp_packet(2000 + seq, 0xBAD, 0x66), relay_b)
            if seq == 0:
                time.sleep(0.1)
        later_a, later_b = callsipp.exchange_rtp(media_a, relay_a, media_b, relay_b, count=20)
        # The phones still hear each other, from the advertised ports...
        self.assertGreaterEqual(later_a.get(relay_a, 0), 15, later_a)
        self.assertGreaterEqual(later_b.get(relay_b, 0), 15, later_b)
        # ...and never the attacker's payload (0x66), which reaches nobody.
        for sock in (media_a, media_b, attacker):
            sock.settimeout(0.2)
            try:
                while True:
                    data, _ = sock.recvfrom(2048)
                    self.assertFalse(len(data) == 172 and data[12] == 0x66,
                                     "the attacker's packet was relayed")
                    self.assertIsNot(sock, attacker, "the attacker received media")
            except OSError:
                pass
        self.assertEqual(uac.wait(20)[0], 0)
        self.assertEqual(uas.wait(10)[0], 0)
        r = sipreg.wait_until(lambda: lab.call_records(), timeout=5)[0]
        facts = json.loads(r["media_facts"])
        self.assertEqual(facts["a"]["foreign_dropped"], 50, facts["a"])
        self.assertEqual(facts["b"]["foreign_dropped"], 50, facts["b"])


if __name__ == "__main__":
    unittest.main()
