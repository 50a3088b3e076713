"""The PBX in the lab's office-PC namespace: start and stop the built daemon
(DUPLEX_BIN), and talk to its admin REST API as an admin would (login with
the generated password, bearer token). The API listens on the PC's loopback,
so requests run as a small Python client inside that namespace."""
import json
import os
import re
import signal
import sys

from lab_phone import REALM, wait_for

CLIENT = r'''
import json, sys, urllib.error, urllib.request
port, token_file, password_file, method, path = sys.argv[1:6]
body = sys.argv[6].encode() if len(sys.argv) > 6 else None
base = "http://127.0.0.1:%s/api/v1" % port
def call(method, path, body, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    req = urllib.request.Request(base + path, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")
try:
    token = open(token_file).read().strip()
except FileNotFoundError:
    password = open(password_file).read().strip().rsplit(": ", 1)[1]
    status, answer = call("POST", "/auth/login",
                          json.dumps({"username": "admin", "password": password}).encode())
    if status != 200:
        print(json.dumps({"status": status, "body": answer})); sys.exit(0)
    token = answer["token"]
    open(token_file, "w").write(token)
status, answer = call(method, path, body, token)
print(json.dumps({"status": status, "body": answer}))
'''


class Pbx:
    def __init__(self, lab, binary, rtp, extra=()):
        self.lab, self.binary, self.rtp, self.extra = lab, binary, rtp, list(extra)
        self.data = os.path.join(lab.dir, "pbx-data")
        self.client = os.path.join(lab.dir, "admin_client.py")
        with open(self.client, "w") as f:
            f.write(CLIENT)
        self.proc = None
        self.runs = 0
        self.log_offset = 0

    def start(self):
        self.runs += 1
        self.log_offset = len(self.lab.read_path(os.path.join(self.data, "duplex.log")))
        token = os.path.join(self.lab.dir, "admin-token")
        if os.path.exists(token):
            os.remove(token)
        cmd = [self.binary, f"--data.dir={self.data}", "--sip.port=5060", "--admin.port=0",
               f"--registrar.realm={REALM}",
               # baresip 1.0 fails on any non-MD5 challenge (README "Registrar").
               "--auth.algorithms=md5",
               f"--media.rtp_port_min={self.rtp[0]}", f"--media.rtp_port_max={self.rtp[1]}",
               f"--nat.stun_servers={self.lab_stun()}", "--nat.poll_interval=5s",
               "--log.level.nat=debug", *self.extra]
        self.proc = self.lab.spawn(self.lab.ns_pbx, cmd, f"duplex-{self.runs}.out")
        wait_for("the PBX's listening line", lambda: "listening:" in self.log(), 20)
        self.admin_port = int(wait_for(
            "the admin port", lambda: re.search(r"admin http://127\.0\.0\.1:(\d+)", self.log()),
            10).group(1))

    @staticmethod
    def lab_stun():
        import netns_lab
        return f"{netns_lab.STUN_IP1}:3478"

    def stop(self, sig=signal.SIGTERM):
        code = self.lab.stop(self.proc, sig) if self.proc else None
        self.proc = None
        return code

    def log(self):
        """The daemon's log since the current run started."""
        return self.lab.read_path(os.path.join(self.data, "duplex.log"))[self.log_offset:]

    def wait_log(self, pattern, timeout=30):
        return wait_for(f"PBX log /{pattern}/", lambda: re.search(pattern, self.log()), timeout,
                        0.2)

    def api(self, method, path, body=None):
        """(status, JSON answer) of one admin API request."""
        args = [sys.executable, self.client, str(self.admin_port),
                os.path.join(self.lab.dir, "admin-token"),
                os.path.join(self.data, "admin-password.txt"), method, path]
        if body is not None:
            args.append(json.dumps(body))
        r = self.lab.ns(self.lab.ns_pbx, *args, check=False)
        if r.returncode != 0:
            raise AssertionError(f"admin API {method} {path}: {r.stderr}")
        out = json.loads(r.stdout)
        return out["status"], out["body"]

    def create_extensions(self, numbers):
        """{number: generated SIP password}, as the admin page would create them."""
        status, answer = self.api("POST", "/extensions/bulk",
                                  {"extensions": [{"number": n, "display_name": f"lab {n}"}
                                                  for n in numbers]})
        if status != 201:
            raise AssertionError(f"POST /extensions/bulk: {status} {answer}")
        return {e["number"]: e["sip_password"] for e in answer["extensions"]}

    def status(self):
        status, answer = self.api("GET", "/status")
        if status != 200:
            raise AssertionError(f"GET /status: {status} {answer}")
        return answer

    def calls(self):
        status, answer = self.api("GET", "/calls?limit=100")
        if status != 200:
            raise AssertionError(f"GET /calls: {status} {answer}")
        return answer["records"]

    def wait_ready(self, public_address, timeout=30):
        """Until STUN reported the public address (the UPnP state follows)."""
        self.wait_log(rf"public address {re.escape(public_address)} \(from stun\)", timeout)

    def describe(self):
        return f"PBX log tail:\n{self.log()[-4000:]}"
