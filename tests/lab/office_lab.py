"""The office lab: tests/nat/netns_lab.py's internet, office router and office
PC, plus the phones of an office story, all in network namespaces.

    internet ns   203.0.113.2, coturn on 198.51.100.1 and .2 (STUN, RFC 5780),
        |          198.51.100.254 as the far end of each point-to-point link below
        |-- office router  WAN 203.0.113.1, NAT (port-preserving or fully-random),
        |     |            input chain dropping unsolicited WAN traffic, UDP
        |     |            conntrack timeouts, miniupnpd on the LAN bridge br0
        |     |-- office PC (PBX)   10.77.0.10
        |     |-- office phone 1    10.77.0.21
        |     '-- office phone 2    10.77.0.22
        |-- home router 1  WAN 198.51.100.21, NAT port-preserving, LAN 10.81.0.1
        |     '-- remote worker 1  10.81.0.10
        |-- home router 2  WAN 198.51.100.22, NAT fully-random (symmetric), LAN 10.82.0.1
        |     '-- remote worker 2  10.82.0.10
        '-- internet phone 198.51.100.30 (no NAT)

Every router forwards only what its LAN started (or what miniupnpd mapped) and
accepts on its WAN only what belongs to a connection it knows. Namespace names
carry the test's pid; close() kills every process by pid and deletes every
namespace, also after a failure (netns_lab.Lab does the work).
"""

import os
import shutil
import signal
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "nat"))
import netns_lab  # noqa: E402
from netns_lab import LabUnavailable, run  # noqa: E402,F401

OFFICE_PHONE_IPS = ("10.77.0.21", "10.77.0.22")
FAR_END = "198.51.100.254"
HOMES = {  # name: (WAN address, LAN prefix, symmetric)
    "home1": ("198.51.100.21", "10.81.0", False),
    "home2": ("198.51.100.22", "10.82.0", True),
}
INTERNET_PHONE_IP = "198.51.100.30"


def check_phone_prerequisites():
    if not shutil.which("baresip"):
        raise LabUnavailable("'baresip' is missing: apt-get install -y baresip")


class OfficeLab(netns_lab.Lab):
    """`symmetric`: the office router's NAT mode; `udp_timeout`: seconds after
    which every router of the lab forgets an idle UDP flow."""

    def __init__(self, symmetric=False, udp_timeout=30):
        check_phone_prerequisites()
        self.udp_timeout = udp_timeout
        self.phone_ns = {}  # phone name -> namespace
        self.phone_ip = {}  # phone name -> its own address
        self.home_ns = {}  # home router name -> namespace
        super().__init__(symmetric=symmetric)

    def _build(self):
        super()._build()
        tag = self.ns_pbx[len("dxpbx"):]
        r, i = self.ns_rtr, self.ns_inet
        self.ns(i, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        # Office phones on the router's LAN bridge.
        for n, ip in enumerate(OFFICE_PHONE_IPS, 1):
            ns = self._add_ns(f"dxof{n}-{tag}")
            run(["ip", "link", "add", f"dxp{n}", "netns", r, "type", "veth",
                 "peer", "name", "eth0", "netns", ns])
            self.ns(r, "ip", "link", "set", f"dxp{n}", "master", "br0")
            self.ns(r, "ip", "link", "set", f"dxp{n}", "up")
            self._host(ns, "eth0", f"{ip}/24", netns_lab.LAN_GW)
            self.phone_ns[f"office{n}"], self.phone_ip[f"office{n}"] = ns, ip
        # Home routers with one remote worker each.
        for n, (home, (wan, lan, symmetric)) in enumerate(HOMES.items(), 1):
            h = self._add_ns(f"dxhm{n}-{tag}")
            self.home_ns[home] = h
            self._p2p(h, "wan", wan, f"dxh{n}")
            self.ns(h, "sysctl", "-qw", "net.ipv4.ip_forward=1")
            w = self._add_ns(f"dxwk{n}-{tag}")
            run(["ip", "link", "add", "lan", "netns", h, "type", "veth",
                 "peer", "name", "eth0", "netns", w])
            self.ns(h, "ip", "addr", "add", f"{lan}.1/24", "dev", "lan")
            self.ns(h, "ip", "link", "set", "lan", "up")
            self._host(w, "eth0", f"{lan}.10/24", f"{lan}.1")
            self._home_nft(h, f"{lan}.0/24", symmetric)
            self._udp_timeouts(h)
            self.phone_ns[f"worker{n}"], self.phone_ip[f"worker{n}"] = w, f"{lan}.10"
        # A phone with a public address of its own.
        ns = self._add_ns(f"dxip-{tag}")
        self._p2p(ns, "eth0", INTERNET_PHONE_IP, "dxip")
        self.phone_ns["internet"], self.phone_ip["internet"] = ns, INTERNET_PHONE_IP
        # The office router's own input chain and its UDP timeouts.
        self._office_input_chain()
        self._udp_timeouts(r)
        for ns in self.phone_ns.values():
            self.set_hosts(ns, {})  # resolv.conf pointing nowhere: nothing leaves the lab

    # -- building blocks -----------------------------------------------------
    def _add_ns(self, name):
        run(["ip", "netns", "add", name])
        self.namespaces.append(name)
        self.ns(name, "ip", "link", "set", "lo", "up")
        return name

    def _host(self, ns, dev, cidr, gateway):
        self.ns(ns, "ip", "addr", "add", cidr, "dev", dev)
        self.ns(ns, "ip", "link", "set", dev, "up")
        self.ns(ns, "ip", "route", "add", "default", "via", gateway)

    def _p2p(self, ns, dev, address, inet_dev):
        """A point-to-point link from the internet namespace to `ns`, which
        gets the public `address` and its default route through it."""
        run(["ip", "link", "add", inet_dev, "netns", self.ns_inet, "type", "veth",
             "peer", "name", dev, "netns", ns])
        self.ns(self.ns_inet, "ip", "addr", "add", FAR_END, "peer", address, "dev", inet_dev)
        self.ns(self.ns_inet, "ip", "link", "set", inet_dev, "up")
        self.ns(ns, "ip", "addr", "add", address, "peer", FAR_END, "dev", dev)
        self.ns(ns, "ip", "link", "set", dev, "up")
        self.ns(ns, "ip", "route", "add", "default", "via", FAR_END)

    def _home_nft(self, ns, lan, symmetric):
        masq = "masquerade fully-random" if symmetric else "masquerade"
        rules = f"""
table inet home {{
  chain input {{
    type filter hook input priority 0; policy accept;
    iifname "wan" ct state established,related accept
    iifname "wan" drop
  }}
  chain forward {{
    type filter hook forward priority 0; policy drop;
    ct state established,related accept
    iifname "lan" accept
  }}
  chain postrouting {{
    type nat hook postrouting priority 100; policy accept;
    oifname "wan" ip saddr {lan} {masq}
  }}
}}
"""
        path = os.path.join(self.dir, f"{ns}.nft")
        with open(path, "w") as f:
            f.write(rules)
        self.ns(ns, "nft", "-f", path)

    def _office_input_chain(self):
        # The router itself answers nothing unsolicited from the WAN. Its own
        # STUN check (miniupnpd ext_perform_stun, at start and after a WAN
        # address change) asks coturn for answers from its other address and
        # port (RFC 5780 CHANGE-REQUEST), which conntrack cannot relate: those
        # are let in, as a router running that check must; without them
        # miniupnpd decides it is behind a restrictive NAT and stalls.
        rules = f"""
table inet {netns_lab.TABLE} {{
  chain input {{
    type filter hook input priority 0; policy accept;
    iifname "dxw0" ct state established,related accept
    iifname "dxw0" ip saddr {{ {netns_lab.STUN_IP1}, {netns_lab.STUN_IP2} }} udp sport {{ 3478, 3479 }} accept
    iifname "dxw0" drop
  }}
}}
"""
        path = os.path.join(self.dir, "router-input.nft")
        with open(path, "w") as f:
            f.write(rules)
        self.ns(self.ns_rtr, "nft", "-f", path)

    def _udp_timeouts(self, ns):
        # Per namespace since Linux 4.x; the stream timeout too, else a flow
        # that saw traffic both ways would live 120 s.
        for key in ("nf_conntrack_udp_timeout", "nf_conntrack_udp_timeout_stream"):
            self.ns(ns, "sysctl", "-qw", f"net.netfilter.{key}={self.udp_timeout}")

    # -- the office router's UPnP side -----------------------------------------
    def upnp_off(self):
        """The router's UPnP service is switched off: miniupnpd stops (its
        rules and leases go with it, as they do when a user unticks UPnP)."""
        self.stop(self.miniupnpd, signal.SIGTERM)
        for chain in ("miniupnpd", "prerouting_miniupnpd", "postrouting_miniupnpd"):
            self.ns(self.ns_rtr, "nft", "flush", "chain", "inet", netns_lab.TABLE, chain)

    def conntrack_udp_timeout(self, ns):
        return int(self.ns(ns, "sysctl", "-n", "net.netfilter.nf_conntrack_udp_timeout").stdout)
