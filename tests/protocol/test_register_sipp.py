"""Registration driven by sipp (the Debian sip-tester package), the tool
operators load-test registrars with: MD5 digest registration and removal for
many extensions, a wrong password, and a phone behind NAT that must receive
the registrar's OPTIONS keep-alive at the port it registered from. sipp 3.6
answers only the first challenge and only MD5, so the daemon offers MD5
first here (auth.algorithms=md5,sha256); SHA-256 is covered by
test_register.py's own client."""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import duplexd  # noqa: E402
import sipreg  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
USERS = {str(n): sipreg.strong_password() for n in range(200, 220)}
ARGS = [f"--registrar.realm={sipreg.REALM}", "--auth.algorithms=md5,sha256",
        "--registrar.keepalive_interval=5", "--log.level.registrar=debug"]


def require_sipp():
    if not shutil.which("sipp"):
        raise RuntimeError("sipp is not installed (Debian package sip-tester; "
                           "./installer/quickstart.sh test installs it)")


class SippRegister(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_sipp()
        cls.daemon = duplexd.Daemon(duplexd.duplex_binary(), *ARGS)
        sipreg.provision(cls.daemon, USERS)
        cls.daemon.start()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.cleanup()

    def sipp(self, scenario, users, calls, timeout=30, extra=()):
        """Runs sipp with one CSV line per user; returns (exit code, work dir
        listing of sipp's error log)."""
        work = tempfile.mkdtemp(prefix="duplex-sipp-")
        self.addCleanup(shutil.rmtree, work, True)
        csv = os.path.join(work, "users.csv")
        with open(csv, "w") as f:
            f.write("SEQUENTIAL\n")
            for user, password in users:
                f.write(f"{user};[authentication username={user} password={password}]\n")
        cmd = ["sipp", "-sf", os.path.join(HERE, "sipp", scenario), "-inf", csv,
               f"127.0.0.1:{self.daemon.sip_port}", "-i", "127.0.0.1", "-p", "0",
               "-m", str(calls), "-r", "50", "-nostdin", "-timeout", f"{timeout}s",
               "-timeout_error", "-trace_err", "-error_file", os.path.join(work, "err.log")]
        cmd += list(extra)
        proc = subprocess.run(cmd, cwd=work, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, timeout=timeout + 15)
        err = ""
        if os.path.exists(os.path.join(work, "err.log")):
            err = open(os.path.join(work, "err.log")).read()[-2000:]
        return proc.returncode, proc.stderr[-2000:] + err

    def bindings(self, users):
        return [r for r in sipreg.bindings_in_db(self.daemon)
                if r["aor"].split("@")[0][4:] in users]

    def test_md5_registration_and_removal_for_ten_extensions(self):
        users = list(USERS.items())[:10]
        code, err = self.sipp("register_auth.xml", users, len(users))
        self.assertEqual(code, 0, err)
        log = self.daemon.drain()
        self.assertNotIn("digest authentication failed", log)
        # Every extension registered and then removed its binding: the
        # write-behind leaves none behind in the database.
        deadline = time.monotonic() + 5
        while self.bindings(dict(users)) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.bindings(dict(users)), [])

    def test_wrong_password_gets_403(self):
        users = [(u, "wrong-" + p) for u, p in list(USERS.items())[10:12]]
        code, err = self.sipp("register_forbidden.xml", users, len(users))
        self.assertEqual(code, 0, err)
        self.assertTrue(self.daemon.wait_for_log(f"extension '{users[1][0]}'"))

    def test_nat_phone_gets_keepalive_at_its_source_port(self):
        users = list(USERS.items())[12:13]
        code, err = self.sipp("register_nat_keepalive.xml", users, 1, extra=["-aa"])
        self.assertEqual(code, 0, err)
        rows = self.bindings(dict(users))
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0]["contact_uri"], f"sip:{users[0][0]}@10.1.2.3:5062")
        self.assertEqual((rows[0]["source_ip"], rows[0]["behind_nat"]), ("127.0.0.1", 1))
        # sipp answered an OPTIONS that reached the socket it registered from
        # (not 10.1.2.3:5062, which nobody listens on).
        self.assertIn(f"keep-alive answered by sip:{users[0][0]}@10.1.2.3:5062 at "
                      f"127.0.0.1:{rows[0]['source_port']}", self.daemon.drain())


if __name__ == "__main__":
    unittest.main()
