"""A call through the PBX as two sipp phones and their RTP see it: the
caller is challenged (407) and answers with MD5, the callee (registered
from its port) rings and answers, and RTP sent by each side to the relay
address the PBX advertised to it arrives at the other side, from exactly
that advertised relay port (symmetric RTP). Then the caller hangs up and the
call record says what happened."""
import json
import os
import sys
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


if __name__ == "__main__":
    unittest.main()
