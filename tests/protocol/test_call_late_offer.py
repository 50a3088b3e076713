"""Late offer (RFC 3261 13.2.1) through the PBX, with sipp on both sides:
the caller's INVITE has no SDP, so the callee's INVITE has none either; the
callee's 200 carries the offer, rewritten to the relay toward the caller;
the caller's ACK carries the answer, rewritten and sent to the callee in the
ACK for its 200 (the callee's scenario fails without it). RTP then flows
both ways through the advertised relay ports. A caller that ACKs without an
answer gets the call ended on both sides, with the reason in the record."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import callsipp  # noqa: E402
import duplexd  # noqa: E402
import sipreg  # noqa: E402


class LateOffer(unittest.TestCase):
    def setUp(self):
        self.lab = callsipp.CallLab()
        self.addCleanup(self.lab.cleanup)
        self.port = duplexd.free_port()
        self.lab.register("102", self.port)
        self.media_a, self.media_b = callsipp.udp_socket(), callsipp.udp_socket()
        self.addCleanup(self.media_a.close)
        self.addCleanup(self.media_b.close)

    def call(self, uac_scenario, uas_scenario):
        lab = self.lab
        uas = lab.start(uas_scenario, self.port, "-m", "1",
                        "-key", "rtp_port", str(self.media_b.getsockname()[1]),
                        "-key", "out_dir", lab.work)
        inf = lab.csv("caller.csv", [["101", lab.auth("101"), "102"]])
        uac = lab.start(uac_scenario, duplexd.free_port(), "-m", "1",
                        "-key", "rtp_port", str(self.media_a.getsockname()[1]),
                        "-key", "out_dir", lab.work, "-d", "2500",
                        "-auth_uri", "102@duplex.test", inf=inf)
        return uac, uas

    def test_offer_in_the_callees_200_answer_in_the_callers_ack(self):
        lab = self.lab
        uac, uas = self.call("call_uac_late.xml", "call_uas_late.xml")
        relay_a = lab.relay_of("caller")  # from the 200's offer
        relay_b = lab.relay_of("callee")  # from the ACK's answer
        seen_a, seen_b = callsipp.exchange_rtp(self.media_a, relay_a, self.media_b, relay_b)
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
        self.assertEqual(records[0]["hangup_side"], "caller")

    def test_ack_without_answer_ends_the_call_on_both_sides(self):
        lab = self.lab
        uac, uas = self.call("call_uac_late_noanswer.xml", "call_uas_late_noanswer.xml")
        code, err = uac.wait(20)  # it got the PBX's BYE
        self.assertEqual(code, 0, err + lab.diagnostics())
        code, err = uas.wait(10)  # so did the callee, after its ACK
        self.assertEqual(code, 0, err + lab.diagnostics())
        records = sipreg.wait_until(lambda: lab.call_records(), timeout=5)
        self.assertEqual(len(records), 1, records)
        self.assertEqual(records[0]["disposition"], "failed")
        self.assertEqual(records[0]["hangup_side"], "pbx")
        self.assertEqual(records[0]["hangup_cause"],
                         "late offer: the caller's ACK carried no SDP answer")


if __name__ == "__main__":
    unittest.main()
