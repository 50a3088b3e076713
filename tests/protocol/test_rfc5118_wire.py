"""RFC 5118 IPv6 torture messages over the wire. The archive files are bare
LF and two lack the closing empty line (see tests/data/rfc5118/INDEX.md), so
the wire form is built here: LF -> CRLF, the header section closed, and
Content-Length recomputed. The raw LF bytes are sent too: whatever the
verdict, the daemon must keep answering."""
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import duplexd  # noqa: E402

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "rfc5118")

# OPTIONS 200; REGISTER 401, the registrar's digest challenge (RFC 3261 10.3
# step 2); an INVITE starting a call 407 (call control's proxy challenge,
# RFC 3261 22.3), one with a To tag 481 (no such dialog, RFC 3261 12.2.2).
EXPECTED = {
    "ipv6-good": 401, "ipv6-bad": 400, "port-ambiguous": 401, "port-unambiguous": 401,
    "via-received-param-with-delim": 481, "via-received-param-no-delim": 200,
    "ipv6-in-sdp": 407, "mult-ip-in-header": 481, "mult-ip-in-sdp": 407,
    "ipv4-mapped-ipv6": 407, "ipv6-bug-abnf-3-colons": 200,
    "ipv6-correct-abnf-2-colons": 200,
}


def wire_form(raw):
    text = raw.replace(b"\r\n", b"\n")
    if b"\n\n" in text:
        head, body = text.split(b"\n\n", 1)
    else:
        head, body = text.rstrip(b"\n"), b""
    body = body.replace(b"\n", b"\r\n")
    head = re.sub(rb"(?im)^(content-length|l)[ \t]*:.*$", b"Content-Length: %d" % len(body), head)
    return head.replace(b"\n", b"\r\n") + b"\r\n\r\n" + body


class Rfc5118OverUdp(unittest.TestCase):
    def exchange(self, data):
        got, answer, code = duplexd.exchange_with_fresh_daemon(data)
        self.assertIsNotNone(answer, "daemon stopped answering OPTIONS")
        self.assertEqual(code, 0, "daemon died or stopped uncleanly")
        return [duplexd.status_of(g) for g in got]

    def test_every_message_gets_its_verdict(self):
        names = sorted(n for n in os.listdir(DATA) if n not in ("INDEX.md", "SHA256SUMS"))
        self.assertEqual(set(names), set(EXPECTED))
        for name in names:
            with self.subTest(message=name):
                with open(os.path.join(DATA, name), "rb") as f:
                    raw = f.read()
                statuses = self.exchange(wire_form(raw))
                finals = [s[0] for s in statuses if s and s[0] >= 200]
                self.assertEqual(finals, [EXPECTED[name]], f"{name}: {statuses}")

    def test_raw_lf_bytes_never_break_the_daemon(self):
        for name in sorted(EXPECTED):
            with self.subTest(message=name):
                with open(os.path.join(DATA, name), "rb") as f:
                    self.exchange(f.read())


if __name__ == "__main__":
    unittest.main(verbosity=2)
