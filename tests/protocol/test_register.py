"""REGISTER against the real daemon on loopback, as a phone sees it: digest
challenges (SHA-256 first, MD5 second), bindings listed in the 200 OK and
written to the database, removal, limits, ordering, and the NAT handling that
makes a phone behind a router reachable (binding sent to the packet's source,
OPTIONS keep-alives arriving at that source port)."""
import os
import sqlite3
import sys
import unittest
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import duplexd  # noqa: E402
import sipreg  # noqa: E402
from sipreg import Phone  # noqa: E402

USERS = {str(n): sipreg.strong_password() for n in range(101, 112)}
BASE_ARGS = [f"--registrar.realm={sipreg.REALM}", "--registrar.keepalive_interval=5"]


wait_until = sipreg.wait_until


class Register(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = duplexd.Daemon(duplexd.duplex_binary(), *BASE_ARGS)
        sipreg.provision(cls.daemon, USERS)
        con = sqlite3.connect(os.path.join(cls.daemon.dir, "duplex.db"))
        with con:  # what the admin API's "max contacts" sets
            con.execute("UPDATE extensions SET max_contacts = 2 WHERE number = '111'")
        con.close()
        cls.daemon.start()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.cleanup()

    def setUp(self):
        self.phones = []

    def tearDown(self):
        for p in self.phones:
            p.close()

    def phone(self, user, **kw):
        p = Phone(self.daemon, user, USERS.get(user, "not-a-password-1"), **kw)
        self.phones.append(p)
        return p

    def test_challenge_offers_sha256_then_md5_with_one_nonce(self):
        p = self.phone("101")
        status, raw = p.send(p.request(expires=3600))
        self.assertEqual(status, 401)
        ch = sipreg.parse_challenges(raw)
        self.assertEqual([c["algorithm"] for c in ch], ["SHA-256", "MD5"])
        self.assertEqual(ch[0]["nonce"], ch[1]["nonce"])
        self.assertEqual(ch[0]["realm"], sipreg.REALM)
        for c in ch:
            self.assertEqual(c["qop"], "auth")
            self.assertTrue(c.get("opaque"))
        # An unknown user gets the same challenge: no enumeration.
        q = self.phone("999")
        status, raw = q.send(q.request(expires=3600))
        self.assertEqual(status, 401)
        self.assertEqual([c["algorithm"] for c in sipreg.parse_challenges(raw)],
                         ["SHA-256", "MD5"])

    def test_sha256_and_md5_registrations_listed_with_expires(self):
        for user, algorithm in (("102", "SHA-256"), ("103", "MD5")):
            p = self.phone(user)
            status, raw = p.register(expires=1800, algorithm=algorithm)
            self.assertEqual(status, 200, raw)
            listed = sipreg.contacts(raw)
            self.assertEqual(len(listed), 1, listed)
            self.assertIn(f"<sip:{user}@{p.contact}>", listed[0])
            self.assertRegex(listed[0], r";expires=(1800|1799)\b")
            self.assertTrue(duplexd.header(raw, "Date"))
            rows = wait_until(lambda: [b for b in sipreg.bindings_in_db(self.daemon)
                                       if b["aor"].startswith(f"sip:{user}@")])
            self.assertEqual(len(rows), 1)
            self.assertEqual(rows[0]["contact_uri"], f"sip:{user}@{p.contact}")

    def test_wrong_password_and_unknown_user_get_the_same_403(self):
        p = self.phone("104")
        status, raw = p.register(password="wrong-password-123")
        self.assertEqual((status, duplexd.status_of(raw)[1]), (403, "Forbidden"))
        q = self.phone("998")
        status, raw2 = q.register(password="whatever-password-1")
        self.assertEqual((status, duplexd.status_of(raw2)[1]), (403, "Forbidden"))
        self.assertTrue(self.daemon.wait_for_log("extension '998'"))
        self.assertIn("extension '104'", self.daemon.drain())

    def test_replayed_nonce_count_is_refused(self):
        p = self.phone("105")
        status, _ = p.register()
        self.assertEqual(status, 200)
        # The same Authorization again (same nonce, same nc): a replay.
        status, raw = p.send(p.request(expires=3600, auth_line=p.last_auth))
        self.assertEqual(status, 401)
        self.assertNotIn("stale=true", " ".join(duplexd.header(raw, "WWW-Authenticate")))
        # The next nc on the same nonce is fine (RFC 7616 3.4.5).
        line = sipreg.authorization(p.last_challenge, p.user, p.password, "REGISTER", p.uri, nc=2)
        status, _ = p.send(p.request(expires=3600, auth_line=line))
        self.assertEqual(status, 200)

    def test_unregister_one_contact_then_all_with_star(self):
        p = self.phone("106")
        a, b = "127.0.0.1:40001", "127.0.0.1:40002"
        lines = [f"Contact: <sip:106@{a}>", f"Contact: <sip:106@{b}>"]
        status, raw = p.register(contact_lines=lines)
        self.assertEqual(status, 200)
        self.assertEqual(len(sipreg.contacts(raw)), 2)
        status, raw = p.register(contact_lines=[f"Contact: <sip:106@{a}>;expires=0"])
        self.assertEqual(status, 200)
        listed = sipreg.contacts(raw)
        self.assertEqual(len(listed), 1)
        self.assertIn(b, listed[0])
        status, raw = p.register(expires=0, contact_lines=["Contact: *"])
        self.assertEqual(status, 200)
        self.assertEqual(sipreg.contacts(raw), [])
        self.assertTrue(wait_until(lambda: not [r for r in sipreg.bindings_in_db(self.daemon)
                                                if r["aor"].startswith("sip:106@")]))

    def test_interval_too_brief_gets_423_with_min_expires(self):
        p = self.phone("107")
        status, raw = p.register(expires=10)
        self.assertEqual(status, 423)
        self.assertEqual(duplexd.header(raw, "Min-Expires"), ["60"])

    def test_sixth_contact_replaces_the_oldest(self):
        p = self.phone("108")
        for i in range(6):
            status, raw = p.register(contact_lines=[f"Contact: <sip:108@127.0.0.1:{41000 + i}>"])
            self.assertEqual(status, 200)
        listed = " ".join(sipreg.contacts(raw))
        self.assertEqual(len(sipreg.contacts(raw)), 5)
        self.assertNotIn(":41000>", listed)
        self.assertIn(":41005>", listed)

    def test_the_extensions_own_contact_limit_applies(self):
        p = self.phone("111")
        for i in range(3):
            status, raw = p.register(contact_lines=[f"Contact: <sip:111@127.0.0.1:{42000 + i}>"])
            self.assertEqual(status, 200)
        listed = " ".join(sipreg.contacts(raw))
        self.assertEqual(len(sipreg.contacts(raw)), 2)
        self.assertNotIn(":42000>", listed)

    def test_out_of_order_cseq_for_the_same_call_id_is_refused(self):
        p = self.phone("109")
        p.cseq = 20
        status, _ = p.register()
        self.assertEqual(status, 200)
        p.cseq = 5  # a delayed, older refresh of the same registration
        status, raw = p.register()
        self.assertEqual((status, duplexd.status_of(raw)[1]), (500, "Out of order CSeq"))

    def test_rebooted_phone_replaces_its_binding(self):
        first = self.phone("110", instance="8b1f0c1e-0000-4000-8000-00000000a110")
        self.assertEqual(first.register()[0], 200)
        # New source port, new Call-ID, same instance: one binding, not two.
        again = self.phone("110", instance="8b1f0c1e-0000-4000-8000-00000000a110")
        status, raw = again.register()
        self.assertEqual(status, 200)
        listed = sipreg.contacts(raw)
        self.assertEqual(len(listed), 1, listed)
        self.assertIn(f":{again.local_port}>", listed[0])


class RegisterBehindNat(unittest.TestCase):
    """Phones that write a private address in Contact and Via, as phones
    behind a router do; the packets come from another address and port."""

    def setUp(self):
        self.daemon = duplexd.Daemon(duplexd.duplex_binary(), *BASE_ARGS)
        sipreg.provision(self.daemon, USERS)
        self.daemon.start()
        self.phones = []

    def tearDown(self):
        for p in self.phones:
            p.close()
        self.daemon.cleanup()

    def test_binding_sends_to_the_source_and_keepalive_arrives_there(self):
        p = Phone(self.daemon, "101", USERS["101"], contact="10.0.0.5:5060")
        self.phones.append(p)
        status, raw = p.register()
        self.assertEqual(status, 200)
        self.assertIn("<sip:101@10.0.0.5:5060>", sipreg.contacts(raw)[0])
        row = wait_until(lambda: sipreg.bindings_in_db(self.daemon))[0]
        self.assertEqual((row["source_ip"], row["source_port"], row["behind_nat"]),
                         ("127.0.0.1", p.local_port, 1))
        # The keep-alive (interval 5 s) reaches the socket that registered,
        # not 10.0.0.5:5060, and comes from the port the phone registered to.
        p.peer.sock.settimeout(8.0)
        data, source = p.peer.sock.recvfrom(65535)
        self.assertTrue(data.startswith(b"OPTIONS sip:101@10.0.0.5:5060 SIP/2.0"), data[:80])
        self.assertEqual(source, ("127.0.0.1", self.daemon.sip_port))

    def test_many_phones_behind_one_nat_on_port_5060_are_separate_bindings(self):
        a = Phone(self.daemon, "102", USERS["102"], contact="192.168.1.20:5060")
        b = Phone(self.daemon, "102", USERS["102"], contact="192.168.1.21:5060")
        c = Phone(self.daemon, "103", USERS["103"], contact="192.168.1.20:5060")
        self.phones += [a, b, c]
        self.assertEqual(a.register()[0], 200)
        status, raw = b.register()
        self.assertEqual(status, 200)
        self.assertEqual(len(sipreg.contacts(raw)), 2)
        self.assertEqual(c.register()[0], 200)
        rows = wait_until(lambda: len(sipreg.bindings_in_db(self.daemon)) == 3 and
                          sipreg.bindings_in_db(self.daemon))
        self.assertEqual(sorted((r["aor"].split("@")[0], r["source_port"]) for r in rows),
                         sorted([("sip:102", a.local_port), ("sip:102", b.local_port),
                                 ("sip:103", c.local_port)]))


class RegisterAcrossRestart(unittest.TestCase):
    def test_stale_nonce_after_restart_and_binding_reloaded(self):
        port = duplexd.free_port()
        args = BASE_ARGS + [f"--sip.port={port}"]
        d = duplexd.Daemon(duplexd.duplex_binary(), *args)
        sipreg.provision(d, USERS)
        d.start()
        p = Phone(d, "101", USERS["101"], contact="10.0.0.7:5060")
        try:
            self.assertEqual(p.register()[0], 200)
            status, raw = p.send(p.request(expires=3600))
            challenge = next(c for c in sipreg.parse_challenges(raw)
                             if c["algorithm"] == "SHA-256")
            self.assertTrue(wait_until(lambda: sipreg.bindings_in_db(d)))
            d.stop()
            d.start()
            # A nonce from before the restart: stale=true, so the phone
            # retries without asking its user (RFC 7616 3.3).
            line = sipreg.authorization(challenge, "101", USERS["101"], "REGISTER", p.uri)
            status, raw = p.send(p.request(expires=3600, auth_line=line))
            self.assertEqual(status, 401)
            self.assertIn("stale=true", " ".join(duplexd.header(raw, "WWW-Authenticate")))
            self.assertTrue(d.wait_for_log("1 bindings loaded"))
            # The reloaded NATed binding is kept alive at its source port.
            p.peer.sock.settimeout(8.0)
            data, _ = p.peer.sock.recvfrom(65535)
            self.assertTrue(data.startswith(b"OPTIONS sip:101@10.0.0.7:5060"), data[:80])
        finally:
            p.close()
            d.cleanup()


if __name__ == "__main__":
    unittest.main()
