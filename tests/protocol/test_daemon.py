"""The daemon as a user meets it: it starts, listens where it says, answers
OPTIONS, keeps its database in the data folder, stops cleanly on SIGTERM and
SIGINT, and refuses to start with a message naming the problem."""
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import duplexd  # noqa: E402


class DaemonLifecycle(unittest.TestCase):
    def test_options_answered_on_udp_and_tcp(self):
        with duplexd.Daemon(duplexd.duplex_binary()) as d:
            peer = duplexd.UdpPeer(d.sip_port)
            call_id, probe = duplexd.options_probe("127.0.0.1", d.sip_port)
            peer.send(probe)
            answer = peer.recv()
            peer.close()
            self.assertIsNotNone(answer)
            status, _, raw = duplexd.status_of(answer)
            self.assertEqual(status, 200)
            allow = ",".join(duplexd.header(raw, "Allow"))
            self.assertIn("OPTIONS", allow)
            self.assertIn("application/sdp", ",".join(duplexd.header(raw, "Accept")))
            self.assertTrue(duplexd.header(raw, "Supported") is not None)
            self.assertEqual(duplexd.header(raw, "Call-ID"), [call_id])
            # RFC 3581: received/rport stamped on the Via we get back
            via = duplexd.header(raw, "Via")[0]
            self.assertIn("received=127.0.0.1", via)
            self.assertRegex(via, r"rport=\d+")

            s = socket.create_connection(("127.0.0.1", d.sip_port))
            call_id, probe = duplexd.options_probe("127.0.0.1", d.sip_port)
            s.sendall(probe.replace(b"SIP/2.0/UDP", b"SIP/2.0/TCP"))
            s.settimeout(5)
            reply = s.recv(65536)
            s.close()
            self.assertEqual(duplexd.status_of(reply)[0], 200)

    def test_admin_listens_and_database_is_created(self):
        d = duplexd.Daemon(duplexd.duplex_binary())
        try:
            d.start()
            with urllib.request.urlopen(
                    f"http://127.0.0.1:{d.admin_port}/api/v1/health", timeout=5) as r:
                self.assertEqual(r.status, 200)
            code = d.stop()
            self.assertEqual(code, 0, d.drain())
            db = os.path.join(d.dir, "duplex.db")
            self.assertTrue(os.path.exists(db))
            con = sqlite3.connect(db)
            tables = {r[0] for r in con.execute("select name from sqlite_master where type='table'")}
            con.close()
            for t in ("extensions", "settings", "bindings", "call_records"):
                self.assertIn(t, tables)
        finally:
            d.cleanup()

    def test_sigint_and_sighup_stop_cleanly(self):
        for sig in (signal.SIGINT, signal.SIGHUP):
            d = duplexd.Daemon(duplexd.duplex_binary())
            try:
                d.start()
                d.proc.send_signal(sig)
                self.assertEqual(d.proc.wait(timeout=10), 0, sig)
                self.assertTrue(d.wait_for_log("stopped"))
            finally:
                d.cleanup()

    def test_sip_trace_toggles_at_run_time(self):
        with duplexd.Daemon(duplexd.duplex_binary()) as d:
            peer = duplexd.UdpPeer(d.sip_port)
            call_id, probe = duplexd.options_probe("127.0.0.1", d.sip_port)
            peer.send(probe)
            self.assertIsNotNone(peer.recv())
            d.proc.send_signal(signal.SIGUSR2)
            self.assertTrue(d.wait_for_log("SIP message tracing on"))
            self.assertNotIn(call_id, d.drain(), "traced before tracing was on")
            call_id, probe = duplexd.options_probe("127.0.0.1", d.sip_port)
            peer.send(probe)
            self.assertIsNotNone(peer.recv())
            peer.close()
            self.assertTrue(d.wait_for_log(call_id), "the traced OPTIONS is not in the log")

    def test_port_in_use_is_named(self):
        blocker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        blocker.bind(("127.0.0.1", 0))
        port = blocker.getsockname()[1]
        d = duplexd.Daemon(duplexd.duplex_binary())
        try:
            r = subprocess.run([d.binary] + d.args + [f"--sip.port={port}"],
                               capture_output=True, text=True, timeout=10)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn(str(port), r.stdout + r.stderr)
            self.assertIn("in use", (r.stdout + r.stderr).lower())
        finally:
            blocker.close()
            d.cleanup()

    def test_bad_config_names_the_key(self):
        d = duplexd.Daemon(duplexd.duplex_binary())
        try:
            for arg, key in (("--sip.port=abc", "sip.port"), ("--sip.prot=5060", "sip.prot"),
                             ("--log.level=loud", "log.level")):
                r = subprocess.run([d.binary] + d.args + [arg], capture_output=True,
                                   text=True, timeout=10)
                self.assertNotEqual(r.returncode, 0, arg)
                self.assertIn(key, r.stdout + r.stderr, arg)
            conf = os.path.join(d.dir, "duplex.conf")
            with open(conf, "w") as f:
                f.write("# test\nsip.udp = maybe\n")
            r = subprocess.run([d.binary] + d.args + [f"--config={conf}"], capture_output=True,
                               text=True, timeout=10)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("sip.udp", r.stdout + r.stderr)
            self.assertIn(":2", r.stdout + r.stderr)  # the line number
        finally:
            d.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)
