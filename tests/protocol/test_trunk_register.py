"""Outbound trunk registration against sipp playing the provider's registrar
on loopback: trunks are created through the admin API and the test checks
what the provider's side saw (the digest it verified, the Expires: 0 of the
unregistration) and what the status API shows for each trunk (registered,
failed with the provider's reason and no further attempt after 403, failed
then registered after a 503 with Retry-After, disabled, not_required).
Python stdlib only; every process is stopped by PID."""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import callsipp  # noqa: E402
import duplexd  # noqa: E402
from test_admin_api import AdminClient, admin_password  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SIPP_DIR = os.path.join(HERE, "sipp")


class Provider:
    """A sipp UAS on its own port: one REGISTER dialog per scenario."""

    def __init__(self, work, scenario):
        self.port = duplexd.free_port()
        self.err = os.path.join(work, f"{scenario}.err")
        self.proc = subprocess_popen(["sipp", "-sf", os.path.join(SIPP_DIR, scenario),
                                      "-i", "127.0.0.1", "-p", str(self.port), "-m", "1",
                                      "-nostdin", "-trace_err", "-error_file", self.err], work)

    def wait(self, timeout):
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        return self.proc.returncode

    def errors(self):
        if os.path.exists(self.err):
            with open(self.err) as f:
                return f.read()[-3000:]
        return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def subprocess_popen(cmd, cwd):
    return subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_for(what, predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


class TrunkRegistration(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        callsipp.require_sipp()
        cls.work = tempfile.mkdtemp(prefix="duplex-trunk-reg-")
        # No OPTIONS keep-alives during the test: sipp would see them as
        # unexpected messages in its REGISTER scenarios.
        cls.daemon = duplexd.Daemon(duplexd.duplex_binary(), "--nat.upnp=false",
                                    "--registrar.keepalive_interval=3600")
        cls.daemon.start()
        cls.api = AdminClient(cls.daemon.admin_port)
        assert cls.api.login(admin_password(cls.daemon)).status == 200
        cls.providers = []

    @classmethod
    def tearDownClass(cls):
        for p in cls.providers:
            p.stop()
        cls.api.close()
        cls.daemon.stop()
        shutil.rmtree(cls.work, ignore_errors=True)

    def provider(self, scenario):
        p = Provider(self.work, scenario)
        self.providers.append(p)
        time.sleep(0.3)  # sipp binds its port before the PBX sends
        return p

    def trunk(self, name, port, **extra):
        body = {"name": name, "host": "127.0.0.1", "port": port, "username": "4930123",
                "password": "trunk-secret"}
        body.update(extra)
        r = self.api.request("POST", "/api/v1/trunks", body)
        self.assertEqual(r.status, 201, r.body)
        return r.json()["id"]

    def status(self, name):
        trunks = self.api.request("GET", "/api/v1/status").json()["trunks"]
        self.assertIsInstance(trunks, list)
        for t in trunks:
            if t["name"] == name:
                return t
        return None

    def wait_state(self, name, state, timeout=15, **fields):
        def check():
            s = self.status(name)
            if s and s["state"] == state and all(s.get(k) == v for k, v in fields.items()):
                return s
            return None
        try:
            return wait_for(f"trunk {name} {state} {fields}", check, timeout)
        except AssertionError:
            self.fail(f"trunk {name}: {self.status(name)}, wanted {state} {fields}")

    def test_challenge_digest_refresh_and_unregister_on_disable(self):
        p = self.provider("trunk_provider_auth.xml")
        tid = self.trunk("auth", p.port)
        # Registered only after sipp verified the MD5 digest (it answers 403
        # to a wrong one); the first grant is 10 s.
        s = self.wait_state("auth", "registered")
        now = time.time()
        self.assertAlmostEqual(s["registered_until"], now + 10, delta=3)
        self.assertEqual(s["last_error"], "")
        self.assertEqual(s["contact"], f"sip:4930123@127.0.0.1:{self.daemon.sip_port}")
        self.assertFalse(s["behind_nat"])
        # The refresh comes 5 s later (half the grant) and gets 3600 s.
        s = wait_for("the refresh", lambda: (self.status("auth") or {}).get(
            "registered_until", 0) > time.time() + 600 and self.status("auth"), 15)
        self.assertEqual(s["state"], "registered")
        # Disabling unregisters: sipp's scenario ends only on Expires: 0.
        r = self.api.request("PATCH", f"/api/v1/trunks/{tid}", {"enabled": False})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(p.wait(15), 0, p.errors())
        self.wait_state("auth", "disabled", next_attempt=None)

    def test_forbidden_stops_until_the_settings_change(self):
        p = self.provider("trunk_provider_forbidden.xml")
        self.trunk("forbidden", p.port)
        s = self.wait_state("forbidden", "failed")
        self.assertEqual(s["last_error"], "403 Forbidden")
        self.assertIsNone(s["next_attempt"])
        self.assertIsNone(s["registered_until"])
        self.assertEqual(p.wait(10), 0, p.errors())

    def test_service_unavailable_backs_off_then_registers(self):
        p = self.provider("trunk_provider_unavailable.xml")
        self.trunk("flaky", p.port)
        s = self.wait_state("flaky", "failed")
        self.assertEqual(s["last_error"], "503 Service Unavailable")
        # Retry-After: 10 from the provider sets the next attempt.
        self.assertAlmostEqual(s["next_attempt"], time.time() + 10, delta=3)
        s = self.wait_state("flaky", "registered", timeout=25)
        self.assertAlmostEqual(s["registered_until"], time.time() + 3600, delta=5)
        self.assertEqual(p.wait(10), 0, p.errors())

    def test_states_of_trunks_that_do_not_register(self):
        port = duplexd.free_port()
        self.trunk("ip-auth", port, register=False)
        self.trunk("off", port, enabled=False)
        self.wait_state("ip-auth", "not_required", next_attempt=None)
        self.wait_state("off", "disabled", enabled=False)


if __name__ == "__main__":
    unittest.main(verbosity=2)
