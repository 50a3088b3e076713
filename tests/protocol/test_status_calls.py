"""Active calls in the admin status, as an admin watching the dashboard sees
them: a real call between two sipp phones through the daemon, RTP sent both
ways through the relay, and GET /api/v1/status lists the call with both legs
(the phones' real SIP addresses), the relay's packet counters per leg and
"audio both ways"; after the caller's BYE the call is gone from the list.
Every field returned is one the OpenAPI document describes. Python stdlib
only (sipp for the phones)."""
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import callsipp  # noqa: E402
import duplexd  # noqa: E402
import test_admin_api as admin_api  # noqa: E402  (AdminClient, admin_password)


def wait_status(client, predicate, timeout=10.0):
    """GET /api/v1/status until predicate(active_calls) holds; returns it."""
    deadline = time.monotonic() + timeout
    calls = None
    while time.monotonic() < deadline:
        r = client.request("GET", "/api/v1/status")
        assert r.status == 200, r.body
        calls = r.json()["active_calls"]
        if predicate(calls):
            return calls
        time.sleep(0.1)
    raise AssertionError(f"status never matched; last active_calls: {json.dumps(calls)}")


class ActiveCallsInStatus(unittest.TestCase):
    def setUp(self):
        self.lab = callsipp.CallLab()
        self.addCleanup(self.lab.cleanup)
        self.api = admin_api.AdminClient(self.lab.daemon.admin_port)
        self.addCleanup(self.api.close)
        r = self.api.login(admin_api.admin_password(self.lab.daemon))
        self.assertEqual(r.status, 200, r.body)
        doc = self.api.request("GET", "/api/v1/openapi.json").json()
        self.schemas = doc["components"]["schemas"]

    def assertDocumented(self, obj, schema):
        undocumented = set(obj) - set(self.schemas[schema]["properties"])
        self.assertEqual(undocumented, set(), f"fields missing from the {schema} schema")
        missing = set(self.schemas[schema].get("required", [])) - set(obj)
        self.assertEqual(missing, set(), f"required {schema} fields not returned")

    def test_a_call_is_listed_with_both_legs_and_media_then_gone_after_bye(self):
        lab = self.lab
        self.assertEqual(wait_status(self.api, lambda c: c == []), [])
        callee_port, caller_port = duplexd.free_port(), duplexd.free_port()
        lab.register("102", callee_port)
        media_a, media_b = callsipp.udp_socket(), callsipp.udp_socket()
        self.addCleanup(media_a.close)
        self.addCleanup(media_b.close)
        uas = lab.start("call_uas.xml", callee_port, "-m", "1", "-key", "rtp_port",
                        str(media_b.getsockname()[1]), "-key", "out_dir", lab.work)
        inf = lab.csv("caller.csv", [["101", lab.auth("101"), "102"]])
        uac = lab.start("call_uac.xml", caller_port, "-m", "1", "-key", "rtp_port",
                        str(media_a.getsockname()[1]), "-key", "out_dir", lab.work,
                        "-d", "6000", "-auth_uri", "102@duplex.test", inf=inf)
        relay_a = lab.relay_of("caller")
        relay_b = lab.relay_of("callee")
        seen_a, seen_b = callsipp.exchange_rtp(media_a, relay_a, media_b, relay_b)
        self.assertGreaterEqual(seen_a.get(relay_a, 0), 20)
        self.assertGreaterEqual(seen_b.get(relay_b, 0), 20)

        calls = wait_status(self.api, lambda c: isinstance(c, list) and len(c) == 1
                            and c[0]["state"] == "answered"
                            and all(leg["media"] and leg["media"]["rtp_packets_in"] >= 20
                                    for leg in c[0]["legs"]))
        call = calls[0]
        self.assertDocumented(call, "ActiveCall")
        self.assertEqual((call["caller"], call["dialled"], call["callee"]), ("101", "102", "102"))
        self.assertIsNotNone(call["answered_at"])
        self.assertEqual(call["audio"], "both_ways")
        self.assertIsNone(call["diagnosis"])
        legs = call["legs"]
        self.assertEqual([leg["side"] for leg in legs], ["caller", "callee"])
        for leg in legs:
            self.assertDocumented(leg, "CallLeg")
            self.assertDocumented(leg["media"], "LegMedia")
            self.assertEqual(leg["state"], "answered")
            self.assertEqual(leg["transport"], "UDP")
            self.assertEqual(leg["advertised"], "127.0.0.1")
        caller, callee = legs
        # The phones' real SIP sources, and each leg's own Call-ID (B2BUA).
        self.assertEqual(caller["peer"], f"127.0.0.1:{caller_port}")
        self.assertEqual(callee["peer"], f"127.0.0.1:{callee_port}")
        self.assertNotEqual(caller["call_id"], callee["call_id"])
        # The relay's counters: what each phone sent came in on its leg and
        # went out on the other one; media latched to the test's sockets.
        self.assertEqual(caller["media"]["advertised"], f"{relay_a[0]}:{relay_a[1]}")
        self.assertEqual(callee["media"]["advertised"], f"{relay_b[0]}:{relay_b[1]}")
        self.assertEqual(caller["media"]["latched_source"],
                         f"127.0.0.1:{media_a.getsockname()[1]}")
        self.assertEqual(callee["media"]["latched_source"],
                         f"127.0.0.1:{media_b.getsockname()[1]}")
        self.assertGreaterEqual(caller["media"]["rtp_packets_out"], 20)
        self.assertGreaterEqual(callee["media"]["rtp_packets_out"], 20)

        code, err = uac.wait(20)
        self.assertEqual(code, 0, err)
        code, err = uas.wait(10)
        self.assertEqual(code, 0, err)
        self.assertEqual(wait_status(self.api, lambda c: c == []), [])


if __name__ == "__main__":
    unittest.main()
