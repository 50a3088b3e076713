"""The product's acceptance test (issue 8): real phones (baresip) behind real
routers (nftables NAT, miniupnpd) with a real STUN server (coturn) call each
other through the built PBX, and every call must have two-way audio: each
phone's recording of what it decoded holds the other phone's tone, and the
call record (GET /api/v1/calls) shows media relayed both ways on both legs.

One lab per office-router NAT mode, shared by its scenarios, which run in
order (test_1 ... test_8); calls that share no phone run in parallel. Both
home routers exist in every lab: home1 port-preserving, home2 fully-random.
Every router forgets an idle UDP flow after 30 s.

Run: DUPLEX_BIN=build/pbx/app/duplex python3 -m unittest -v test_office_lab
in tests/lab (root; ctest label `netns`). DUPLEX_KEEP_LAB_LOGS=1 keeps logs.
The results table goes to stderr at the end (README "NAT scenarios"): per
call, seconds from the caller's "Call established" (its 200 OK) to the first
decoded 20 ms frame in each phone's recording (polled every 50 ms), and the
call record's per-leg first_packet_ms (from the relay learning the leg's SDP
to its first RTP packet).
"""
import os
import re
import signal
import sys
import tempfile
import threading
import time
import unittest
import wave

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import lab_phone  # noqa: E402
import office_lab  # noqa: E402
from lab_phone import LabPhone, heard, wait_for, write_tone  # noqa: E402
from office_lab import netns_lab  # noqa: E402
from pbx_control import Pbx  # noqa: E402

DUPLEX = os.environ.get("DUPLEX_BIN", "")
PBX_LAN = netns_lab.PBX_IP
NEW_WAN_IP = "203.0.113.9"
TALK_SECONDS = 3.0
IDLE_SECONDS = 90

PHONES = {  # name: (extension, tone Hz)
    "office1": ("101", 440),
    "office2": ("102", 1000),
    "worker1": ("201", 1400),
    "worker2": ("202", 1800),
    "internet": ("301", 2300),
}
HOME_OF = {"worker1": "home1", "worker2": "home2"}
RESULTS = []  # rows of the results table, over every lab of this run


def nat_modes(lab, *phones):
    office = "office NAT symmetric" if lab.symmetric else "office NAT port-preserving"
    parts = [office]
    for p in phones:
        if p in HOME_OF:
            sym = office_lab.HOMES[HOME_OF[p]][2]
            parts.append(f"home NAT {'symmetric' if sym else 'port-preserving'}")
    return ", ".join(dict.fromkeys(parts))


def print_results():
    if not RESULTS:
        return
    head = ("scenario", "NAT modes", "verdict", "caller hears callee after s",
            "callee hears caller after s", "relay's first RTP from caller/callee ms")
    rows = [head] + RESULTS
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(head))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"  # noqa
    out = [line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in RESULTS]
    print("\nNAT scenarios:\n" + "\n".join(out), file=sys.stderr, flush=True)


def tearDownModule():
    print_results()


class OfficeLabBase:
    """The scenarios both labs run; a mixin so that unittest does not run it alone."""
    symmetric = False
    advertised_facts = []  # (scenario, leg, phone, record's advertised IP, IP given)
    rtp = (10000, 10019)  # 20 ports + SIP fit the UPnP budget (24): mapped up front

    @classmethod
    def setUpClass(cls):
        if not DUPLEX or not os.access(DUPLEX, os.X_OK):
            raise unittest.SkipTest("DUPLEX_BIN must name the built duplex binary")
        try:
            cls.lab = office_lab.OfficeLab(symmetric=cls.symmetric)
        except netns_lab.LabUnavailable as e:
            raise unittest.SkipTest(f"office lab unavailable: {e}")
        try:
            cls._set_up()
        except BaseException:
            cls._tear_down()
            raise

    @classmethod
    def _set_up(cls):
        cls.work = tempfile.mkdtemp(prefix="phones-", dir=cls.lab.dir)
        cls.public = netns_lab.WAN_IP
        cls.pbx = Pbx(cls.lab, DUPLEX, cls.rtp)
        cls.pbx.start()
        passwords = cls.pbx.create_extensions([e for e, _ in PHONES.values()])
        cls.phones = {}
        for name, (ext, tone) in PHONES.items():
            path = os.path.join(cls.work, f"tone{tone}.wav")
            write_tone(path, tone, seconds=30.0)
            cls.phones[name] = LabPhone(cls.lab, cls.work, name, cls.lab.phone_ip[name], ext,
                                        passwords[ext], path, tone)
        cls.pbx.wait_ready(cls.public)
        # The SIP port reached from the internet must be mapped before phones
        # outside the office register through it.
        wait_for("the SIP mappings on the router",
                 lambda: ("UDP", 5060, PBX_LAN, 5060) in cls.lab.router_mappings(), 20, 0.2)
        for name, phone in cls.phones.items():
            phone.start(cls.sip_address_for(name))
        for phone in cls.phones.values():
            cls.wait_registered(phone)

    @classmethod
    def sip_address_for(cls, name):
        return f"{PBX_LAN}:5060" if name.startswith("office") else f"{cls.public}:5060"

    @classmethod
    def wait_registered(cls, phone, timeout=15):
        wait_for(f"{phone.name} registered ({phone.output()[-800:]})",
                 lambda: re.search(r"200 OK|registered successfully", phone.since_mark()),
                 timeout)

    @classmethod
    def tearDownClass(cls):
        cls._tear_down()

    @classmethod
    def _tear_down(cls):
        for phone in getattr(cls, "phones", {}).values():
            try:
                phone.stop()
            except Exception:
                pass
        if getattr(cls, "pbx", None):
            cls.pbx.stop()
        cls.lab.close()

    # -- one call --------------------------------------------------------------
    def call(self, scenario, caller_name, callee_name, public=None):
        """Dials, lets both talk TALK_SECONDS, hangs up; returns a checker
        (run it after every parallel call was made)."""
        caller, callee = self.phones[caller_name], self.phones[callee_name]
        for p in (caller, callee):
            p.set_mark()
        before = {p.name: set(p.recordings()) for p in (caller, callee)}
        result = {"scenario": scenario, "caller": caller, "callee": callee,
                  "public": public or self.public, "error": None}

        def run():
            try:
                dialled = time.monotonic()
                caller.dial(callee.number)
                wait_for(f"{caller.name}: call established ({caller.since_mark()[-600:]})",
                         lambda: "Call established" in caller.since_mark(), 15)
                answered = time.monotonic()
                result["setup_s"] = answered - dialled
                recs = {}
                first = {}

                def progress():
                    for p in (caller, callee):
                        if p.name not in recs:
                            new = set(p.recordings()) - before[p.name]
                            if new:
                                recs[p.name] = (sorted(new)[-1],
                                                p.decoded_bytes(sorted(new)[-1]))
                        if p.name in recs and p.name not in first:
                            path, size0 = recs[p.name]
                            if p.decoded_bytes(path) >= size0 + lab_phone.FRAME_BYTES:
                                first[p.name] = time.monotonic() - answered
                    done = all(p.name in recs and p.decoded_bytes(recs[p.name][0]) >=
                               recs[p.name][1] + (TALK_SECONDS + 0.5) * 16000
                               for p in (caller, callee))
                    return done

                try:
                    wait_for("both phones decoding audio", progress, TALK_SECONDS + 8)
                except AssertionError:
                    pass  # judged from the recordings below, with the reason
                result["first"] = first
                result["recordings"] = {k: v[0] for k, v in recs.items()}
                caller.hangup()
                for p in (caller, callee):
                    wait_for(f"{p.name}: call terminated",
                             lambda: re.search(r"closed|terminated", p.since_mark()), 10)
                caller.last_call_end = callee.last_call_end = time.monotonic()
            except BaseException as e:  # reported by check()
                result["error"] = e
        t = threading.Thread(target=run)
        t.start()
        result["thread"] = t
        return result

    def check(self, result):
        """Asserts two-way audio and the call record's media facts; adds the
        row to the results table whatever the verdict."""
        result["thread"].join()
        caller, callee = result["caller"], result["callee"]
        first = result.get("first", {})
        row = [result["scenario"], nat_modes(self.lab, caller.name, callee.name), "FAIL",
               f"{first[caller.name]:.2f}" if caller.name in first else "-",
               f"{first[callee.name]:.2f}" if callee.name in first else "-", "-"]
        RESULTS.append(row)
        if result["error"]:
            raise AssertionError(f"{result['scenario']}: {result['error']}\n{self.pbx.describe()}")
        # Each side heard the other's tone (and not only its own echo).
        for phone, other in ((caller, callee), (callee, caller)):
            path = result["recordings"].get(phone.name)
            self.assertIsNotNone(path, f"{result['scenario']}: {phone.name} recorded nothing "
                                 f"(no audio decoded)\n{self.pbx.describe()}")
            # sndfile completes the WAV header when the call's audio stops.
            h = wait_for(f"{phone.name}: a complete recording", lambda: self.analyse(
                path, [other.tone, phone.tone]), 5, 0.1)
            self.assertGreater(h["seconds"], TALK_SECONDS - 0.5,
                               f"{result['scenario']}: {phone.name} heard too little {h}")
            self.assertGreater(h["rms"], 1000, f"{result['scenario']}: {phone.name} {h}")
            self.assertGreater(h[other.tone], 0.9,
                               f"{result['scenario']}: {phone.name} did not hear {other.name} {h}")
        # The call record: answered, both legs relayed both ways, advertised
        # the address each phone can reach, latched to where media came from.
        record = wait_for("the call record", lambda: self.record_of(caller, callee), 10, 0.3)
        self.assertEqual(record["disposition"], "answered", record)
        facts = record["media_facts"]
        row[5] = f"{facts['a'].get('first_packet_ms')}/{facts['b'].get('first_packet_ms')}"
        for leg, phone in (("a", caller), ("b", callee)):
            f = facts[leg]
            where = f"{result['scenario']}: leg {leg} ({phone.name}) {f}"
            self.assertEqual(f["sdp_address"].rsplit(":", 1)[0], phone.ip, where)
            self.assertGreater(f["rtp_packets_in"], 50 * TALK_SECONDS * 0.8, where)
            self.assertGreater(f["rtp_packets_out"], 50 * TALK_SECONDS * 0.8, where)
            # What the relay was told each leg got (checked in test_9, see there).
            want_adv = PBX_LAN if phone.name.startswith("office") else result["public"]
            type(self).advertised_facts.append(
                (result["scenario"], leg, phone.name, f["advertised"].rsplit(":", 1)[0], want_adv))
            want_src = (office_lab.HOMES[HOME_OF[phone.name]][0] if phone.name in HOME_OF
                        else phone.ip)
            self.assertEqual(f["latched_source"].rsplit(":", 1)[0], want_src, where)
        self.assertIn(record.get("diagnosis"), (None, ""), record)
        row[2] = "pass"
        return record

    def test_9_call_records_name_the_address_each_leg_was_given(self):
        """Each leg's media fact `advertised` in the call record is the relay
        address and port of the SDP that leg received (office phone:
        10.77.0.10, remote worker or internet phone: the public address), so
        a one-way-audio diagnosis names the address the phone was really
        given. (It was the other leg's address until the lab found it.)"""
        self.assertTrue(self.advertised_facts, "no calls were checked")
        wrong = [f for f in self.advertised_facts if f[3] != f[4]]
        self.assertEqual(wrong, [], "(scenario, leg, phone, advertised in the record, given)")

    @staticmethod
    def analyse(path, tones):
        try:
            return heard(path, tones)
        except (EOFError, wave.Error):
            return None

    def record_of(self, caller, callee):
        seen = getattr(self, "_seen_records", set())
        for r in self.pbx.calls():
            if r["id"] not in seen and r["caller"] == caller.number and \
                    r["callee"] == callee.number and r.get("end_at"):
                seen.add(r["id"])
                type(self)._seen_records = seen
                return r
        return None

    def calls(self, *pairs, public=None):
        """Makes the calls (scenario, caller, callee) in parallel, then checks
        each in a subTest so that every verdict is reported."""
        started = [self.call(s, a, b, public) for s, a, b in pairs]
        failures = []
        for r in started:
            with self.subTest(scenario=r["scenario"]):
                try:
                    self.check(r)
                except AssertionError as e:
                    failures.append(e)
                    raise
        return not failures

    # -- scenarios -------------------------------------------------------------
    def test_2_office_to_remote_workers(self):
        self.calls(("office -> remote worker", "office1", "worker1"),
                   ("office -> remote worker", "office2", "worker2"))

    def test_3_remote_workers_to_office(self):
        self.calls(("remote worker -> office", "worker1", "office2"),
                   ("remote worker -> office", "worker2", "office1"))

    def test_4_internet_to_office(self):
        self.calls(("internet phone -> office (UPnP-mapped ports)", "internet", "office1"))


class OfficeRouterPortPreserving(OfficeLabBase, unittest.TestCase):
    symmetric = False
    advertised_facts = []

    def test_1_office_to_office(self):
        self.calls(("office <-> office", "office1", "office2"))

    def test_5_binding_expiry(self):
        """Nothing from the remote workers for IDLE_SECONDS (3x the routers'
        UDP timeout); only the PBX's keep-alives hold their NAT bindings.
        Then a call to each rings and has two-way audio."""
        for home in ("home1", "home2"):
            self.assertEqual(self.lab.conntrack_udp_timeout(self.lab.home_ns[home]), 30)
        self.assertEqual(self.lab.conntrack_udp_timeout(self.lab.ns_rtr), 30)
        idle_since = max(getattr(self.phones[w], "last_call_end", 0) for w in HOME_OF)
        # Control: a UDP flow from a worker's LAN with no keep-alive is gone
        # after the timeout, so the routers really forget idle bindings.
        control = self.idle_binding_control("worker1")
        remaining = IDLE_SECONDS - (time.monotonic() - idle_since)
        if remaining > 0:
            time.sleep(remaining)  # real routers' timers: no clock to advance
        self.assertFalse(control(), "an idle UDP binding outlived the home router's 30 s timeout")
        self.calls(("binding expiry (90 s idle) -> remote worker", "office1", "worker1"),
                   ("binding expiry (90 s idle) -> remote worker", "office2", "worker2"))

    def idle_binding_control(self, worker):
        """Sends one datagram from the worker's LAN to the internet namespace
        and returns a function that, called later, says whether a reply to
        that binding still gets through the home router."""
        lab = self.lab
        ns = lab.phone_ns[worker]
        server = f"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('{netns_lab.INET_IP}', 40999))
s.settimeout(10); data, peer = s.recvfrom(100)
open(sys.argv[1], 'w').write('%s:%d' % peer)
"""
        peer_file = os.path.join(lab.dir, "control-peer")
        srv = lab.spawn(lab.ns_inet, [sys.executable, "-c", server, peer_file], "control-srv.out")
        time.sleep(0.3)
        listener = lab.spawn(ns, [sys.executable, "-c", f"""
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('{lab.phone_ip[worker]}', 41000))
s.sendto(b'open', ('{netns_lab.INET_IP}', 40999))
s.settimeout({IDLE_SECONDS + 30})
try:
    print(s.recvfrom(100)[0].decode(), flush=True)
except socket.timeout:
    print('nothing', flush=True)
"""], "control-listener.out")
        srv.wait(10)
        peer = lab.read_path(peer_file)

        def reply_gets_through():
            host, port = peer.rsplit(":", 1)
            lab.ns(lab.ns_inet, sys.executable, "-c",
                   "import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM);"
                   f"s.bind(('{netns_lab.INET_IP}', 40999));"
                   f"[s.sendto(b'late', ('{host}', {port})) for _ in range(3)]")
            time.sleep(0.5)
            lab.stop(listener, signal.SIGTERM, 2)
            return "late" in lab.read("control-listener.out")
        return reply_gets_through

    def test_6_public_address_change(self):
        """The office router's WAN address changes: the PBX notices (STUN),
        re-maps, advertises the new address; the remote worker and the
        internet phone, whose DynDNS name now resolves to it, register again
        and their new calls have two-way audio."""
        changed = time.monotonic()
        self.lab.change_wan_address(NEW_WAN_IP)
        self.pbx.wait_log(rf"public address {re.escape(NEW_WAN_IP)} \(from stun\), was "
                          rf"{re.escape(netns_lab.WAN_IP)}", 30)
        noticed = time.monotonic() - changed
        wait_for("the status showing the new address",
                 lambda: self.pbx.status()["nat"]["public_address"] == NEW_WAN_IP, 10, 0.5)
        wait_for("the SIP mapping on the router",
                 lambda: ("UDP", 5060, PBX_LAN, 5060) in self.lab.router_mappings(), 20, 0.5)
        type(self).public = NEW_WAN_IP
        for name in ("worker1", "internet"):
            self.phones[name].start(self.sip_address_for(name))
        for name in ("worker1", "internet"):
            self.wait_registered(self.phones[name])
        print(f"  public address change noticed after {noticed:.1f} s", file=sys.stderr)
        self.calls(("public address change: remote worker -> office", "worker1", "office1"),
                   ("public address change: internet phone -> office", "internet", "office2"),
                   public=NEW_WAN_IP)

    def test_7_shutdown_leaves_no_mappings(self):
        self.assertTrue(self.lab.router_mappings(), "no mappings before the shutdown")
        self.assertEqual(self.pbx.stop(signal.SIGTERM), 0, self.pbx.describe())
        self.assertEqual(self.lab.router_mappings(), [])
        RESULTS.append(["shutdown: no PBX mappings left on the router",
                        nat_modes(self.lab), "pass", "-", "-", "-"])

    def test_8_upnp_off(self):
        """UPnP switched off on the router, PBX restarted: the status gives the
        manual forwarding plan; the phones outside registered earlier keep
        their bindings through the PBX's keep-alives, and calls with the
        internet phone have two-way audio because the relay's first packets
        open the router's (port-preserving) NAT for the phone's media."""
        if self.pbx.proc is not None:
            self.pbx.stop()
        self.lab.upnp_off()
        self.pbx.start()
        nat = wait_for("a UPnP verdict in the status",
                       lambda: (lambda n: n if n["upnp"]["state"] != "discovering" else None)
                       (self.pbx.status()["nat"]), 30, 0.5)
        self.assertNotEqual(nat["upnp"]["state"], "mapped", nat)
        self.assertEqual(
            nat["manual_forwarding_text"],
            f"Forward UDP port 5060 to {PBX_LAN} port 5060 (SIP). Forward TCP port 5060 to "
            f"{PBX_LAN} port 5060 (SIP). Forward UDP ports {self.rtp[0]}-{self.rtp[1]} to "
            f"{PBX_LAN} ports {self.rtp[0]}-{self.rtp[1]} (RTP media).")
        self.assertEqual(self.lab.router_mappings(), [])
        self.pbx.wait_ready(NEW_WAN_IP)
        self.calls(("UPnP off: office -> internet phone", "office1", "internet"),
                   public=NEW_WAN_IP)
        self.calls(("UPnP off: internet phone -> office", "internet", "office2"),
                   public=NEW_WAN_IP)


class OfficeRouterSymmetric(OfficeLabBase, unittest.TestCase):
    """The office router's NAT is fully-random: only relayed media through
    UPnP-mapped ports can work. RTP ports are mapped per call here (200 ports
    do not fit the budget), the default range's case."""
    symmetric = True
    advertised_facts = []
    rtp = (10000, 10199)

    def test_7_shutdown_leaves_no_mappings(self):
        self.assertTrue(self.lab.router_mappings(), "no mappings before the shutdown")
        self.assertEqual(self.pbx.stop(signal.SIGTERM), 0, self.pbx.describe())
        self.assertEqual(self.lab.router_mappings(), [])
        RESULTS.append(["shutdown: no PBX mappings left on the router",
                        nat_modes(self.lab), "pass", "-", "-", "-"])

