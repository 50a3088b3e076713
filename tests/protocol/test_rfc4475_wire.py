"""RFC 4475 torture messages over the wire: each message is sent as one UDP
datagram to the running daemon, the answer's status is checked against the
verdict in tests/data/rfc4475/INDEX.md (or silence where the RFC says drop),
and the daemon must still answer OPTIONS afterwards. The three framing
cases are also sent over TCP: the connection must be closed, and a new one
must work."""
import os
import socket
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import duplexd  # noqa: E402

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "rfc4475")

# Final status the daemon answers with, or None for "dropped, no answer".
# The daemon serves OPTIONS and REGISTER: a REGISTER that passes the stateless
# checks gets the registrar's digest challenge, 401 (RFC 3261 10.3 step 2;
# RFC 4475 3.3.7 accepts it from a registrar: regaut01's credentials are for
# another realm, so they are answered with a fresh challenge). An INVITE that
# starts a call gets call control's proxy challenge, 407 (RFC 3261 22.3); one
# with a To tag names a dialog the PBX does not have, 481 (RFC 3261 12.2.2).
# Other known methods without a handler get 405; unksm2 stays 400 (its To URI
# scheme is rejected statelessly).
EXPECTED = {
    # 3.1.1 valid
    "wsinv": 481, "intmeth": 501, "esc01": 407, "escnull": 401, "esc02": 501,
    "lwsdisp": 200, "longreq": 407, "dblreq": 401, "semiuri": 200, "transports": 200,
    "mpart01": 405, "unreason": None, "noreason": None,
    # 3.1.2 invalid
    "badinv01": 400, "clerr": 400, "ncl": 400, "scalar02": 400, "scalarlg": None,
    "quotbal": 400, "ltgtruri": 400, "lwsruri": 400, "lwsstart": 400, "trws": 400,
    "escruri": 400, "baddate": 400, "regbadct": 400, "badaspec": 400, "baddn": 400,
    "badvers": 505, "mismatch01": 400, "mismatch02": 501, "bigcode": None,
    # 3.2 transaction layer
    "badbranch": 200,
    # 3.3 application layer
    "insuf": 400, "unkscm": 416, "novelsc": 416, "unksm2": 400, "bext01": 420,
    "invut": 415, "regaut01": 401, "multi01": 400, "mcl01": 400, "bcast": None,
    "zeromf": 483, "cparam01": 401, "cparam02": 401, "regescrt": 401, "sdp01": 406,
    # 3.4 backward compatibility
    "inv2543": 407,
    # not in the RFC text: no Via to answer by, so dropped (INDEX.md: 400 or drop)
    "test": None,
}


class Rfc4475OverUdp(unittest.TestCase):
    """A fresh daemon per message: several corpus messages share a branch and
    sent-by, which the transaction layer rightly treats as retransmissions
    of the first one (RFC 3261 17.2.3)."""

    def test_every_message_gets_its_verdict(self):
        files = sorted(f[:-4] for f in os.listdir(DATA) if f.endswith(".dat"))
        self.assertEqual(set(files), set(EXPECTED), "corpus and verdict table differ")
        for name in files:
            with self.subTest(message=name):
                with open(os.path.join(DATA, name + ".dat"), "rb") as f:
                    data = f.read()
                got, answer, code = duplexd.exchange_with_fresh_daemon(data)
                self.assertIsNotNone(answer, f"{name}: daemon stopped answering OPTIONS")
                self.assertEqual(duplexd.status_of(answer)[0], 200)
                self.assertEqual(code, 0, f"{name}: daemon died or stopped uncleanly")
                statuses = [duplexd.status_of(g) for g in got]
                self.assertTrue(all(statuses), f"{name}: non-response sent back: {got}")
                finals = [s for s in statuses if s[0] >= 200]
                provisional = [s for s in statuses if s[0] < 200]
                want = EXPECTED[name]
                if want is None:
                    self.assertEqual(statuses, [], f"{name}: expected silence")
                    continue
                self.assertEqual(len(finals), 1, f"{name}: finals {finals}")
                self.assertEqual(finals[0][0], want, f"{name}: got {finals[0][0]} {finals[0][1]}")
                self.assertTrue(all(p[0] == 100 for p in provisional))
                if want == 400:
                    self.assertNotEqual(finals[0][1].strip(), "", f"{name}: 400 without a reason")
                if want == 420:
                    unsupported = duplexd.header(finals[0][2], "Unsupported")
                    self.assertEqual([t.strip() for u in unsupported for t in u.split(",")],
                                     ["nothingSupportsThis", "nothingSupportsThisEither"])
                if want in (405, 501):
                    self.assertTrue(duplexd.header(finals[0][2], "Allow"))


class Rfc4475FramingOverTcp(unittest.TestCase):
    """clerr, ncl, mcl01 over TCP (RFC 4475 3.1.2.2, 3.1.2.3, 3.3.9): framing
    cannot be trusted, so the connection is closed; another one still works."""

    @classmethod
    def setUpClass(cls):
        # clerr's body never completes: the connection closes after the
        # incomplete-message timeout, 64*T1 (here 64 * 50 ms = 3.2 s).
        cls.daemon = duplexd.Daemon(duplexd.duplex_binary(), "--sip.t1=50ms").start()

    @classmethod
    def tearDownClass(cls):
        code = cls.daemon.stop()
        cls.daemon.cleanup()
        assert code == 0, "daemon exit code %r" % code

    def read_until_closed(self, sock, timeout=10.0):
        sock.settimeout(timeout)
        data = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                self.fail("connection not closed in %.0f s; got %r" % (timeout, data))
            except ConnectionResetError:
                return data
            if not chunk:
                return data
            data += chunk

    def test_framing_errors_close_the_connection(self):
        for name in ("clerr", "ncl", "mcl01"):
            with self.subTest(message=name):
                with open(os.path.join(DATA, name + ".dat"), "rb") as f:
                    data = f.read()
                s = socket.create_connection(("127.0.0.1", self.daemon.sip_port))
                s.sendall(data)
                answer = self.read_until_closed(s)
                s.close()
                if answer:  # a 400 before the close is welcome, nothing else is
                    self.assertEqual(duplexd.status_of(answer)[0], 400, answer)
                # a fresh connection still gets OPTIONS answered
                s = socket.create_connection(("127.0.0.1", self.daemon.sip_port))
                probe_id, probe = duplexd.options_probe("127.0.0.1", self.daemon.sip_port)
                s.sendall(probe.replace(b"SIP/2.0/UDP", b"SIP/2.0/TCP"))
                s.settimeout(5)
                reply = s.recv(65536)
                s.close()
                self.assertEqual(duplexd.status_of(reply)[0], 200, reply)


if __name__ == "__main__":
    unittest.main(verbosity=2)
