"""A third party that sprays a call's relay ports before the phones speak
(right after the answer) does not keep the call: the spray, from another
address (127.0.0.66, a stranger to both phones), reaches the relay first
and opens the learning window, and goes on for longer than the window. When
the phones then speak from their SDP addresses, each leg latches to its
phone all the same: the phones hear each other from the advertised relay
ports, the stranger's packets reach nobody and it receives nothing any more,
and the call record names the phones as the latched sources."""
import json
import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import callsipp  # noqa: E402
import duplexd  # noqa: E402
import sipreg  # noqa: E402

ATTACKER_IP = "127.0.0.66"


def drain(sock):
    """{payload byte: packets} waiting at `sock`."""
    got = {}
    sock.settimeout(0.2)
    while True:
        try:
            data, _ = sock.recvfrom(2048)
        except OSError:
            return got
        if len(data) == 172:
            got[data[12]] = got.get(data[12], 0) + 1


class SprayBeforeThePhones(unittest.TestCase):
    def test_spray_that_opened_the_window_does_not_keep_the_call(self):
        lab = callsipp.CallLab()
        self.addCleanup(lab.cleanup)
        callee_port = duplexd.free_port()
        lab.register("102", callee_port)
        media_a, media_b = callsipp.udp_socket(), callsipp.udp_socket()
        attacker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        attacker.bind((ATTACKER_IP, 0))
        for s in (media_a, media_b, attacker):
            self.addCleanup(s.close)
        uas = lab.start("call_uas.xml", callee_port, "-m", "1", "-key", "rtp_port",
                        str(media_b.getsockname()[1]), "-key", "out_dir", lab.work)
        inf = lab.csv("caller.csv", [["101", lab.auth("101"), "102"]])
        uac = lab.start("call_uac.xml", duplexd.free_port(), "-m", "1", "-key", "rtp_port",
                        str(media_a.getsockname()[1]), "-key", "out_dir", lab.work,
                        "-d", "12000", "-auth_uri", "102@duplex.test", inf=inf)
        relay_a = lab.relay_of("caller")  # written on the 200: the call is answered
        relay_b = lab.relay_of("callee")
        # 2.6 s of in-sequence burst at both relay ports, phones silent.
        for seq in range(130):
            attacker.sendto(callsipp.rtp_packet(3000 + seq, 0xBAD, 0x66), relay_a)
            attacker.sendto(callsipp.rtp_packet(3000 + seq, 0xBAD, 0x66), relay_b)
            time.sleep(0.02)
        # Latched to the stranger on both sides, the relay hands its packets
        # from one side to the other: all it can get back is its own.
        self.assertEqual(set(drain(attacker)) - {0x66}, set())
        drain(media_a)
        drain(media_b)
        # The phones speak, the spray goes on. The first packet of the first
        # phone may still reach the stranger (the other leg is not latched to
        # its phone before that phone's first packet); nothing more may.
        for seq in range(10):
            media_a.sendto(callsipp.rtp_packet(seq, 0xA, 0xAA), relay_a)
            media_b.sendto(callsipp.rtp_packet(seq, 0xB, 0xBB), relay_b)
            attacker.sendto(callsipp.rtp_packet(4000 + seq, 0xBAD, 0x66), relay_a)
            attacker.sendto(callsipp.rtp_packet(4000 + seq, 0xBAD, 0x66), relay_b)
            time.sleep(0.01)
        got = drain(attacker)
        self.assertLessEqual(got.get(0xAA, 0) + got.get(0xBB, 0), 1, got)
        drain(media_a)
        drain(media_b)
        seen = ({}, {}, {})  # at A, at B, at the attacker: {(source, payload): packets}
        for seq in range(10, 50):
            media_a.sendto(callsipp.rtp_packet(seq, 0xA, 0xAA), relay_a)
            media_b.sendto(callsipp.rtp_packet(seq, 0xB, 0xBB), relay_b)
            attacker.sendto(callsipp.rtp_packet(4000 + seq, 0xBAD, 0x66), relay_a)
            attacker.sendto(callsipp.rtp_packet(4000 + seq, 0xBAD, 0x66), relay_b)
            time.sleep(0.01)
        for sock, got in zip((media_a, media_b, attacker), seen):
            sock.settimeout(0.3)
            while True:
                try:
                    data, src = sock.recvfrom(2048)
                except OSError:
                    break
                if len(data) == 172:
                    got[(src, data[12])] = got.get((src, data[12]), 0) + 1
        self.assertEqual(set(seen[0]), {(relay_a, 0xBB)}, seen[0])
        self.assertEqual(set(seen[1]), {(relay_b, 0xAA)}, seen[1])
        self.assertGreaterEqual(seen[0][(relay_a, 0xBB)], 35)
        self.assertGreaterEqual(seen[1][(relay_b, 0xAA)], 35)
        self.assertEqual(seen[2], {}, "the stranger received media")
        code, err = uac.wait(20)
        self.assertEqual(code, 0, err + lab.diagnostics())
        self.assertEqual(uas.wait(10)[0], 0)
        r = sipreg.wait_until(lambda: lab.call_records(), timeout=5)[0]
        facts = json.loads(r["media_facts"])
        self.assertEqual(facts["a"]["latched_source"], f"127.0.0.1:{media_a.getsockname()[1]}",
                         facts["a"])
        self.assertEqual(facts["b"]["latched_source"], f"127.0.0.1:{media_b.getsockname()[1]}",
                         facts["b"])
        self.assertGreater(facts["a"]["foreign_dropped"], 0, facts["a"])
        self.assertGreater(facts["b"]["foreign_dropped"], 0, facts["b"])


if __name__ == "__main__":
    unittest.main()
