"""The admin REST API over HTTP against the real daemon, as an admin or a
script uses it: the generated admin password, login, bearer tokens on every
route, every error class, extensions that register at once with the password
the API generated, live password changes and binding drops, settings, status,
call records, persistence across a restart, and the OpenAPI document.
Python stdlib only."""
import csv
import http.client
import io
import json
import os
import re
import socket
import sqlite3
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import duplexd  # noqa: E402
import sipreg  # noqa: E402

# No UPnP discovery: nothing leaves this machine, and stopping is instant.
BASE_ARGS = [f"--registrar.realm={sipreg.REALM}", "--nat.upnp=false"]

# Every route of the API (the router's table, admin/api_routes.cpp); the
# OpenAPI test below checks the document against this list, and the
# authentication test sends each an unauthenticated request.
ROUTES = [
    ("GET", "/api/v1/health"), ("POST", "/api/v1/auth/login"), ("POST", "/api/v1/auth/logout"),
    ("PUT", "/api/v1/auth/password"), ("GET", "/api/v1/tokens"), ("POST", "/api/v1/tokens"),
    ("DELETE", "/api/v1/tokens/{id}"), ("GET", "/api/v1/extensions"),
    ("POST", "/api/v1/extensions"), ("POST", "/api/v1/extensions/bulk"),
    ("GET", "/api/v1/extensions/{number}"), ("PATCH", "/api/v1/extensions/{number}"),
    ("DELETE", "/api/v1/extensions/{number}"),
    ("GET", "/api/v1/trunks"), ("POST", "/api/v1/trunks"), ("GET", "/api/v1/trunks/{id}"),
    ("PATCH", "/api/v1/trunks/{id}"), ("DELETE", "/api/v1/trunks/{id}"),
    ("GET", "/api/v1/outbound-routes"), ("POST", "/api/v1/outbound-routes"),
    ("GET", "/api/v1/outbound-routes/{id}"), ("PATCH", "/api/v1/outbound-routes/{id}"),
    ("DELETE", "/api/v1/outbound-routes/{id}"),
    ("GET", "/api/v1/inbound-numbers"), ("POST", "/api/v1/inbound-numbers"),
    ("GET", "/api/v1/inbound-numbers/{id}"), ("PATCH", "/api/v1/inbound-numbers/{id}"),
    ("DELETE", "/api/v1/inbound-numbers/{id}"),
    ("GET", "/api/v1/settings"),
    ("PATCH", "/api/v1/settings"), ("GET", "/api/v1/status"), ("GET", "/api/v1/calls"),
    ("GET", "/api/v1/calls.csv"), ("GET", "/api/v1/openapi.json"),
]
PUBLIC = {("GET", "/api/v1/health"), ("POST", "/api/v1/auth/login")}


def admin_password(daemon):
    """The generated password, from the 0600 file the daemon wrote."""
    with open(os.path.join(daemon.dir, "admin-password.txt")) as f:
        return f.read().strip().rsplit(": ", 1)[1]


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)

    def error(self):
        j = self.json()
        return (self.status, j["error"], j["field"])


class AdminClient:
    """HTTP/1.1 with one keep-alive connection to the daemon's admin port."""

    def __init__(self, port, token=None):
        self.port, self.token = port, token
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def request(self, method, path, body=None, token=None, content_type="application/json",
                raw=None, headers=None):
        h = dict(headers or {})
        tok = self.token if token is None else token
        if tok:
            h["Authorization"] = "Bearer " + tok
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None and content_type:
            h["Content-Type"] = content_type
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=data, headers=h)
                r = self.conn.getresponse()
                out = Response(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
                if r.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                return out
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                if attempt:
                    raise

    def login(self, password, user="admin"):
        r = self.request("POST", "/api/v1/auth/login", {"username": user, "password": password},
                         token="")
        if r.status == 200:
            self.token = r.json()["token"]
        return r

    def close(self):
        self.conn.close()


def start_daemon(*args):
    d = duplexd.Daemon(duplexd.duplex_binary(), *BASE_ARGS, *args)
    d.start()
    return d


class AdminApi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = start_daemon()
        cls.password = admin_password(cls.daemon)
        cls.api = AdminClient(cls.daemon.admin_port)
        r = cls.api.login(cls.password)
        assert r.status == 200, r.body

    @classmethod
    def tearDownClass(cls):
        cls.api.close()
        cls.daemon.cleanup()

    def setUp(self):
        self.phones = []

    def tearDown(self):
        for p in self.phones:
            p.close()

    def phone(self, number, password):
        p = sipreg.Phone(self.daemon, number, password)
        self.phones.append(p)
        return p

    def db(self):
        return sqlite3.connect(os.path.join(self.daemon.dir, "duplex.db"))

    # -- security ----------------------------------------------------------

    def test_first_start_password_is_printed_once_and_file_is_private(self):
        out = "".join(self.daemon.output)
        self.assertEqual(out.count(self.password), 1)
        self.assertIn("admin password generated", out)
        mode = os.stat(os.path.join(self.daemon.dir, "admin-password.txt")).st_mode & 0o777
        self.assertEqual(mode, 0o600)
        with self.db() as con:
            stored = con.execute("SELECT password_hash FROM admin_users").fetchone()[0]
        self.assertTrue(stored.startswith("pbkdf2-sha256$600000$"), stored)
        self.assertNotIn(self.password, stored)

    def test_every_route_refuses_an_unauthenticated_request(self):
        for method, path in ROUTES:
            if (method, path) in PUBLIC:
                continue
            concrete = path.replace("{id}", "1").replace("{number}", "101")
            for token in ("", "dxs_forgedforgedforgedforgedforgedforgedforg"):
                r = self.api.request(method, concrete, body={} if method != "GET" else None,
                                     token=token)
                self.assertEqual(r.status, 401, f"{method} {path} with {token!r}")
                self.assertEqual(r.json()["error"], "unauthorized")
                self.assertIn("bearer", r.headers.get("www-authenticate", "").lower())

    def test_wrong_login_then_throttled_with_retry_after(self):
        # A separate source address is not possible on loopback; this runs on
        # the class daemon, so a fresh one keeps the throttle out of the others.
        d = start_daemon()
        try:
            c = AdminClient(d.admin_port)
            self.assertEqual(c.login("wrong-password").error(), (401, "unauthorized", "password"))
            self.assertEqual(c.login("wrong-password").status, 401)
            self.assertEqual(c.login("wrong-password").status, 401)
            r = c.login(admin_password(d))  # the right one, but too soon
            self.assertEqual(r.error(), (429, "too_many_attempts", None))
            # 2 s after the third failure, counted in whole seconds of the
            # wall clock: a loaded machine may already be 1 s into it (the
            # exact schedule is the LoginThrottle unit tests', on a clock).
            self.assertIn(r.headers["retry-after"], ("1", "2"))
            self.assertEqual(c.login("x", user="root").status, 429)
            c.close()
        finally:
            d.cleanup()

    def test_read_scope_token_reads_but_cannot_write_and_revocation_works(self):
        r = self.api.request("POST", "/api/v1/tokens", {"name": "monitoring", "scope": "read"})
        self.assertEqual(r.status, 201, r.body)
        token, token_id = r.json()["token"], r.json()["id"]
        self.assertEqual(self.api.request("GET", "/api/v1/status", token=token).status, 200)
        r = self.api.request("POST", "/api/v1/extensions", {"number": "190"}, token=token)
        self.assertEqual(r.error(), (403, "forbidden", None))
        listed = self.api.request("GET", "/api/v1/tokens").json()["tokens"]
        self.assertIn("monitoring", [t["name"] for t in listed])
        self.assertNotIn(token, json.dumps(listed))
        self.assertEqual(self.api.request("DELETE", f"/api/v1/tokens/{token_id}").status, 204)
        self.assertEqual(self.api.request("GET", "/api/v1/status", token=token).status, 401)

    def test_error_classes(self):
        r = self.api.request("POST", "/api/v1/extensions", raw=b"number=101",
                             content_type="application/x-www-form-urlencoded")
        self.assertEqual(r.error(), (415, "unsupported_media_type", None))
        # Too large: answered from the headers alone, the body is never read.
        with socket.create_connection(("127.0.0.1", self.daemon.admin_port), timeout=5) as s:
            s.sendall(b"POST /api/v1/extensions HTTP/1.1\r\nHost: x\r\n"
                      b"Authorization: Bearer " + self.api.token.encode() + b"\r\n"
                      b"Content-Type: application/json\r\nContent-Length: 2000000\r\n\r\n{")
            reply = b""
            while b"}" not in reply:
                chunk = s.recv(4096)
                if not chunk:
                    break
                reply += chunk
        self.assertTrue(reply.startswith(b"HTTP/1.1 413"), reply)
        self.assertIn(b'"error":"too_large"', reply)
        self.assertIn(b"Connection: Close", reply)
        r = self.api.request("POST", "/api/v1/extensions", raw=b'{"number": ')
        self.assertEqual(r.error(), (400, "invalid_json", None))
        r = self.api.request("POST", "/api/v1/extensions", {"number": "abc"})
        self.assertEqual(r.error(), (400, "invalid_field", "number"))
        r = self.api.request("POST", "/api/v1/extensions", {"number": "150", "shoe_size": 44})
        self.assertEqual(r.error(), (400, "unknown_field", "shoe_size"))
        r = self.api.request("GET", "/api/v1/extensions/999")
        self.assertEqual(r.error(), (404, "not_found", None))
        r = self.api.request("GET", "/api/v1/nothing/here")
        self.assertEqual(r.error(), (404, "not_found", None))
        r = self.api.request("DELETE", "/api/v1/extensions")
        self.assertEqual(r.error(), (405, "method_not_allowed", None))
        self.assertEqual(r.headers["allow"], "GET, POST")
        self.assertEqual(self.api.request("POST", "/api/v1/extensions", {"number": "151"}).status,
                         201)
        r = self.api.request("POST", "/api/v1/extensions", {"number": "151"})
        self.assertEqual(r.error(), (409, "conflict", "number"))

    def test_weak_sip_passwords_are_refused_with_the_reason(self):
        for password, reason in [("Short1x", "at least 12 characters"),
                                 ("alllowercaseletters", "two kinds of characters"),
                                 ("my-160-phone-X", "extension number"),
                                 ("Password2024!", "commonly used")]:
            r = self.api.request("POST", "/api/v1/extensions",
                                 {"number": "160", "sip_password": password})
            self.assertEqual(r.error(), (400, "weak_password", "sip_password"), password)
            self.assertIn(reason, r.json()["detail"])
        self.assertEqual(self.api.request("GET", "/api/v1/extensions/160").status, 404)

    # -- extensions, live ----------------------------------------------------

    def test_new_extension_registers_at_once_with_the_generated_password(self):
        r = self.api.request("POST", "/api/v1/extensions", {"number": "201", "display_name": "Ann"})
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.headers["location"], "/api/v1/extensions/201")
        password = r.json()["sip_password"]
        self.assertTrue(r.json()["password_generated"])
        status, _ = self.phone("201", password).register()
        self.assertEqual(status, 200)
        # The generated password is never shown again.
        self.assertNotIn(password, self.api.request("GET", "/api/v1/extensions").body.decode())
        self.assertNotIn("sip_password", self.api.request("GET", "/api/v1/extensions/201").json())
        with self.db() as con:
            row = con.execute("SELECT ha1_sha256 FROM extensions WHERE number='201'").fetchone()
        self.assertEqual(row[0], sipreg.h("SHA-256", f"201:{sipreg.REALM}:{password}"))
        # The status page lists it once the write-behind has stored it.
        self.assertTrue(sipreg.wait_until(lambda: any(
            x["extension"] == "201" for x in
            self.api.request("GET", "/api/v1/status").json()["registrations"])))
        reg = next(x for x in self.api.request("GET", "/api/v1/status").json()["registrations"]
                   if x["extension"] == "201")
        self.assertEqual(reg["transport"], "udp")
        self.assertEqual(reg["user_agent"], "duplex-protocol-test/1.0")
        self.assertTrue(reg["source"].startswith("127.0.0.1:"))
        self.assertGreater(reg["expires_in_s"], 3000)

    def test_changed_password_counts_from_the_next_challenge(self):
        self.api.request("POST", "/api/v1/extensions",
                         {"number": "202", "sip_password": "first-Secret-77"})
        self.assertEqual(self.phone("202", "first-Secret-77").register()[0], 200)
        r = self.api.request("PATCH", "/api/v1/extensions/202", {"sip_password": "second-Secret-88"})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(self.phone("202", "first-Secret-77").register()[0], 403)
        self.assertEqual(self.phone("202", "second-Secret-88").register()[0], 200)

    def test_patch_leaves_the_other_fields_intact(self):
        self.api.request("POST", "/api/v1/extensions", {
            "number": "203", "display_name": "Bob", "dnd": True, "forward_busy": "204",
            "forward_no_answer": "sip:voicemail@example.org", "forward_no_answer_seconds": 40,
            "max_contacts": 2, "voicemail_enabled": True, "sip_password": "Bob-phone-Secret"})
        before = self.api.request("GET", "/api/v1/extensions/203").json()
        r = self.api.request("PATCH", "/api/v1/extensions/203", {"display_name": "Robert"})
        self.assertEqual(r.status, 200)
        after = self.api.request("GET", "/api/v1/extensions/203").json()
        self.assertEqual(after["display_name"], "Robert")
        for key in before:
            if key not in ("display_name", "updated_at"):
                self.assertEqual(after[key], before[key], key)
        self.assertEqual(self.phone("203", "Bob-phone-Secret").register()[0], 200)

    def test_delete_and_disable_drop_the_bindings(self):
        self.api.request("POST", "/api/v1/extensions/bulk", {"extensions": [
            {"number": "205", "sip_password": "Five-phone-Secret"},
            {"number": "206", "sip_password": "Six-phone-Secret"}]})
        self.assertEqual(self.phone("205", "Five-phone-Secret").register()[0], 200)
        self.assertEqual(self.phone("206", "Six-phone-Secret").register()[0], 200)

        def bound(number):
            return any(x["extension"] == number for x in
                       self.api.request("GET", "/api/v1/status").json()["registrations"])
        self.assertTrue(sipreg.wait_until(lambda: bound("205") and bound("206")))

        self.assertEqual(self.api.request("DELETE", "/api/v1/extensions/205").status, 204)
        self.assertFalse(bound("205"))
        self.assertEqual(self.phone("205", "Five-phone-Secret").register()[0], 403)

        self.api.request("PATCH", "/api/v1/extensions/206", {"enabled": False})
        self.assertTrue(sipreg.wait_until(lambda: not bound("206")))
        self.assertEqual(self.phone("206", "Six-phone-Secret").register()[0], 403)
        self.assertTrue(self.daemon.wait_for_log("dropped 1 bindings"))

    def test_bulk_create_is_all_or_nothing(self):
        r = self.api.request("POST", "/api/v1/extensions/bulk", {"extensions": [
            {"number": "301"}, {"number": "302"}, {"number": "301"}]})
        self.assertEqual(r.error(), (409, "conflict", "extensions[2].number"))
        r = self.api.request("POST", "/api/v1/extensions/bulk", {"extensions": [
            {"number": "301"}, {"number": "302", "max_contacts": 99}]})
        self.assertEqual(r.error(), (400, "invalid_field", "extensions[1].max_contacts"))
        self.assertEqual(self.api.request("GET", "/api/v1/extensions/301").status, 404)
        r = self.api.request("POST", "/api/v1/extensions/bulk", {"extensions": [
            {"number": "301"}, {"number": "302"}, {"number": "303"}]})
        self.assertEqual(r.status, 201)
        created = r.json()["extensions"]
        self.assertEqual([e["number"] for e in created], ["301", "302", "303"])
        self.assertEqual(self.phone("303", created[2]["sip_password"]).register()[0], 200)

    # -- settings, status, calls ---------------------------------------------

    def test_settings_validate_store_hide_secrets_and_say_what_needs_a_restart(self):
        r = self.api.request("PATCH", "/api/v1/settings", {
            "media.rtp_port_min": 12000, "media.rtp_port_max": 12999, "nat.upnp": False,
            "dyndns.provider": "dyndns", "dyndns.password": "dyn-Secret-42",
            "local_networks": ["192.168.0.0/16", "10.0.0.0/8"], "log.level": "debug"})
        self.assertEqual(r.status, 200, r.body)
        body = r.json()
        # Live: the log level, UPnP on/off and the RTP range (new calls);
        # the rest is used from the next start, and the answer says so.
        self.assertEqual(sorted(body["applied_live"]),
                         ["log.level", "media.rtp_port_max", "media.rtp_port_min", "nat.upnp"])
        self.assertEqual(sorted(body["needs_restart"]),
                         ["dyndns.password", "dyndns.provider", "local_networks"])
        self.assertNotIn("dyn-Secret-42", r.body.decode())
        got = self.api.request("GET", "/api/v1/settings")
        self.assertNotIn("dyn-Secret-42", got.body.decode())
        self.assertTrue(got.json()["secrets_set"]["dyndns.password"])
        self.assertEqual(got.json()["settings"]["local_networks"], ["192.168.0.0/16", "10.0.0.0/8"])
        self.assertIn("local_networks", got.json()["restart_required"])
        self.assertNotIn("media.rtp_port_min", got.json()["restart_required"])
        with self.db() as con:
            rows = dict(con.execute("SELECT key, value FROM settings").fetchall())
        self.assertEqual(rows["media.rtp_port_min"], "12000")
        r = self.api.request("PATCH", "/api/v1/settings", {"media.rtp_port_max": 11000})
        self.assertEqual(r.error(), (400, "invalid_field", "media.rtp_port_max"))
        r = self.api.request("PATCH", "/api/v1/settings", {"sip.port": 0})
        self.assertEqual(r.error(), (400, "invalid_field", "sip.port"))
        r = self.api.request("PATCH", "/api/v1/settings", {"log.level": "loud"})
        self.assertEqual(r.error(), (400, "invalid_field", "log.level"))
        self.api.request("PATCH", "/api/v1/settings", {"log.level": "info"})

    def test_status_reports_version_uptime_and_what_is_not_available(self):
        s = self.api.request("GET", "/api/v1/status").json()
        self.assertRegex(s["version"], r"^\d+\.\d+\.\d+")
        self.assertGreaterEqual(s["uptime_s"], 0)
        self.assertIsInstance(s["registrations"], list)
        for part in ("active_calls", "nat"):
            self.assertIn(part, s)

    def test_call_records_filter_page_and_export(self):
        with self.db() as con:
            for i in range(12):
                con.execute(
                    "INSERT INTO call_records (call_id, caller, callee, dialled, start_at, end_at,"
                    " duration_s, disposition, hangup_cause) VALUES (?,?,?,?,?,?,?,?,?)",
                    (f"cdr-{i}", "401" if i % 3 == 0 else "402", "403", "403", 5000 + i * 10,
                     5005 + i * 10, 5, "busy" if i == 11 else "answered",
                     'BYE, "by caller"' if i == 0 else "BYE"))
        page = self.api.request("GET", "/api/v1/calls?limit=5&offset=5").json()
        self.assertEqual(page["total"], 12)
        self.assertEqual([r["call_id"] for r in page["records"]],
                         [f"cdr-{i}" for i in range(6, 1, -1)])
        self.assertEqual(self.api.request("GET", "/api/v1/calls?extension=401").json()["total"], 4)
        self.assertEqual(self.api.request("GET", "/api/v1/calls?disposition=busy").json()["total"], 1)
        self.assertEqual(self.api.request("GET", "/api/v1/calls?from=5050&to=5080").json()["total"], 3)
        r = self.api.request("GET", "/api/v1/calls?disposition=maybe")
        self.assertEqual(r.error(), (400, "invalid_field", "disposition"))
        r = self.api.request("GET", "/api/v1/calls.csv?extension=401")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.headers["content-type"].startswith("text/csv"))
        rows = list(csv.DictReader(io.StringIO(r.body.decode())))
        self.assertEqual(len(rows), 4)
        self.assertEqual(rows[-1]["call_id"], "cdr-0")
        self.assertEqual(rows[-1]["hangup_cause"], 'BYE, "by caller"')

    def test_openapi_document_is_valid_and_lists_every_route(self):
        r = self.api.request("GET", "/api/v1/openapi.json")
        self.assertEqual(r.status, 200)
        doc = r.json()
        self.assertRegex(doc["openapi"], r"^3\.\d+\.\d+$")
        for key in ("title", "version"):
            self.assertIsInstance(doc["info"][key], str)
        schemas = doc["components"]["schemas"]
        methods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
        for path, item in doc["paths"].items():
            self.assertTrue(path.startswith("/"), path)
            params = set(re.findall(r"{(\w+)}", path))
            for method, operation in item.items():
                self.assertIn(method, methods, path)
                self.assertTrue(operation["responses"], f"{method} {path}")
                for code in operation["responses"]:
                    self.assertRegex(code, r"^[1-5]\d\d$|^default$")
                declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
                self.assertEqual(declared, params, f"{method} {path}")
        # Every $ref resolves.
        for ref in re.findall(r'"\$ref": "#/components/schemas/(\w+)"', json.dumps(doc)):
            self.assertIn(ref, schemas)
        documented = {(m.upper(), p) for p, item in doc["paths"].items() for m in item}
        self.assertEqual(documented, set(ROUTES))
        # Each documented error response points at the Error schema.
        for path, item in doc["paths"].items():
            for method, operation in item.items():
                for code, resp in operation["responses"].items():
                    if code.startswith(("4", "5")):
                        schema = resp["content"]["application/json"]["schema"]
                        self.assertEqual(schema, {"$ref": "#/components/schemas/Error"})

    def test_answers_carry_only_what_the_openapi_document_describes(self):
        """Every field a GET returns is in its schema (and nothing the schema
        requires is missing), every setting the API takes is documented: a
        field added to a handler but not to the document fails here."""
        doc = self.api.request("GET", "/api/v1/openapi.json").json()
        schemas = doc["components"]["schemas"]
        self.api.request("POST", "/api/v1/extensions", {"number": "601"})

        def check(obj, name):
            props = schemas[name]["properties"]
            self.assertEqual(set(obj) - set(props), set(), f"undocumented fields of {name}")
            missing = set(schemas[name].get("required", [])) - set(obj)
            self.assertEqual(missing, set(), f"required {name} fields missing")

        status = self.api.request("GET", "/api/v1/status").json()
        check(status, "Status")
        for r in status["registrations"]:
            check(r, "Registration")
        for c in status["active_calls"] if isinstance(status["active_calls"], list) else []:
            check(c, "ActiveCall")
        settings = self.api.request("GET", "/api/v1/settings").json()
        check(settings, "Settings")
        self.assertEqual(set(settings["settings"]), set(schemas["SettingsValues"]["properties"]))
        self.assertEqual(set(settings["settings"]) | set(settings["secrets_set"]),
                         set(schemas["SettingsPatch"]["properties"]))
        for e in self.api.request("GET", "/api/v1/extensions").json()["extensions"]:
            check(e, "Extension")
        check(self.api.request("GET", "/api/v1/calls").json(), "CallPage")
        for t in self.api.request("GET", "/api/v1/tokens").json()["tokens"]:
            check(t, "Token")
        check(self.api.request("GET", "/api/v1/health").json(), "Health")
        self.api.request("DELETE", "/api/v1/extensions/601")


class Persistence(unittest.TestCase):
    def test_extensions_password_and_tokens_survive_a_restart(self):
        d = duplexd.Daemon(duplexd.duplex_binary(), *BASE_ARGS)
        try:
            d.start()
            password = admin_password(d)
            c = AdminClient(d.admin_port)
            c.login(password)
            api_token = c.request("POST", "/api/v1/tokens",
                                  {"name": "script", "scope": "full"}).json()["token"]
            sip_password = c.request("POST", "/api/v1/extensions",
                                     {"number": "501"}).json()["sip_password"]
            c.close()
            d.stop()
            os.unlink(os.path.join(d.dir, "admin-password.txt"))
            d.output.clear()
            d.start()
            self.assertNotIn("admin password", "".join(d.output))  # not generated again
            c = AdminClient(d.admin_port, token=api_token)
            self.assertEqual(c.request("GET", "/api/v1/extensions/501").status, 200)
            self.assertEqual(c.login(password).status, 200)
            p = sipreg.Phone(d, "501", sip_password)
            self.assertEqual(p.register()[0], 200)
            p.close()
            c.close()
        finally:
            d.cleanup()

    def test_stored_settings_apply_at_the_next_start_and_the_command_line_wins(self):
        d = duplexd.Daemon(duplexd.duplex_binary(), *BASE_ARGS)
        try:
            d.start()
            c = AdminClient(d.admin_port)
            c.login(admin_password(d))
            r = c.request("PATCH", "/api/v1/settings",
                          {"media.rtp_port_min": 12000, "media.rtp_port_max": 12999,
                           "dyndns.password": "dyn-Secret-77"})
            self.assertEqual(r.json()["needs_restart"], ["dyndns.password"])
            self.assertEqual(sorted(r.json()["applied_live"]),
                             ["media.rtp_port_max", "media.rtp_port_min"])
            token = c.token
            c.close()

            def forwarding_plan():
                c = AdminClient(d.admin_port, token=token)
                nat = c.request("GET", "/api/v1/status").json()["nat"]
                c.close()
                return [(f["external_first"], f["external_last"])
                        for f in nat["manual_forwarding"] if f["purpose"].startswith("RTP")]
            # Live: the plan of ports to forward follows at once (the NAT
            # worker publishes it).
            self.assertEqual(sipreg.wait_until(lambda: forwarding_plan() == [(12000, 12999)],
                                               timeout=5), True)
            self.assertIn("RTP port range 12000-12999 for new calls (was 10000-20000)",
                          "".join(d.output))
            d.stop()
            d.start()
            self.assertEqual(forwarding_plan(), [(12000, 12999)])
            c = AdminClient(d.admin_port, token=token)
            self.assertEqual(c.request("GET", "/api/v1/status").json()["restart_required"], [])
            c.close()
            d.stop()
            d.args += ["--media.rtp_port_max=13999", "--log.level=debug"]
            d.output.clear()
            d.start()
            self.assertEqual(forwarding_plan(), [(12000, 13999)])
            out = "".join(d.output)
            self.assertIn("config media.rtp_port_min = '12000' (database (admin API))", out)
            self.assertIn("config dyndns.password = '(hidden)' (database (admin API))", out)
            self.assertNotIn("dyn-Secret-77", out)
        finally:
            d.cleanup()

    def test_reset_password_command(self):
        d = duplexd.Daemon(duplexd.duplex_binary(), *BASE_ARGS)
        try:
            d.start()
            old = admin_password(d)
            c = AdminClient(d.admin_port)
            c.login(old)
            session = c.token
            c.close()
            d.stop()
            d.args.append("--admin.reset_password")
            d.output.clear()
            d.start()
            new = admin_password(d)
            self.assertNotEqual(new, old)
            self.assertIn(f"admin password reset: {new}", "".join(d.output))
            c = AdminClient(d.admin_port)
            self.assertEqual(c.request("GET", "/api/v1/status", token=session).status, 401)
            self.assertEqual(c.login(old).status, 401)
            self.assertEqual(c.login(new).status, 200)
            c.close()
        finally:
            d.cleanup()


if __name__ == "__main__":
    unittest.main()
