"""Call features through the PBX with sipp phones: a busy callee, do not
disturb, an unknown number, the caller hanging up while it rings, no answer
forwarded to another extension, and one-way audio diagnosed in the call
record. Each test reads what the caller got (the final status sipp saw) and
the call record a user would look at."""
import json
import os
import sqlite3
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import callsipp  # noqa: E402
import duplexd  # noqa: E402
import sipreg  # noqa: E402
import test_admin_api  # noqa: E402  (its admin client)


def set_features(lab, number, **columns):
    """Changes an extension in the stopped daemon's database."""
    con = sqlite3.connect(os.path.join(lab.daemon.dir, "duplex.db"))
    with con:
        for column, value in columns.items():
            con.execute(f"UPDATE extensions SET {column} = ? WHERE number = ?", (value, number))
    con.close()


class CallFeatures(unittest.TestCase):
    def lab(self, *args, features=None):
        lab = callsipp.CallLab(list(args), features=features)
        self.addCleanup(lab.cleanup)
        return lab

    def caller(self, lab, scenario, callee="102", *args):
        media = callsipp.udp_socket()
        self.addCleanup(media.close)
        inf = lab.csv(f"caller-{scenario}.csv", [["101", lab.auth("101"), callee]])
        return lab.start(scenario, duplexd.free_port(), "-m", "1", "-key", "rtp_port",
                         str(media.getsockname()[1]), "-key", "out_dir", lab.work,
                         "-auth_uri", f"{callee}@duplex.test", *args, inf=inf), media

    def final_status(self, lab):
        with open(os.path.join(lab.work, "caller_final")) as f:
            return int(f.read().strip())

    def records(self, lab, count=1):
        return sipreg.wait_until(lambda: len(lab.call_records()) >= count and lab.call_records(),
                                 timeout=5) or []

    def test_busy_callee_gives_486_and_a_busy_record(self):
        lab = self.lab()
        port = duplexd.free_port()
        lab.register("102", port)
        uas = lab.start("call_uas_busy.xml", port, "-m", "1")
        uac, _ = self.caller(lab, "call_uac_refused.xml")
        code, err = uac.wait(20)
        self.assertEqual(code, 0, err + lab.diagnostics())
        self.assertEqual(self.final_status(lab), 486)
        self.assertEqual(uas.wait(10)[0], 0)
        r = self.records(lab)[0]
        self.assertEqual(r["disposition"], "busy")
        self.assertEqual(r["callee"], "102")

    def test_do_not_disturb_gives_486_without_ringing_the_phone(self):
        lab = self.lab(features={"102": {"dnd": 1}})
        port = duplexd.free_port()
        lab.register("102", port)
        uas = lab.start("call_uas_busy.xml", port, "-m", "1")
        uac, _ = self.caller(lab, "call_uac_refused.xml")
        code, err = uac.wait(20)
        self.assertEqual(code, 0, err)
        self.assertEqual(self.final_status(lab), 486)
        r = self.records(lab)[0]
        self.assertEqual(r["disposition"], "busy")
        self.assertEqual(r["hangup_cause"], "486 Busy Here (do not disturb)")
        # The phone never got an INVITE: its scenario is still waiting.
        self.assertIsNone(uas.proc.poll())

    def test_dnd_switched_on_while_running_applies_to_the_next_call(self):
        lab = self.lab()
        port = duplexd.free_port()
        lab.register("102", port)
        # Through the admin API, which hands the change to call control at
        # once (no re-reading of the database on the SIP loop).
        api = test_admin_api.AdminClient(lab.daemon.admin_port)
        self.addCleanup(api.close)
        api.login(test_admin_api.admin_password(lab.daemon))
        r = api.request("PATCH", "/api/v1/extensions/102", {"dnd": True})
        self.assertEqual(r.status, 200, r.body)
        uac, _ = self.caller(lab, "call_uac_refused.xml")
        code, err = uac.wait(20)
        self.assertEqual(code, 0, err)
        self.assertEqual(self.final_status(lab), 486)

    def test_unknown_extension_gives_404(self):
        lab = self.lab()
        uac, _ = self.caller(lab, "call_uac_refused.xml", "999")
        code, err = uac.wait(20)
        self.assertEqual(code, 0, err)
        self.assertEqual(self.final_status(lab), 404)

    def test_unregistered_extension_gives_480(self):
        lab = self.lab()
        uac, _ = self.caller(lab, "call_uac_refused.xml", "103")
        code, err = uac.wait(20)
        self.assertEqual(code, 0, err)
        self.assertEqual(self.final_status(lab), 480)

    def test_caller_cancels_while_it_rings(self):
        lab = self.lab()
        port = duplexd.free_port()
        lab.register("102", port)
        uas = lab.start("call_uas_ring_cancel.xml", port, "-m", "1")
        uac, _ = self.caller(lab, "call_uac_cancel.xml")
        code, err = uac.wait(20)
        self.assertEqual(code, 0, err + lab.diagnostics())
        code, err = uas.wait(10)
        self.assertEqual(code, 0, err)  # the phone got the CANCEL and stopped ringing
        r = self.records(lab)[0]
        self.assertEqual(r["disposition"], "cancelled")
        self.assertEqual(r["hangup_side"], "caller")

    def test_no_answer_forwards_to_another_extension(self):
        lab = self.lab(features={"102": {"forward_no_answer": "103",
                                         "forward_no_answer_seconds": 1}})
        port_b, port_c = duplexd.free_port(), duplexd.free_port()
        lab.register("102", port_b)
        lab.register("103", port_c)
        media_c = callsipp.udp_socket()
        self.addCleanup(media_c.close)
        ringing = lab.start("call_uas_ring_cancel.xml", port_b, "-m", "1")
        answering = lab.start("call_uas.xml", port_c, "-m", "1", "-key", "rtp_port",
                              str(media_c.getsockname()[1]), "-key", "out_dir", lab.work)
        uac, _ = self.caller(lab, "call_uac.xml", "102", "-d", "500")
        code, err = uac.wait(20)
        self.assertEqual(code, 0, err + lab.diagnostics())
        self.assertEqual(ringing.wait(10)[0], 0)  # 102 rang and was CANCELed
        self.assertEqual(answering.wait(10)[0], 0)  # 103 answered
        r = self.records(lab)[0]
        self.assertEqual((r["dialled"], r["callee"]), ("102", "103"))
        self.assertEqual(json.loads(r["forward_steps"]),
                         [{"from": "102", "to": "103", "why": "no_answer"}])

    def test_two_phones_ring_in_parallel_and_the_loser_is_canceled(self):
        lab = self.lab()
        desk, mobile = duplexd.free_port(), duplexd.free_port()
        lab.register("102", desk)
        lab.register("102", mobile)
        media_b = callsipp.udp_socket()
        self.addCleanup(media_b.close)
        ringing = lab.start("call_uas_ring_cancel.xml", desk, "-m", "1")
        answering = lab.start("call_uas.xml", mobile, "-m", "1", "-key", "rtp_port",
                              str(media_b.getsockname()[1]), "-key", "out_dir", lab.work)
        uac, _ = self.caller(lab, "call_uac.xml", "102", "-d", "500")
        code, err = uac.wait(20)
        self.assertEqual(code, 0, err + lab.diagnostics())
        self.assertEqual(answering.wait(10)[0], 0)  # answered, then got the BYE
        code, err = ringing.wait(10)
        self.assertEqual(code, 0, err)  # rang, then was CANCELed
        r = self.records(lab)[0]
        self.assertEqual(r["disposition"], "answered")

    def test_one_way_audio_is_diagnosed_in_the_call_record(self):
        lab = self.lab("--media.one_way_after=1s")
        port = duplexd.free_port()
        lab.register("102", port)
        media_b = callsipp.udp_socket()
        self.addCleanup(media_b.close)
        uas = lab.start("call_uas.xml", port, "-m", "1", "-key", "rtp_port",
                        str(media_b.getsockname()[1]), "-key", "out_dir", lab.work)
        uac, media_a = self.caller(lab, "call_uac.xml", "102", "-d", "3000")
        relay_a = lab.relay_of("caller")
        # Only the caller talks; the callee never sends a packet.
        for seq in range(100):
            media_a.sendto(callsipp.rtp_packet(seq, 0xA, 0xAA), relay_a)
            time.sleep(0.02)
        code, err = uac.wait(20)
        self.assertEqual(code, 0, err)
        self.assertEqual(uas.wait(10)[0], 0)
        r = self.records(lab)[0]
        self.assertIsNotNone(r["diagnosis"], r)
        facts = json.loads(r["media_facts"])
        self.assertGreater(facts["a"]["rtp_packets_in"], 0, facts)
        self.assertEqual(facts["b"]["rtp_packets_in"], 0, facts)


if __name__ == "__main__":
    unittest.main()
