"""A real softphone, baresip (Debian package), behind a port-translating NAT
(natrelay.py): it registers with a generated strong password, and stays
registered across a restart of the daemon — the binding is reloaded from the
database and the keep-alives resume, reaching the phone through the NAT
mapping and answered by it.

baresip 1.0 (Debian 12; libre 1.1) aborts with "Register: Function not
implemented" when any challenge in the 401 names an algorithm other than MD5,
whatever the order, so this phone needs auth.algorithms=md5 (README,
"Registrar")."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import duplexd  # noqa: E402
import natrelay  # noqa: E402
import sipreg  # noqa: E402


def start_baresip(confdir, relay, user, password, sip_port):
    phone_port = duplexd.free_port()
    with open(os.path.join(confdir, "config"), "w") as f:
        f.write(f"sip_listen\t\t127.0.0.1:{phone_port}\n"
                "module_path\t\t/usr/lib/baresip/modules\n"
                "module\t\t\tg711.so\n"
                "module_app\t\taccount.so\n"
                "module_app\t\tmenu.so\n"  # menu starts the registrations
                "audio_player\t\tnone\naudio_source\t\tnone\naudio_alert\t\tnone\n")
    with open(os.path.join(confdir, "accounts"), "w") as f:
        f.write(f"<sip:{user}@{sipreg.REALM}>;auth_pass={password};regint=3600;"
                f"outbound=\"sip:127.0.0.1:{relay.lan_port};transport=udp\"\n")
    proc = subprocess.Popen(["baresip", "-f", confdir], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return proc, phone_port


def is_ok_for(method):
    def check(relay):
        for d in relay.to_phone:
            st = duplexd.status_of(d)
            if st and st[0] == 200 and method in " ".join(duplexd.header(d, "CSeq")):
                return True
        return False
    return check


class BaresipRegistration(unittest.TestCase):
    def setUp(self):
        if not shutil.which("baresip"):
            raise RuntimeError("baresip is not installed (Debian package baresip; "
                               "./installer/quickstart.sh test installs it)")

    def test_registers_and_stays_registered_across_a_restart(self):
        password = sipreg.strong_password()
        port = duplexd.free_port()
        d = duplexd.Daemon(duplexd.duplex_binary(), f"--registrar.realm={sipreg.REALM}",
                           f"--sip.port={port}", "--registrar.keepalive_interval=5",
                           "--auth.algorithms=md5",
                           "--log.level.registrar=debug")
        sipreg.provision(d, {"301": password})
        d.start()
        relay = natrelay.NatRelay(port)
        confdir = tempfile.mkdtemp(prefix="duplex-baresip-")
        phone = None
        try:
            phone, phone_port = start_baresip(confdir, relay, "301", password, port)
            self.assertTrue(relay.wait_for(is_ok_for("REGISTER"), 10),
                            "baresip never got a 200 for its REGISTER:\n" + d.drain()[-2000:])
            rows = sipreg.wait_until(lambda: [r for r in sipreg.bindings_in_db(d)
                                              if r["aor"].startswith("sip:301@")])
            self.assertEqual(len(rows), 1)
            row = rows[0]
            self.assertEqual((row["source_port"], row["behind_nat"]), (relay.wan_port, 1))
            self.assertIn(f":{phone_port}", row["contact_uri"])

            d.stop()
            relay.to_phone.clear()
            sent_before_restart = len(relay.to_pbx)
            d.start()
            self.assertTrue(d.wait_for_log("1 bindings loaded"))
            # The reloaded binding is pinged through the NAT mapping and the
            # real phone answers: it is still reachable, without having
            # registered again.
            self.assertTrue(d.wait_for_log(
                f"keep-alive answered by {row['contact_uri']} at 127.0.0.1:{relay.wan_port}",
                timeout=10), d.drain()[-2000:])
            self.assertFalse([x for x in relay.to_pbx[sent_before_restart:]
                              if x.startswith(b"REGISTER ")])
        finally:
            if phone:
                phone.terminate()
                try:
                    phone.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    phone.kill()
            relay.close()
            d.cleanup()
            shutil.rmtree(confdir, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
