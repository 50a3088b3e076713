"""kill -9 while phones register: the database is intact, every registration
answered 200 more than a second before the kill is in it, and the restarted
daemon loads them (issue: "a kill -9 under load loses at most the last second
of refreshes and never corrupts the database")."""
import os
import signal
import sqlite3
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import duplexd  # noqa: E402
import sipreg  # noqa: E402

USERS = {str(n): f"crash-pass-{n}-Xy" for n in range(5000, 11000)}


class KillDuringRegistrations(unittest.TestCase):
    def test_kill_9_loses_at_most_the_last_second(self):
        port = duplexd.free_port()
        d = duplexd.Daemon(duplexd.duplex_binary(), f"--registrar.realm={sipreg.REALM}",
                           f"--sip.port={port}", "--log.level=warn", "--log.level.app=info",
                           "--log.level.registrar=info")
        sipreg.provision(d, USERS)
        d.start()
        answered = {}  # user -> monotonic time of its 200
        phone = None
        try:
            phone = sipreg.Phone(d, "5000", USERS["5000"])
            t0 = time.monotonic()
            killed_at = None
            for user, password in USERS.items():
                # One socket, a distinct contact per extension.
                phone.user, phone.password = user, password
                phone.call_id = f"crash-{user}"
                phone.contact = f"127.0.0.1:{20000 + int(user) % 40000}"
                status, _ = phone.register()
                if status == 200:
                    answered[user] = time.monotonic()
                # Kill once there is more than a second of history to check
                # (whatever the machine's speed), mid-stream.
                first = min(answered.values(), default=None)
                if first is not None and time.monotonic() - first > 1.5 and len(answered) >= 300:
                    d.proc.send_signal(signal.SIGKILL)
                    killed_at = time.monotonic()
                    d.proc.wait()
                    break
            self.assertIsNotNone(killed_at, "registrations finished before the kill")
            self.assertGreater(len(answered), 300, "too little load to mean anything")

            db = os.path.join(d.dir, "duplex.db")
            con = sqlite3.connect(db)
            self.assertEqual(con.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            stored = {r[0].split("@")[0][4:] for r in con.execute("SELECT aor FROM bindings")}
            con.close()
            old_enough = {u for u, t in answered.items() if killed_at - t > 1.0}
            self.assertTrue(old_enough)
            self.assertEqual(old_enough - stored, set(),
                             f"{len(old_enough - stored)} registrations answered more than "
                             f"1 s before the kill are missing")
            self.assertLessEqual(len(stored - set(answered)), 2)  # only in-flight ones

            d.proc = None
            d.start()
            self.assertTrue(d.wait_for_log(f"{len(stored)} bindings loaded"), d.drain()[-1500:])
            print(f"\n{len(answered)} registrations answered in {killed_at - t0:.2f} s; "
                  f"{len(stored)} in the database after kill -9; "
                  f"{len(set(answered) - stored)} lost (answered in the last second)",
                  file=sys.stderr)
        finally:
            if phone:
                phone.close()
            d.cleanup()


if __name__ == "__main__":
    unittest.main()
