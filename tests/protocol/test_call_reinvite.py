"""Media that moves: a second 183 with other SDP before the answer, and a
re-INVITE in an answered call where the callee moves its media to a new
port. The PBX relays the re-INVITE to the caller (SDP rewritten) and hands
the new address to the relay, which must then send the caller's RTP to the
new port and re-latch to it, still from the port it advertised to the
callee, and carry the callee's RTP from the new port back to the caller."""
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import callsipp  # noqa: E402
import duplexd  # noqa: E402
import sipreg  # noqa: E402


class MediaMove(unittest.TestCase):
    def test_callee_moves_its_media_port_and_the_relay_follows(self):
        lab = callsipp.CallLab()
        self.addCleanup(lab.cleanup)
        port = duplexd.free_port()
        lab.register("102", port)
        media_a, media_b, media_b2 = (callsipp.udp_socket() for _ in range(3))
        for s in (media_a, media_b, media_b2):
            self.addCleanup(s.close)
        uas = lab.start("call_uas_move.xml", port, "-m", "1", "-d", "1500",
                        "-key", "rtp_port", str(media_b.getsockname()[1]),
                        "-key", "rtp_port2", str(media_b2.getsockname()[1]),
                        "-key", "out_dir", lab.work)
        inf = lab.csv("caller.csv", [["101", lab.auth("101"), "102"]])
        uac = lab.start("call_uac_reinvited.xml", duplexd.free_port(), "-m", "1", "-key", "rtp_port",
                        str(media_a.getsockname()[1]), "-key", "out_dir", lab.work,
                        "-d", "3000", "-auth_uri", "102@duplex.test", inf=inf)
        relay_a = lab.relay_of("caller")
        relay_b = lab.relay_of("callee")
        # Before the move: the old port hears the caller.
        before_a, before_b = callsipp.exchange_rtp(media_a, relay_a, media_b, relay_b, count=10)
        self.assertEqual(set(before_b), {relay_b}, before_b)
        moved = os.path.join(lab.work, "moved")
        deadline = time.monotonic() + 10
        while not os.path.exists(moved) and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertTrue(os.path.exists(moved), "the re-INVITE did not complete\n" + lab.diagnostics())
        # After the move: the new port hears the caller, from the same relay
        # port, and what it sends reaches the caller.
        after_a, after_b2 = callsipp.exchange_rtp(media_a, relay_a, media_b2, relay_b, count=25)
        self.assertEqual(set(after_b2), {relay_b}, after_b2)
        self.assertGreaterEqual(after_b2[relay_b], 20)
        self.assertEqual(set(after_a), {relay_a}, after_a)
        self.assertGreaterEqual(after_a[relay_a], 20)
        code, err = uac.wait(20)
        self.assertEqual(code, 0, err)
        code, err = uas.wait(10)
        self.assertEqual(code, 0, err)


class HoldAndResume(unittest.TestCase):
    def test_caller_holds_and_resumes_and_the_callee_sees_both(self):
        lab = callsipp.CallLab()
        self.addCleanup(lab.cleanup)
        port = duplexd.free_port()
        lab.register("102", port)
        media_a, media_b = callsipp.udp_socket(), callsipp.udp_socket()
        self.addCleanup(media_a.close)
        self.addCleanup(media_b.close)
        # The callee's scenario fails unless the first re-INVITE says sendonly
        # and the second sendrecv (the direction passes the B2BUA unchanged).
        uas = lab.start("call_uas_held.xml", port, "-m", "1",
                        "-key", "rtp_port", str(media_b.getsockname()[1]),
                        "-key", "out_dir", lab.work)
        inf = lab.csv("caller.csv", [["101", lab.auth("101"), "102"]])
        uac = lab.start("call_uac_hold.xml", duplexd.free_port(), "-m", "1", "-key", "rtp_port",
                        str(media_a.getsockname()[1]), "-key", "out_dir", lab.work,
                        "-d", "1500", "-auth_uri", "102@duplex.test", inf=inf)
        code, err = uac.wait(20)
        self.assertEqual(code, 0, err + lab.diagnostics())
        code, err = uas.wait(10)
        self.assertEqual(code, 0, err)
        records = sipreg.wait_until(lambda: lab.call_records(), timeout=5)
        self.assertEqual(len(records), 1)
        self.assertEqual(records[0]["disposition"], "answered")
        # The relay saw the resume too: the caller's leg is no longer on hold.
        facts = json.loads(records[0]["media_facts"])
        self.assertFalse(facts["a"]["hold"], facts["a"])


class EarlyMediaTwice(unittest.TestCase):
    def test_second_183_with_other_sdp_is_passed_on_and_the_relay_follows_it(self):
        lab = callsipp.CallLab()
        self.addCleanup(lab.cleanup)
        port = duplexd.free_port()
        lab.register("102", port)
        media_a, media_b, media_b2 = (callsipp.udp_socket() for _ in range(3))
        for s in (media_a, media_b, media_b2):
            self.addCleanup(s.close)
        uas = lab.start("call_uas_early_twice.xml", port, "-m", "1",
                        "-key", "rtp_port", str(media_b.getsockname()[1]),
                        "-key", "rtp_port2", str(media_b2.getsockname()[1]),
                        "-key", "out_dir", lab.work)
        inf = lab.csv("caller.csv", [["101", lab.auth("101"), "102"]])
        uac = lab.start("call_uac_early_twice.xml", duplexd.free_port(), "-m", "1",
                        "-key", "rtp_port", str(media_a.getsockname()[1]), "-key", "out_dir",
                        lab.work, "-d", "2500", "-auth_uri", "102@duplex.test", inf=inf)
        relay_a = lab.relay_of("caller")
        relay_b = lab.relay_of("callee")
        seen_a, seen_b2 = callsipp.exchange_rtp(media_a, relay_a, media_b2, relay_b, count=25)
        self.assertEqual(set(seen_b2), {relay_b}, seen_b2)
        self.assertGreaterEqual(seen_b2[relay_b], 20)
        self.assertEqual(set(seen_a), {relay_a}, seen_a)
        code, err = uac.wait(20)  # it got both 183s (the scenario requires them)
        self.assertEqual(code, 0, err + lab.diagnostics())
        self.assertEqual(uas.wait(10)[0], 0)


if __name__ == "__main__":
    unittest.main()
