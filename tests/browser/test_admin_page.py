"""The admin web page in headless Chromium, as an office admin uses it: log
in with the generated password, add an extension, see it in the list with
its generated password shown once, register a real SIP phone (sipp) with
that password, and see the phone on the status page. Chromium is driven
through chromedriver's W3C WebDriver HTTP API with urllib (stdlib only).
Screenshots are kept in $DUPLEX_ARTIFACTS (default: ./artifacts)."""
import base64
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "protocol"))
import callsipp  # noqa: E402
import duplexd  # noqa: E402
import sipreg  # noqa: E402

ARTIFACTS = os.environ.get("DUPLEX_ARTIFACTS", os.path.join(os.getcwd(), "artifacts"))
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


class WebDriver:
    """The few WebDriver commands the test needs (W3C WebDriver, 2018)."""

    def __init__(self):
        for tool in ("chromedriver", "chromium"):
            if not shutil.which(tool):
                raise RuntimeError(f"{tool} is not installed (Debian packages chromium, "
                                   "chromium-driver)")
        self.port = duplexd.free_port()
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(["chromedriver", f"--port={self.port}"],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 15
        while True:
            try:
                self.call("GET", "/status", session=False)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": shutil.which("chromium"), "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-dev-shm-usage", "--window-size=1280,1000"]}}}}
        self.session = self.call("POST", "/session", caps, session=False)["sessionId"]

    def call(self, method, path, body=None, session=True):
        url = self.base + (f"/session/{self.session}" if session else "") + path
        data = json.dumps(body if body is not None else {}).encode() if method == "POST" else None
        req = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return json.loads(r.read())["value"]
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"WebDriver {method} {path}: {e.read()[:500]!r}") from None

    def get(self, url):
        self.call("POST", "/url", {"url": url})

    def find(self, css):
        return self.call("POST", "/element", {"using": "css selector", "value": css})[ELEMENT]

    def type(self, css, text):
        self.call("POST", f"/element/{self.find(css)}/value", {"text": text})

    def clear(self, css):
        self.call("POST", f"/element/{self.find(css)}/clear")

    def on_element(self, css, method, action):
        """Find and act; found again when the page re-rendered the element in
        between (a view reloads its list asynchronously, the status view
        refreshes itself)."""
        for attempt in range(3):
            try:
                return self.call(method, f"/element/{self.find(css)}/{action}")
            except RuntimeError as e:
                if "stale element" not in str(e) or attempt == 2:
                    raise
                time.sleep(0.1)

    def click(self, css):
        self.on_element(css, "POST", "click")

    def text(self, css):
        return self.on_element(css, "GET", "text")

    def displayed(self, css):
        return self.call("GET", f"/element/{self.find(css)}/displayed")

    def screenshot(self, name):
        os.makedirs(ARTIFACTS, exist_ok=True)
        path = os.path.join(ARTIFACTS, name)
        with open(path, "wb") as f:
            f.write(base64.b64decode(self.call("GET", "/screenshot")))
        return path

    def wait(self, predicate, what, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if predicate():
                    return
            except RuntimeError:
                pass  # element not there yet
            time.sleep(0.1)
        self.screenshot("failure.png")
        raise AssertionError(f"timed out waiting for {what}")

    def quit(self):
        try:
            self.call("DELETE", "")
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self.log.close()


class AdminPage(unittest.TestCase):
    def setUp(self):
        stale = os.path.join(ARTIFACTS, "failure.png")
        if os.path.exists(stale):
            os.unlink(stale)
        if not shutil.which("sipp"):
            raise RuntimeError("sipp is not installed (Debian package sip-tester)")
        self.daemon = duplexd.Daemon(duplexd.duplex_binary(), f"--registrar.realm={sipreg.REALM}",
                                     "--auth.algorithms=md5,sha256", "--nat.upnp=false")
        self.addCleanup(self.daemon.cleanup)
        self.daemon.start()
        with open(os.path.join(self.daemon.dir, "admin-password.txt")) as f:
            self.password = f.read().strip().rsplit(": ", 1)[1]
        self.browser = WebDriver()
        self.addCleanup(self.browser.quit)

    def api_post(self, path, body):
        base = f"http://127.0.0.1:{self.daemon.admin_port}"
        login = urllib.request.Request(
            base + "/api/v1/auth/login", method="POST",
            data=json.dumps({"username": "admin", "password": self.password}).encode(),
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(login, timeout=10) as r:
            token = json.load(r)["token"]
        req = urllib.request.Request(base + path, method="POST", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json",
                                              "Authorization": "Bearer " + token})
        with urllib.request.urlopen(req, timeout=10) as r:
            self.assertEqual(r.status, 201)
        # The test later counts the page's session: this one goes.
        logout = urllib.request.Request(base + "/api/v1/auth/logout", method="POST",
                                        headers={"Authorization": "Bearer " + token})
        with urllib.request.urlopen(logout, timeout=10) as r:
            self.assertEqual(r.status, 204)

    def register_with_sipp(self, number, password):
        work = tempfile.mkdtemp(prefix="duplex-sipp-")
        self.addCleanup(shutil.rmtree, work, True)
        with open(os.path.join(work, "users.csv"), "w") as f:
            f.write(f"SEQUENTIAL\n{number};[authentication username={number} "
                    f"password={password}]\n")
        proc = subprocess.run(
            ["sipp", "-sf", os.path.join(HERE, "register.xml"), "-inf",
             os.path.join(work, "users.csv"), f"127.0.0.1:{self.daemon.sip_port}",
             "-i", "127.0.0.1", "-p", "0", "-m", "1", "-nostdin", "-timeout", "15s",
             "-timeout_error"], cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True, timeout=30)
        return proc.returncode, proc.stderr[-2000:]

    def test_log_in_add_extension_register_phone_see_it_on_status(self):
        b = self.browser
        b.get(f"http://127.0.0.1:{self.daemon.admin_port}/")
        b.wait(lambda: b.displayed("#login-password"), "the login form")
        b.type("#login-password", "not-the-password")
        b.click("#login-button")
        b.wait(lambda: "Wrong user name or password" in b.text("#message"), "the login error")
        self.assertFalse(b.displayed("#tab-extensions"))  # no menu before logging in
        b.clear("#login-password")
        b.type("#login-password", self.password)
        b.click("#login-button")
        b.wait(lambda: b.displayed("#tab-extensions"), "the tabs after login")

        b.click("#tab-extensions")
        b.wait(lambda: b.displayed("#add-form"), "the extensions page")
        b.type("#new-number", "301")
        b.type("#new-name", "Front desk")
        b.click("#add-button")
        b.wait(lambda: b.displayed("#new-password-box"), "the generated password")
        sip_password = b.text("#new-password")
        self.assertRegex(sip_password, r"^[A-Za-z0-9]{20}$")
        b.wait(lambda: "Front desk" in b.text("#extensions-table"), "the new row in the list")
        self.assertIn("301", b.text("#extensions-table"))
        b.screenshot("admin_extensions.png")

        code, err = self.register_with_sipp("301", sip_password)
        self.assertEqual(code, 0, err)

        def listed():
            b.click("#tab-status")  # reloads the status
            time.sleep(0.2)
            return "301" in b.text("#registrations")
        b.wait(listed, "the phone on the status page")
        regs = b.text("#registrations")
        self.assertIn("sipp browser-test phone", regs)
        self.assertIn("udp", regs)
        self.assertTrue(b.text("#active-calls"))  # a list, or plainly "not available yet"
        # The daemon's NAT module reports its state: the Router panel shows
        # the UPnP verdict (off here) and what to forward by hand.
        router = b.text("#router")
        self.assertIn("UPnP is off", router)
        self.assertIn("Forward these ports by hand", router)
        # A trunk added through the API shows in the Trunks table with its
        # registration state (an IP-authenticated trunk needs none).
        self.api_post("/api/v1/trunks", {
            "name": "provider-x", "host": "127.0.0.1", "port": duplexd.free_port(),
            "username": "4930123", "password": "trunk-secret", "register": False})

        def trunk_listed():
            b.click("#tab-status")
            time.sleep(0.2)
            return "provider-x" in b.text("#trunks")
        b.wait(trunk_listed, "the trunk on the status page")
        self.assertIn("not required", b.text("#trunks"))
        path = b.screenshot("admin_status.png")
        self.assertGreater(os.path.getsize(path), 5000)

        # Edit: do-not-disturb on, then the list shows it.
        b.click("#tab-extensions")
        b.wait(lambda: "Front desk" in b.text("#extensions-table"), "the list again")
        b.click("#extensions-table tr[data-number='301'] button")
        b.wait(lambda: b.displayed("#edit-form"), "the edit form")
        b.click("#edit-dnd")
        b.click("#edit-form button[type='submit']")
        b.wait(lambda: not b.displayed("#edit-form"), "the saved edit")
        b.wait(lambda: "on" in b.text("#extensions-table tr[data-number='301']"), "DND in the list")

        # Settings: the form is built from the API's own schema; a live one
        # says so, one that needs a restart says that.
        b.click("#tab-settings")
        b.wait(lambda: b.displayed("#setting-log\\.level"), "the settings form")
        b.click("#setting-log\\.level option[value='debug']")
        b.type("#setting-media\\.rtp_port_min", "12000")
        b.click("#setting-nat\\.upnp option[value='false']")
        b.type("#setting-registrar\\.keepalive_interval", "20")
        b.click("#settings-save")
        b.wait(lambda: "Applied now: log.level" in b.text("#settings-result"), "the live setting")
        self.assertIn("Applied now: log.level, media.rtp_port_min, nat.upnp.",
                      b.text("#settings-result"))
        self.assertIn("after a restart: registrar.keepalive_interval", b.text("#settings-result"))
        con = sqlite3.connect(os.path.join(self.daemon.dir, "duplex.db"))
        stored = dict(con.execute("SELECT key, value FROM settings").fetchall())
        con.close()
        self.assertEqual(stored, {"log.level": "debug", "media.rtp_port_min": "12000",
                                  "nat.upnp": "false", "registrar.keepalive_interval": "20"})
        b.screenshot("admin_settings.png")

        # Log out: back to the login form, and the token no longer works.
        b.click("#logout")
        b.wait(lambda: b.displayed("#login-password"), "the login form after logging out")
        self.assertFalse(b.displayed("#tab-status"))

        def sessions():
            con = sqlite3.connect(os.path.join(self.daemon.dir, "duplex.db"))
            try:
                return con.execute("SELECT COUNT(*) FROM admin_tokens WHERE kind='session'"
                                   ).fetchone()[0]
            finally:
                con.close()
        b.wait(lambda: sessions() == 0, "the session token revoked")
        print(f"screenshots in {ARTIFACTS}")


class ActiveCallOnTheStatusPage(unittest.TestCase):
    """A call in which only the caller's audio reaches the PBX (the callee's
    phone sends nothing): the status page lists the call with both phones,
    says plainly who is silent, and shows the relay's one-way diagnosis once
    it is made; after the hang-up the call is gone from the page."""

    def setUp(self):
        # One-way diagnosis after 1 s of answered call instead of 5 s.
        self.lab = callsipp.CallLab(extra_args=("--media.one_way_after=1s",))
        self.addCleanup(self.lab.cleanup)
        with open(os.path.join(self.lab.daemon.dir, "admin-password.txt")) as f:
            self.password = f.read().strip().rsplit(": ", 1)[1]
        self.browser = WebDriver()
        self.addCleanup(self.browser.quit)

    def test_one_way_call_is_listed_with_its_diagnosis_then_gone(self):
        lab, b = self.lab, self.browser
        callee_port = duplexd.free_port()
        lab.register("102", callee_port)
        media_a, media_b = callsipp.udp_socket(), callsipp.udp_socket()
        self.addCleanup(media_a.close)
        self.addCleanup(media_b.close)
        uas = lab.start("call_uas.xml", callee_port, "-m", "1", "-key", "rtp_port",
                        str(media_b.getsockname()[1]), "-key", "out_dir", lab.work)
        inf = lab.csv("caller.csv", [["101", lab.auth("101"), "102"]])
        uac = lab.start("call_uac.xml", duplexd.free_port(), "-m", "1", "-key", "rtp_port",
                        str(media_a.getsockname()[1]), "-key", "out_dir", lab.work,
                        "-d", "9000", "-auth_uri", "102@duplex.test", inf=inf)
        relay_a = lab.relay_of("caller")
        for seq in range(50):  # the caller talks; the callee's phone stays silent
            media_a.sendto(callsipp.rtp_packet(seq, 0xA, 0xAA), relay_a)
            time.sleep(0.01)

        b.get(f"http://127.0.0.1:{lab.daemon.admin_port}/")
        b.wait(lambda: b.displayed("#login-password"), "the login form")
        b.type("#login-password", self.password)
        b.click("#login-button")
        b.wait(lambda: b.displayed("#tab-status"), "the status page")

        def shown(text):
            def check():
                b.click("#tab-status")  # reloads the status
                time.sleep(0.2)
                return text in b.text("#active-calls")
            return check
        b.wait(shown("101 → 102"), "the call on the status page")
        b.wait(shown("never sent media"), "the one-way diagnosis on the status page")
        calls = b.text("#active-calls")
        self.assertIn("answered", calls)
        self.assertIn("caller 101 at 127.0.0.1:", calls)
        self.assertIn("callee 102 at 127.0.0.1:" + str(callee_port), calls)
        self.assertRegex(calls, r"caller: (4\d|50) packets in")  # the relay's counters
        self.assertIn("callee: 0 packets in", calls)
        self.assertIn("(leg A: 101, leg B: 102)", calls)  # who the relay's legs are
        b.screenshot("admin_active_call.png")

        code, err = uac.wait(30)
        self.assertEqual(code, 0, err)
        code, err = uas.wait(10)
        self.assertEqual(code, 0, err)
        b.wait(shown("No calls right now."), "the call gone after the hang-up")


if __name__ == "__main__":
    unittest.main()
