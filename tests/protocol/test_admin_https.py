"""The admin API over HTTPS (admin.https): a self-signed certificate made at
first start (key readable by the owner only), verified by a client that
trusts exactly that certificate for 127.0.0.1, kept across restarts, and
replaceable by the admin's own. Python stdlib only."""
import http.client
import json
import os
import shutil
import ssl
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import duplexd  # noqa: E402


def https(port, cafile, method="GET", path="/api/v1/health", body=None, token=None):
    ctx = ssl.create_default_context(cafile=cafile)
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = "Bearer " + token
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers=headers)
    r = conn.getresponse()
    out = (r.status, r.read())
    conn.close()
    return out


class AdminHttps(unittest.TestCase):
    def test_self_signed_certificate_login_and_replacement(self):
        d = duplexd.Daemon(duplexd.duplex_binary(), "--admin.https", "--nat.upnp=false")
        try:
            d.start()
            cert = os.path.join(d.dir, "admin-cert.pem")
            key = os.path.join(d.dir, "admin-key.pem")
            self.assertEqual(os.stat(key).st_mode & 0o777, 0o600)
            self.assertTrue(d.wait_for_log("generated a self-signed certificate"))

            status, body = https(d.admin_port, cert)
            self.assertEqual(status, 200)
            self.assertEqual(json.loads(body)["status"], "ok")
            with open(os.path.join(d.dir, "admin-password.txt")) as f:
                password = f.read().strip().rsplit(": ", 1)[1]
            status, body = https(d.admin_port, cert, "POST", "/api/v1/auth/login",
                                 {"username": "admin", "password": password})
            self.assertEqual(status, 200, body)
            token = json.loads(body)["token"]
            status, _ = https(d.admin_port, cert, path="/api/v1/status", token=token)
            self.assertEqual(status, 200)

            # Plain HTTP on the HTTPS port gets no answer.
            conn = http.client.HTTPConnection("127.0.0.1", d.admin_port, timeout=5)
            with self.assertRaises((http.client.HTTPException, ConnectionError, OSError)):
                conn.request("GET", "/api/v1/health")
                conn.getresponse().read()
            conn.close()
            # A client that does not trust the certificate refuses it.
            with self.assertRaises(ssl.SSLError):
                https(d.admin_port, None)

            # Restart: the same certificate is kept.
            with open(cert) as f:
                first = f.read()
            d.stop()
            d.start()
            with open(cert) as f:
                self.assertEqual(f.read(), first)
            self.assertEqual(https(d.admin_port, cert)[0], 200)

            # The admin's own certificate replaces it.
            d.stop()
            if not shutil.which("openssl"):
                self.skipTest("openssl command not installed")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj",
                            "/CN=own", "-addext", "subjectAltName=IP:127.0.0.1",
                            "-keyout", key, "-out", cert], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            d.start()
            self.assertEqual(https(d.admin_port, cert)[0], 200)
        finally:
            d.cleanup()

    def test_unreadable_certificate_is_a_named_start_error(self):
        d = duplexd.Daemon(duplexd.duplex_binary(), "--admin.https", "--nat.upnp=false")
        try:
            os.makedirs(d.dir, exist_ok=True)
            with open(os.path.join(d.dir, "admin-cert.pem"), "w") as f:
                f.write("not a certificate\n")
            with open(os.path.join(d.dir, "admin-key.pem"), "w") as f:
                f.write("not a key\n")
            with self.assertRaises(RuntimeError) as ctx:
                d.start()
            self.assertIn("duplex: cannot start: admin.cert: cannot use the certificate",
                          str(ctx.exception))
        finally:
            d.cleanup()


if __name__ == "__main__":
    unittest.main()
