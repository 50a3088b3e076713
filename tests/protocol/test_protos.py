"""PROTOS c07-sip (University of Oulu): 4,527 INVITEs, most of them malformed,
each followed by its teardown request. PROTOS judges robustness, not verdicts:
after every case the daemon must answer a valid OPTIONS, and it must never
crash, hang or grow without bound. Cases too large for one datagram go over
TCP. The daemon answers only to the packet's source, so the foreign hosts in
these messages are never contacted."""
import os
import socket
import sys
import tarfile
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import duplexd  # noqa: E402

ARCHIVE = os.path.join(os.path.dirname(__file__), "..", "data", "protos", "c07-sip-cases.tar.xz")


def split_pdus(blob):
    """A case file is '<len> <bytes><len> <bytes>' (INVITE, then teardown)."""
    pdus, i = [], 0
    while i < len(blob):
        sp = blob.index(b" ", i)
        n = int(blob[i:sp])
        pdus.append(blob[sp + 1:sp + 1 + n])
        i = sp + 1 + n
    return pdus


def instantiate(pdu, port, local_port, case):
    subst = {
        b"<To>": b"100@127.0.0.1:%d" % port, b"<From>": b"protos@127.0.0.1",
        b"<From-Address>": b"127.0.0.1", b"<From-IP>": b"127.0.0.1",
        b"<Local-Port>": b"%d" % local_port, b"<Branch-ID>": b"%07d" % case,
        b"<Call-ID>": b"protos-%07d" % case, b"<CSeq>": b"%d" % (case + 1),
        b"<Teardown-Method>": b"CANCEL",
    }
    for k, v in subst.items():
        pdu = pdu.replace(k, v)
    body = pdu.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in pdu else b""
    return pdu.replace(b"<Content-Length>", b"%d" % len(body))


class Protos(unittest.TestCase):
    def test_every_case_leaves_the_daemon_answering(self):
        with tempfile.TemporaryDirectory() as tmp:
            with tarfile.open(ARCHIVE) as tar:
                tar.extractall(tmp)
            cases = sorted(os.listdir(os.path.join(tmp, "cases")))
            self.assertEqual(len(cases), 4527)
            d = duplexd.Daemon(duplexd.duplex_binary(), "--log.level=error", "--log.level.app=info").start()
            peer = duplexd.UdpPeer(d.sip_port)
            local_port = peer.sock.getsockname()[1]
            over_tcp = 0
            try:
                for name in cases:
                    case = int(name)
                    with open(os.path.join(tmp, "cases", name), "rb") as f:
                        pdus = [instantiate(p, d.sip_port, local_port, case)
                                for p in split_pdus(f.read())]
                    for pdu in pdus:
                        if len(pdu) > 65000:
                            over_tcp += 1
                            s = socket.create_connection(("127.0.0.1", d.sip_port))
                            try:
                                s.sendall(pdu)
                            except OSError:
                                pass  # the daemon may close an oversized stream early
                            s.close()
                        else:
                            peer.send(pdu)
                    # UDP may drop a probe (or its answer) behind a burst of
                    # answers to the case's own PDUs: up to three probes, each
                    # waited for 5 s; the daemon must answer one of them.
                    answer = None
                    for _attempt in range(3):
                        probe_id, probe = duplexd.options_probe("127.0.0.1", d.sip_port)
                        peer.send(probe)
                        _, answer = peer.responses_until_probe(probe_id, timeout=5.0)
                        if answer is not None or not d.alive():
                            break
                    self.assertIsNotNone(answer, f"case {name}: no answer to OPTIONS afterwards")
                    self.assertTrue(d.alive(), f"case {name}: daemon died")
                self.assertGreater(over_tcp, 0)
            finally:
                peer.close()
                code = d.stop(expect_clean=False)
                d.cleanup()
            self.assertEqual(code, 0, "daemon did not stop cleanly after PROTOS")


if __name__ == "__main__":
    unittest.main(verbosity=2)
