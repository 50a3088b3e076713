"""UPDATE and INFO before the answer (RFC 3311 5.1, RFC 6086), with sipp on
both sides: the callee sends 183 with SDP (an early dialog); the caller
moves its media to a new port with an UPDATE in that early dialog, which the
PBX relays to the callee with the SDP rewritten to the relay (the callee's
scenario fails on anything else), and the callee's 200 (SDP rewritten too)
comes back; then an INFO with a DTMF digit reaches the callee. After the
answer, the callee's RTP arrives at the caller's NEW port from the relay
port the caller was given, and the caller's RTP from there reaches the
callee: the relay learnt the early UPDATE."""
import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import callsipp  # noqa: E402
import duplexd  # noqa: E402
import sipreg  # noqa: E402


def receive(sock, count, timeout=3.0):
    """{source: packets} of up to `count` callee RTP packets at `sock`."""
    got = {}
    deadline = time.monotonic() + timeout
    sock.settimeout(0.1)
    while time.monotonic() < deadline and sum(got.values()) < count:
        try:
            data, src = sock.recvfrom(2048)
        except socket.timeout:
            continue
        if len(data) == 172 and data[12] == 0xBB:
            got[src] = got.get(src, 0) + 1
    return got


class EarlyUpdateAndInfo(unittest.TestCase):
    def test_update_and_info_in_the_early_dialog_reach_the_callee(self):
        lab = callsipp.CallLab()
        self.addCleanup(lab.cleanup)
        port = duplexd.free_port()
        lab.register("102", port)
        media_a, media_a2, media_b = (callsipp.udp_socket() for _ in range(3))
        for s in (media_a, media_a2, media_b):
            self.addCleanup(s.close)
        uas = lab.start("call_uas_early_update.xml", port, "-m", "1",
                        "-key", "rtp_port", str(media_b.getsockname()[1]),
                        "-key", "out_dir", lab.work)
        inf = lab.csv("caller.csv", [["101", lab.auth("101"), "102"]])
        uac = lab.start("call_uac_early_update.xml", duplexd.free_port(), "-m", "1",
                        "-key", "rtp_port", str(media_a.getsockname()[1]),
                        "-key", "rtp_port2", str(media_a2.getsockname()[1]),
                        "-key", "out_dir", lab.work, "-d", "3000",
                        "-auth_uri", "102@duplex.test", inf=inf)
        relay_a = lab.relay_of("caller")
        relay_b = lab.relay_of("callee")
        updated = os.path.join(lab.work, "updated")
        self.assertTrue(sipreg.wait_until(lambda: os.path.exists(updated), timeout=10),
                        "the early UPDATE was not answered\n" + lab.diagnostics())
        # The callee speaks first: before the caller sends anything, the
        # relay sends to the caller's SDP address, which only the UPDATE
        # told it (the INVITE said media_a).
        for seq in range(10):
            media_b.sendto(callsipp.rtp_packet(seq, 0xB, 0xBB), relay_b)
        got = receive(media_a2, 10)
        self.assertEqual(got, {relay_a: 10}, got)
        self.assertEqual(receive(media_a, 1, timeout=0.3), {})
        seen_a2, seen_b = callsipp.exchange_rtp(media_a2, relay_a, media_b, relay_b)
        self.assertEqual(set(seen_a2), {relay_a}, seen_a2)
        self.assertGreaterEqual(seen_a2[relay_a], 20)
        self.assertEqual(set(seen_b), {relay_b}, seen_b)
        self.assertGreaterEqual(seen_b[relay_b], 20)
        code, err = uac.wait(20)
        self.assertEqual(code, 0, err + lab.diagnostics())
        code, err = uas.wait(10)
        self.assertEqual(code, 0, err + lab.diagnostics())


if __name__ == "__main__":
    unittest.main()
