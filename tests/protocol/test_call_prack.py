"""Reliable provisional responses (RFC 3262) through the PBX, with sipp on
both sides: the caller offers 100rel, so the PBX offers it to the callee;
the callee's reliable 183 (early media SDP) reaches the caller as a reliable
183 with an RSeq of the PBX and the SDP rewritten to the relay; the
caller's PRACK reaches the callee with its RAck mapped back to the callee's
RSeq (the callee's scenario fails on anything else), the 200 for it comes
back, and the callee's 200 without SDP completes the call. RTP then flows
both ways through the relay addresses advertised in the 183 and the INVITE."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import callsipp  # noqa: E402
import duplexd  # noqa: E402
import sipreg  # noqa: E402


class ReliableProvisionals(unittest.TestCase):
    def test_reliable_183_and_prack_pass_through_and_media_flows(self):
        lab = callsipp.CallLab()
        self.addCleanup(lab.cleanup)
        port = duplexd.free_port()
        lab.register("102", port)
        media_a, media_b = callsipp.udp_socket(), callsipp.udp_socket()
        self.addCleanup(media_a.close)
        self.addCleanup(media_b.close)
        uas = lab.start("call_uas_100rel.xml", port, "-m", "1",
                        "-key", "rtp_port", str(media_b.getsockname()[1]),
                        "-key", "out_dir", lab.work)
        inf = lab.csv("caller.csv", [["101", lab.auth("101"), "102"]])
        uac = lab.start("call_uac_100rel.xml", duplexd.free_port(), "-m", "1",
                        "-key", "rtp_port", str(media_a.getsockname()[1]),
                        "-key", "out_dir", lab.work, "-d", "2500",
                        "-auth_uri", "102@duplex.test", inf=inf)
        relay_a = lab.relay_of("caller")  # from the reliable 183
        relay_b = lab.relay_of("callee")
        pracked = os.path.join(lab.work, "pracked")
        self.assertTrue(sipreg.wait_until(lambda: os.path.exists(pracked), timeout=10),
                        "the caller's PRACK was not answered\n" + lab.diagnostics())
        seen_a, seen_b = callsipp.exchange_rtp(media_a, relay_a, media_b, relay_b)
        self.assertEqual(set(seen_a), {relay_a}, seen_a)
        self.assertEqual(set(seen_b), {relay_b}, seen_b)
        self.assertGreaterEqual(seen_a[relay_a], 20)
        self.assertGreaterEqual(seen_b[relay_b], 20)
        code, err = uac.wait(20)
        self.assertEqual(code, 0, err + lab.diagnostics())
        code, err = uas.wait(10)
        self.assertEqual(code, 0, err + lab.diagnostics())
        records = sipreg.wait_until(lambda: lab.call_records(), timeout=5)
        self.assertEqual(len(records), 1, records)
        self.assertEqual(records[0]["disposition"], "answered")


if __name__ == "__main__":
    unittest.main()
