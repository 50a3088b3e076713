"""A NAT lab in network namespaces that the tests build and remove.

    internet ns  (203.0.113.2, STUN: coturn on 198.51.100.1 and .2)
        |  veth
    router ns    WAN 203.0.113.1 --- nftables NAT (masquerade, or fully-random)
        |        LAN bridge br0 10.77.0.1, miniupnpd on br0
        |  veth
    pbx ns       10.77.0.10, default route via the router

Only 203.0.113.0/24, 198.51.100.0/24 and 10.x are used; nothing leaves the
machine. Every process started here is killed by pid and every namespace
deleted on close(), also when a test fails. Needs root, iproute2, nft,
miniupnpd and coturn's turnserver; LabUnavailable says what is missing.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time

WAN_IP = "203.0.113.1"
INET_IP = "203.0.113.2"
STUN_IP1 = "198.51.100.1"
STUN_IP2 = "198.51.100.2"
LAN_GW = "10.77.0.1"
PBX_IP = "10.77.0.10"
TABLE = "dxupnp"


class LabUnavailable(Exception):
    pass


def run(cmd, check=True, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr.strip()}")
    return r


def check_prerequisites():
    if os.geteuid() != 0:
        raise LabUnavailable("the NAT lab needs root (network namespaces); CI runs it as root")
    for tool in ("ip", "nft", "miniupnpd", "turnserver"):
        if not shutil.which(tool) and not os.path.exists(f"/usr/sbin/{tool}"):
            raise LabUnavailable(f"'{tool}' is missing: apt-get install -y iproute2 nftables "
                                 "miniupnpd miniupnpd-nftables coturn")
    probe = f"dxprobe{os.getpid()}"
    r = run(["ip", "netns", "add", probe], check=False)
    if r.returncode != 0:
        raise LabUnavailable("network namespaces are unavailable here "
                             f"(ip netns add: {r.stderr.strip()})")
    run(["ip", "netns", "del", probe], check=False)


class Lab:
    def __init__(self, symmetric=False):
        check_prerequisites()
        tag = f"{os.getpid() % 100000}"
        self.ns_inet = f"dxinet{tag}"
        self.ns_rtr = f"dxrtr{tag}"
        self.ns_pbx = f"dxpbx{tag}"
        self.symmetric = symmetric
        self.dir = tempfile.mkdtemp(prefix="duplex-natlab-")
        self.procs = []
        self.namespaces = []
        self.etc_dirs = []
        try:
            self._build()
        except BaseException:
            self.close()
            raise

    # -- helpers -----------------------------------------------------------
    def ns(self, name, *cmd, check=True, **kw):
        return run(["ip", "netns", "exec", name, *cmd], check=check, **kw)

    def spawn(self, name, cmd, log_name):
        log = open(os.path.join(self.dir, log_name), "w")
        p = subprocess.Popen(["ip", "netns", "exec", name, *cmd], stdout=log,
                             stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM, timeout=15):
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if p in self.procs:
            self.procs.remove(p)
        return p.returncode

    def read(self, log_name):
        try:
            with open(os.path.join(self.dir, log_name)) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    # -- topology ----------------------------------------------------------
    def _build(self):
        for name in (self.ns_inet, self.ns_rtr, self.ns_pbx):
            run(["ip", "netns", "add", name])
            self.namespaces.append(name)
            self.ns(name, "ip", "link", "set", "lo", "up")
        # internet <-> router WAN
        run(["ip", "link", "add", "dxw0", "netns", self.ns_rtr, "type", "veth",
             "peer", "name", "dxw1", "netns", self.ns_inet])
        # router LAN bridge <-> pbx
        run(["ip", "link", "add", "dxl0", "netns", self.ns_rtr, "type", "veth",
             "peer", "name", "dxl1", "netns", self.ns_pbx])
        r, i, p = self.ns_rtr, self.ns_inet, self.ns_pbx
        self.ns(i, "ip", "addr", "add", f"{INET_IP}/24", "dev", "dxw1")
        self.ns(i, "ip", "addr", "add", f"{STUN_IP1}/24", "dev", "dxw1")
        self.ns(i, "ip", "addr", "add", f"{STUN_IP2}/24", "dev", "dxw1")
        self.ns(i, "ip", "link", "set", "dxw1", "up")
        self.ns(r, "ip", "addr", "add", f"{WAN_IP}/24", "dev", "dxw0")
        self.ns(r, "ip", "link", "set", "dxw0", "up")
        self.ns(r, "ip", "link", "add", "br0", "type", "bridge")
        self.ns(r, "ip", "link", "set", "dxl0", "master", "br0")
        self.ns(r, "ip", "addr", "add", f"{LAN_GW}/24", "dev", "br0")
        self.ns(r, "ip", "link", "set", "dxl0", "up")
        self.ns(r, "ip", "link", "set", "br0", "up")
        self.ns(r, "ip", "route", "add", "default", "via", INET_IP)
        self.ns(r, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        # New namespaces start with bridge-nf-call-iptables=1 when br_netfilter
        # is loaded: the forward chain would then drop LAN bridge traffic.
        if os.path.exists("/proc/sys/net/bridge/bridge-nf-call-iptables"):
            self.ns(r, "sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=0", check=False)
        self.ns(p, "ip", "addr", "add", f"{PBX_IP}/24", "dev", "dxl1")
        self.ns(p, "ip", "link", "set", "dxl1", "up")
        self.ns(p, "ip", "route", "add", "default", "via", LAN_GW)
        self._nft()
        self._coturn()
        self._miniupnpd()

    def _nft(self):
        # Only LAN traffic is masqueraded: miniupnpd's own STUN check (from the
        # WAN address) must see an open, unNATed path or it disables forwarding.
        masq = "masquerade fully-random" if self.symmetric else "masquerade"
        rules = f"""
table inet {TABLE} {{
  chain forward {{
    type filter hook forward priority 0; policy drop;
    ct state established,related accept
    iifname "br0" accept
    jump miniupnpd
  }}
  chain miniupnpd {{ }}
  chain prerouting {{
    type nat hook prerouting priority -100; policy accept;
    jump prerouting_miniupnpd
  }}
  chain postrouting {{
    type nat hook postrouting priority 100; policy accept;
    jump postrouting_miniupnpd
    oifname "dxw0" ip saddr 10.77.0.0/24 {masq}
  }}
  chain prerouting_miniupnpd {{ }}
  chain postrouting_miniupnpd {{ }}
}}
"""
        path = os.path.join(self.dir, "router.nft")
        with open(path, "w") as f:
            f.write(rules)
        self.ns(self.ns_rtr, "nft", "-f", path)

    def _coturn(self):
        # STUN only, on two addresses: RFC 5780 (OTHER-ADDRESS, CHANGE-REQUEST).
        self.spawn(self.ns_inet, [
            "turnserver", "-n", "--stun-only", "--no-cli", "--no-tls", "--no-dtls",
            f"--listening-ip={STUN_IP1}", f"--listening-ip={STUN_IP2}",
            "--listening-port=3478", f"--pidfile={self.dir}/turnserver.pid",
            "--log-file=stdout", "--simple-log", f"--userdb={self.dir}/turndb",
        ], "coturn.log")
        self._wait_udp_listening(self.ns_inet, 3478, "coturn")

    def _miniupnpd(self):
        conf = os.path.join(self.dir, "miniupnpd.conf")
        self.lease_file = os.path.join(self.dir, "upnp.leases")
        with open(conf, "w") as f:
            f.write(f"""ext_ifname=dxw0
listening_ip=br0
http_port=5000
enable_natpmp=no
enable_upnp=yes
secure_mode=yes
system_uptime=yes
lease_file={self.lease_file}
upnp_table_name={TABLE}
upnp_nat_table_name={TABLE}
upnp_forward_chain=miniupnpd
upnp_nat_chain=prerouting_miniupnpd
upnp_nat_postrouting_chain=postrouting_miniupnpd
ext_perform_stun=yes
ext_stun_host={STUN_IP1}
ext_stun_port=3478
uuid=3b2f8c1e-4e0a-4b7e-9a51-d00d00d00d00
allow 1024-65535 10.77.0.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
""")
        self.miniupnpd_conf = conf
        self._start_miniupnpd()

    def _start_miniupnpd(self, boot=1):
        self.miniupnpd = self.spawn(self.ns_rtr, [
            "miniupnpd", "-d", "-f", self.miniupnpd_conf, "-b", str(boot),
            "-P", os.path.join(self.dir, "miniupnpd.pid")], f"miniupnpd-{boot}.log")
        self.miniupnpd_log = f"miniupnpd-{boot}.log"
        deadline = time.time() + 10
        while time.time() < deadline:
            if "HTTP listening on port" in self.read(self.miniupnpd_log):
                return
            if self.miniupnpd.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError("miniupnpd did not start:\n" + self.read(self.miniupnpd_log))

    def _wait_udp_listening(self, ns, port, what):
        deadline = time.time() + 10
        while time.time() < deadline:
            out = self.ns(ns, "ss", "-Hlun", check=False).stdout
            if f":{port} " in out:
                return
            time.sleep(0.1)
        raise RuntimeError(f"{what} is not listening on UDP {port}")

    # -- what the router shows ------------------------------------------------
    def router_mappings(self):
        """[(proto, external_port, internal_ip, internal_port)] from nft."""
        out = self.ns(self.ns_rtr, "nft", "list", "chain", "inet", TABLE,
                      "prerouting_miniupnpd").stdout
        maps = []
        for line in out.splitlines():
            line = line.strip()
            if " dnat " not in line:
                continue
            words = line.split()
            # miniupnpd matches the IP protocol byte: "@nh,72,8 0x11" (UDP) or "0x6" (TCP).
            proto = "?"
            if "@nh,72,8" in words:
                proto = {"0x11": "UDP", "0x6": "TCP"}.get(words[words.index("@nh,72,8") + 1], "?")
            elif "udp" in words or "tcp" in words:
                proto = "UDP" if "udp" in words else "TCP"
            ext = int(words[words.index("dport") + 1])
            target = words[words.index("to") + 1]
            ip, port = target.rsplit(":", 1)
            maps.append((proto, ext, ip, int(port)))
        return sorted(maps)

    def leases(self):
        """{(proto, ext): expiry timestamp} from miniupnpd's lease file."""
        out = {}
        for line in self.read_path(self.lease_file).splitlines():
            parts = line.split(":")
            if len(parts) >= 5:
                out[(parts[0], int(parts[1]))] = int(parts[4])
        return out

    @staticmethod
    def read_path(path):
        try:
            with open(path) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def set_hosts(self, ns, names):
        """/etc/hosts and an unreachable-free resolv.conf for `ip netns exec ns`."""
        d = f"/etc/netns/{ns}"
        os.makedirs(d, exist_ok=True)
        self.etc_dirs.append(d)
        with open(f"{d}/hosts", "w") as f:
            f.write("127.0.0.1 localhost\n")
            for name, ip in names.items():
                f.write(f"{ip} {name}\n")
        with open(f"{d}/resolv.conf", "w") as f:
            f.write("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")

    def reboot_router(self):
        """Power-cycle the router's UPnP side: miniupnpd dies, its rules and
        leases are gone, it comes back with a new BOOTID and announces itself."""
        self.stop(self.miniupnpd, signal.SIGKILL)
        for chain in ("miniupnpd", "prerouting_miniupnpd", "postrouting_miniupnpd"):
            self.ns(self.ns_rtr, "nft", "flush", "chain", "inet", TABLE, chain)
        if os.path.exists(self.lease_file):
            os.remove(self.lease_file)
        self._start_miniupnpd(boot=2)

    def change_wan_address(self, new_ip):
        r = self.ns_rtr
        # Keep the new address when the old (primary) one goes.
        self.ns(r, "sysctl", "-qw", "net.ipv4.conf.dxw0.promote_secondaries=1")
        self.ns(r, "ip", "addr", "add", f"{new_ip}/24", "dev", "dxw0")
        self.ns(r, "ip", "addr", "del", f"{WAN_IP}/24", "dev", "dxw0")
        self.ns(r, "ip", "route", "replace", "default", "via", INET_IP)
        self.ns(r, "conntrack", "-F", check=False)

    def close(self):
        for p in list(self.procs):
            try:
                self.stop(p, signal.SIGTERM, timeout=10)
            except Exception:
                pass
        for name in reversed(self.namespaces):
            run(["ip", "netns", "del", name], check=False)
        self.namespaces = []
        for d in self.etc_dirs:
            shutil.rmtree(d, ignore_errors=True)
        if self.etc_dirs:
            try:
                os.rmdir("/etc/netns")  # only when no other lab uses it
            except OSError:
                pass
        self.etc_dirs = []
        if os.environ.get("DUPLEX_KEEP_LAB_LOGS"):
            print("lab logs kept in", self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
