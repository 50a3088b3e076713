"""The Debian package's life on a machine, with dpkg for real: install, start
as the systemd unit would, upgrade to a higher version, remove, purge.

The machine is a throw-away copy-on-write clone of this one: an overlayfs
mount with this machine's root as the read-only lower layer and a tmpfs as
the upper layer, entered with chroot. The test runs in a network namespace
of its own (only loopback: nothing leaves the machine, the PBX's ports 5060
and 8080 are free) and the clone's /proc/sys is read-only (the postinst's
sysctl cannot reach this machine's settings).
The package's Depends are met by the libraries installed here; nothing on
this machine changes. systemd cannot run in a chroot, so the daemon is
started as the packaged unit says (User, Group, UMask, capabilities,
NoNewPrivileges, ExecStart) with setpriv, and `systemctl restart` is the one
check left to do by hand (README, "Install as a Debian package").

The test runs as PID 1 of its own PID, mount and network namespaces (it
re-executes itself under unshare): its tear-down stops the daemon by PID and
unmounts everything, and should the test itself be killed (a ctest
timeout), the kernel ends every process it started and drops every mount
and the network namespace with it; only an empty temporary folder is left.

Needs root, overlayfs, iproute2, setpriv, unshare and dpkg-dev; skips otherwise."""
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "protocol"))
import duplexd  # noqa: E402

BUILD = os.environ.get("DUPLEX_BUILD_DIR", "")
CPACK = os.environ.get("CPACK", "cpack")
UNIT = "/lib/systemd/system/duplex.service"
CONF = "/etc/duplex/duplex.conf"


def why_not_runnable():
    """The reason this test cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root (mounts an overlayfs clone of / and a network namespace)"
    with open("/proc/filesystems") as f:
        if "overlay" not in f.read():
            return "the kernel has no overlayfs"
    for tool in ("dpkg", "dpkg-deb", "dpkg-shlibdeps", "ip", "setpriv", "chroot", "mount",
                 "unshare"):
        if not shutil.which(tool):
            return f"{tool} is missing"
    # The lower layer is / alone: the system must live on the root filesystem.
    root_dev = os.stat("/").st_dev
    for d in ("/usr", "/etc", "/var"):
        if os.stat(d).st_dev != root_dev:
            return f"{d} is a separate mount; the clone of / would not include it"
    return None


def run(argv, check=True, **kw):
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=kw.pop("timeout", 120), **kw)
    if check and r.returncode != 0:
        raise RuntimeError(f"{argv} exited {r.returncode}:\n{r.stdout}{r.stderr}")
    return r


def unit_settings(text):
    """`Key=value` lines of a unit file's [Service] section."""
    values, section = {}, None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            values[k] = v
    return values


class PackageLifecycle(unittest.TestCase):
    """Numbered steps, run in order on one clone; each step needs the ones
    before it to have passed."""

    @classmethod
    def setUpClass(cls):
        reason = why_not_runnable()
        if reason:
            raise unittest.SkipTest(f"package lifecycle: {reason}")
        if os.getpid() != 1 or os.environ.get("DUPLEX_PKGLIFE_NAMESPACES") != "1":
            raise unittest.SkipTest("package lifecycle: run it as a script (it re-executes "
                                    "itself in namespaces of its own)")
        cls.failed_step = None
        cls.daemon = None
        cls.host_before = cls.host_state()
        cls.work = tempfile.mkdtemp(prefix="duplex-pkglife-")
        cls.addClassCleanup(os.rmdir, cls.work)
        # Everything of the test on a tmpfs: gone with the mount namespace.
        cls.mount(["-t", "tmpfs", "-o", "mode=0700", "duplex-pkglife"], cls.work)
        run(["ip", "link", "set", "lo", "up"])
        cls.build_packages()
        cls.make_clone()

    # ---- the two packages ------------------------------------------------
    @classmethod
    def build_packages(cls):
        """The package of this build tree, and the same with the next patch
        version: what an upgrade installs."""
        config = os.path.join(BUILD, "CPackConfig.cmake")
        first = os.path.join(cls.work, "first")
        run([CPACK, "-G", "DEB", "-B", first, "--config", config])
        cls.deb1 = cls.only_deb(first)
        cls.version1 = run(["dpkg-deb", "-f", cls.deb1, "Version"]).stdout.strip()
        major, minor, patch = (int(x) for x in cls.version1.split("."))
        cls.version2 = f"{major}.{minor}.{patch + 1}"
        second = os.path.join(cls.work, "second")
        run([CPACK, "-G", "DEB", "-B", second, "--config", config,
             "-D", f"CPACK_PACKAGE_VERSION={cls.version2}"])
        cls.deb2 = cls.only_deb(second)
        run(["dpkg", "--compare-versions", cls.version2, "gt", cls.version1])

    @staticmethod
    def only_deb(folder):
        debs = [f for f in os.listdir(folder) if f.endswith(".deb")]
        assert len(debs) == 1, debs
        return os.path.join(folder, debs[0])

    # ---- the clone -------------------------------------------------------
    @classmethod
    def mount(cls, argv, target):
        run(["mount"] + argv + [target])
        cls.addClassCleanup(cls.unmount, target)

    @staticmethod
    def unmount(target):
        if subprocess.run(["umount", target], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", target], capture_output=True)

    @classmethod
    def make_clone(cls):
        layer = os.path.join(cls.work, "layer")  # on the test's tmpfs
        cls.root = os.path.join(cls.work, "root")
        cls.upper = os.path.join(layer, "upper")
        for d in (layer, cls.root, cls.upper, os.path.join(layer, "work")):
            os.mkdir(d)
        cls.mount(["-t", "overlay", "-o",
                   f"lowerdir=/,upperdir={cls.upper},workdir={layer}/work", "duplex-pkglife"],
                  cls.root)
        cls.mount(["-t", "proc", "proc"], cls.path("/proc"))
        # Read-only sysctls: the postinst's `sysctl -p` must not change this machine.
        cls.mount(["--bind", cls.path("/proc/sys")], cls.path("/proc/sys"))
        run(["mount", "-o", "remount,bind,ro", cls.path("/proc/sys")])
        cls.mount(["--bind", "/dev"], cls.path("/dev"))
        cls.mount(["-t", "tmpfs", "-o", "mode=1777", "duplex-pkglife-tmp"], cls.path("/tmp"))
        # The clone is a fresh machine: no Duplex package or user from this one.
        if cls.package_status() != "not-installed":
            cls.chroot("dpkg", "--purge", "duplex")
        if cls.passwd_entry("duplex"):
            cls.chroot("deluser", "--system", "duplex")
        for name in ("deb1", "deb2"):
            shutil.copy(getattr(cls, name), cls.path("/tmp"))
            setattr(cls, name + "_in_clone", "/tmp/" + os.path.basename(getattr(cls, name)))
        cls.addClassCleanup(cls.stop_daemon)

    @classmethod
    def path(cls, inside):
        return os.path.join(cls.root, inside.lstrip("/"))

    @classmethod
    def chroot_argv(cls, *argv):
        return ["chroot", cls.root, "/usr/bin/env", "-i",
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "LANG=C.UTF-8", "HOME=/root"] + list(argv)

    @classmethod
    def chroot(cls, *argv, check=True):
        return run(cls.chroot_argv(*argv), check=check)

    @classmethod
    def package_status(cls):
        r = cls.chroot("dpkg-query", "-W", "-f=${Status} ${Version}", "duplex", check=False)
        if r.returncode != 0 or "not-installed" in r.stdout:
            return "not-installed"
        return r.stdout.strip()

    @classmethod
    def passwd_entry(cls, name, file="/etc/passwd"):
        with open(cls.path(file)) as f:
            for line in f:
                fields = line.rstrip("\n").split(":")
                if fields[0] == name:
                    return fields
        return None

    @staticmethod
    def host_state():
        st = os.stat("/var/lib/dpkg/status")
        with open("/etc/passwd") as f:
            users = [line.split(":")[0] for line in f]
        return {"dpkg_status": (st.st_mtime_ns, st.st_size), "duplex_user": "duplex" in users,
                "data": os.path.exists("/var/lib/duplex"), "conf": os.path.exists(CONF)}

    # ---- talking to the daemon ---------------------------------------------
    @classmethod
    def options(cls, port, timeout=1.0):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind(("127.0.0.1", 0))
            s.settimeout(timeout)
            _, msg = duplexd.options_probe("127.0.0.1", port)
            s.sendto(msg, ("127.0.0.1", port))
            try:
                data, _ = s.recvfrom(70000)
            except (socket.timeout, ConnectionRefusedError):
                return None
            status = duplexd.status_of(data)
            return status[0] if status else None
        finally:
            s.close()

    @classmethod
    def api(cls, method, route, body=None, token=None):
        req = urllib.request.Request(
            "http://127.0.0.1:8080" + route, method=method,
            data=None if body is None else json.dumps(body).encode())
        if body is not None:
            req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")
        except (urllib.error.URLError, ConnectionError) as e:
            return None, str(e)

    def login(self):
        with open(self.path("/var/lib/duplex/admin-password.txt")) as f:
            password = f.read().strip().rsplit(": ", 1)[-1]
        status, answer = self.api("POST", "/api/v1/auth/login",
                                  {"username": "admin", "password": password})
        self.assertEqual(status, 200, answer)
        return answer["token"]

    # ---- the daemon as the unit starts it --------------------------------
    @classmethod
    def start_daemon(cls, sip_port):
        """ExecStart of the installed unit, with its User, Group, UMask,
        capabilities and NoNewPrivileges. Returns once it answers OPTIONS
        and its admin API (which starts after SIP) answers too."""
        with open(cls.path(UNIT)) as f:
            unit = unit_settings(f.read())
        caps = ",".join("+" + c.lower().removeprefix("cap_")
                        for c in unit["AmbientCapabilities"].split())
        bounding = ",".join("+" + c.lower().removeprefix("cap_")
                            for c in unit["CapabilityBoundingSet"].split())
        setpriv = ["setpriv", f"--reuid={unit['User']}", f"--regid={unit['Group']}",
                   "--init-groups", f"--bounding-set=-all,{bounding}",
                   f"--inh-caps=-all,{caps}", f"--ambient-caps=-all,{caps}"]
        if unit.get("NoNewPrivileges") == "yes":
            setpriv.append("--no-new-privs")
        command = " ".join(setpriv) + " -- " + unit["ExecStart"]
        if "LimitRTPRIO" in unit and cls.can_raise_rtprio():
            # systemd sets the limit before it drops privileges.
            command = f"prlimit --rtprio={unit['LimitRTPRIO']} " + command
        cls.daemon_log = open(os.path.join(cls.work, "daemon-console.log"), "a+")
        cls.daemon = subprocess.Popen(
            cls.chroot_argv("/bin/sh", "-c", f"umask {unit['UMask']}; exec {command}"),
            stdin=subprocess.DEVNULL, stdout=cls.daemon_log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if cls.daemon.poll() is not None:
                break
            if cls.options(sip_port, timeout=0.3) == 200 and \
                    cls.api("GET", "/api/v1/health")[0] == 200:
                return
            time.sleep(0.1)
        code = cls.daemon.poll()
        cls.stop_daemon()
        raise AssertionError(f"the packaged daemon did not answer OPTIONS on {sip_port} "
                             f"(exit {code}):\n{cls.console()}")

    @staticmethod
    def can_raise_rtprio():
        """Whether this test may set RLIMIT_RTPRIO as systemd does (needs
        CAP_SYS_RESOURCE, which some containers withhold even from root)."""
        return subprocess.run(["prlimit", "--rtprio=10", "true"],
                              capture_output=True).returncode == 0

    @staticmethod
    def thread_policies(pid):
        """(policy, rt_priority) of each thread: 1 = SCHED_FIFO (proc(5) stat
        fields 41 and 40)."""
        policies = []
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            policies.append((int(fields[38]), int(fields[37])))
        return policies

    @classmethod
    def console(cls):
        with open(os.path.join(cls.work, "daemon-console.log")) as f:
            return f.read()

    @classmethod
    def stop_daemon(cls):
        """SIGTERM by PID (chroot, sh and setpriv all exec: the PID is
        the daemon's); returns its exit code."""
        if cls.daemon is None:
            return None
        proc, cls.daemon = cls.daemon, None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        cls.daemon_log.close()
        return proc.returncode

    # ---- step bookkeeping --------------------------------------------------
    def setUp(self):
        if self.failed_step and self._testMethodName != "test_7_this_machine_is_unchanged":
            self.fail(f"not run: the earlier step {self.failed_step} failed")

    def run(self, result=None):
        failures = len(result.failures) + len(result.errors) if result else 0
        out = super().run(result)
        if result and len(result.failures) + len(result.errors) > failures \
                and not type(self).failed_step:
            type(self).failed_step = self._testMethodName
        return out

    def assertOwned(self, inside, user, group, mode):
        st = os.stat(self.path(inside))
        uid = int(self.passwd_entry(user)[2])
        gid = int(self.passwd_entry(group, "/etc/group")[2])
        self.assertEqual((st.st_uid, st.st_gid, oct(stat.S_IMODE(st.st_mode))),
                         (uid, gid, oct(mode)), inside)

    def upper_snapshot(self):
        """Every file of the clone's upper layer (what changed since the
        clone was made) with its modification time."""
        snap = {}
        for top, dirs, files in os.walk(self.upper):
            for name in dirs + files:
                p = os.path.join(top, name)
                snap[os.path.relpath(p, self.upper)] = os.lstat(p).st_mtime_ns
        return snap

    # ---- the steps -----------------------------------------------------
    def test_1_install(self):
        r = self.chroot("dpkg", "-i", self.deb1_in_clone)
        self.assertEqual(r.stderr, "", "warnings from the maintainer scripts")
        self.assertIn("systemd is not running here, so it was not started", r.stdout)
        self.assertIn("/var/lib/duplex/admin-password.txt", r.stdout)
        self.assertEqual(self.package_status(), f"install ok installed {self.version1}")
        user = self.passwd_entry("duplex")
        self.assertIsNotNone(user, "postinst created no user duplex")
        self.assertLess(int(user[2]), 1000, "duplex is not a system user")
        self.assertEqual(user[6], "/usr/sbin/nologin")
        self.assertIsNotNone(self.passwd_entry("duplex", "/etc/group"))
        self.assertOwned("/var/lib/duplex", "duplex", "duplex", 0o750)
        self.assertOwned("/var/log/duplex", "duplex", "duplex", 0o750)
        self.assertOwned(CONF, "root", "duplex", 0o640)
        with open(self.path("/usr/lib/sysctl.d/60-duplex.conf")) as f:
            self.assertRegex(f.read(), r"(?m)^net\.core\.rmem_max = \d+")
        self.assertTrue(os.access(self.path("/usr/sbin/duplex"), os.X_OK))

    def test_2_unit_verifies(self):
        if not os.path.exists(self.path("/usr/bin/systemd-analyze")):
            self.skipTest("systemd-analyze is not installed: the unit is not verified")
        r = self.chroot("systemd-analyze", "verify", UNIT, check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertNotIn("duplex.service", r.stdout + r.stderr)

    def test_3_starts_as_the_unit_says(self):
        before = self.upper_snapshot()
        self.start_daemon(5060)
        self.assertEqual(os.path.basename(os.readlink(f"/proc/{self.daemon.pid}/exe")),
                         "duplex")
        with open(f"/proc/{self.daemon.pid}/status") as f:
            status = f.read()
        uid = self.passwd_entry("duplex")[2]
        self.assertRegex(status, rf"(?m)^Uid:\s+{uid}\s+{uid}\s+{uid}\s+{uid}$")
        self.assertRegex(status, r"(?m)^CapEff:\s+0+400$")  # CAP_NET_BIND_SERVICE only
        # The media relay thread runs at real-time priority (what `chrt -p`
        # shows); where this test may not grant the unit's LimitRTPRIO (root
        # without CAP_SYS_RESOURCE), the daemon says why it runs without it.
        if self.can_raise_rtprio():
            self.assertIn((1, 10), self.thread_policies(self.daemon.pid), self.console())
        else:
            self.assertIn("cannot run the media relay at real-time priority 10: Operation not "
                          "permitted (allow it with LimitRTPRIO=10 in the systemd unit",
                          self.console())
            self.assertNotIn(1, [policy for policy, _ in self.thread_policies(self.daemon.pid)])
        self.assertOwned("/var/lib/duplex/duplex.db", "duplex", "duplex", 0o640)
        self.assertOwned("/var/lib/duplex/admin-password.txt", "duplex", "duplex", 0o600)
        # Printed once on the console (the journal under systemd).
        self.assertIn("admin password generated: ", self.console())
        self.assertTrue(os.path.exists(self.path("/var/log/duplex/duplex.log")))
        token = self.login()
        status, answer = self.api("POST", "/api/v1/extensions",
                                  {"number": "201", "display_name": "Kept over upgrades"},
                                  token)
        self.assertEqual(status, 201, answer)
        self.assertEqual(self.stop_daemon(), 0, self.console())
        # ProtectSystem=strict: the daemon writes only its StateDirectory and
        # LogsDirectory (/tmp is the clone's own tmpfs: PrivateTmp).
        after = self.upper_snapshot()
        changed = [p for p, t in after.items() if before.get(p) != t]
        outside = [p for p in changed
                   if not re.match(r"var/(lib|log)/duplex(/|$)", p)]
        self.assertEqual(outside, [])

    def test_4_upgrade_keeps_data_settings_and_user(self):
        with open(self.path("/var/lib/duplex/admin-password.txt")) as f:
            password_file = f.read()
        uid = self.passwd_entry("duplex")[2]
        # The admin's edit: SIP on another port.
        with open(self.path(CONF), "a") as f:
            f.write("\n# Edited by the admin before the upgrade.\nsip.port = 5070\n")
        with open(self.path(CONF)) as f:
            edited = f.read()
        # No --force-conf*: stdin is /dev/null, so a conffile prompt fails the upgrade.
        r = self.chroot("dpkg", "-i", self.deb2_in_clone, check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stderr, "")
        self.assertNotIn("Configuration file", r.stdout)
        self.assertNotIn("admin-password.txt", r.stdout, "an upgrade is no first install")
        self.assertEqual(self.package_status(), f"install ok installed {self.version2}")
        with open(self.path(CONF)) as f:
            self.assertEqual(f.read(), edited)
        self.assertOwned(CONF, "root", "duplex", 0o640)
        self.assertEqual(self.passwd_entry("duplex")[2], uid)
        self.assertFalse(os.path.exists(self.path(CONF + ".dpkg-new")))
        console_lines = len(self.console())
        self.start_daemon(5070)
        self.assertNotIn("admin password generated", self.console()[console_lines:])
        with open(self.path("/var/lib/duplex/admin-password.txt")) as f:
            self.assertEqual(f.read(), password_file, "no new admin password on the kept database")
        token = self.login()
        status, answer = self.api("GET", "/api/v1/extensions/201", token=token)
        self.assertEqual(status, 200, answer)
        self.assertEqual(answer["display_name"], "Kept over upgrades")
        self.assertEqual(self.stop_daemon(), 0, self.console())

    def test_5_remove_keeps_data_and_config(self):
        with open(self.path(CONF)) as f:
            edited = f.read()
        self.assertEqual(self.chroot("dpkg", "-r", "duplex").stderr, "")
        self.assertEqual(self.package_status(), f"deinstall ok config-files {self.version2}")
        self.assertFalse(os.path.exists(self.path("/usr/sbin/duplex")))
        self.assertFalse(os.path.exists(self.path(UNIT)))
        self.assertTrue(os.path.exists(self.path("/var/lib/duplex/duplex.db")))
        with open(self.path(CONF)) as f:
            self.assertEqual(f.read(), edited)
        self.assertIsNotNone(self.passwd_entry("duplex"))

    def test_6_purge_removes_data_config_and_user(self):
        self.assertEqual(self.chroot("dpkg", "-P", "duplex").stderr, "")
        self.assertEqual(self.package_status(), "not-installed")
        for gone in ("/var/lib/duplex", "/var/log/duplex", "/etc/duplex",
                     "/usr/lib/sysctl.d/60-duplex.conf"):
            self.assertFalse(os.path.lexists(self.path(gone)), gone)
        self.assertIsNone(self.passwd_entry("duplex"))
        self.assertIsNone(self.passwd_entry("duplex", "/etc/group"))

    def test_7_this_machine_is_unchanged(self):
        self.assertEqual(self.host_state(), self.host_before)


if __name__ == "__main__":
    if why_not_runnable() is None and os.environ.get("DUPLEX_PKGLIFE_NAMESPACES") != "1":
        os.environ["DUPLEX_PKGLIFE_NAMESPACES"] = "1"
        os.execvp("unshare", ["unshare", "--mount", "--propagation", "private", "--pid", "--net",
                              "--fork", "--kill-child", "--mount-proc",
                              sys.executable, os.path.abspath(__file__)] + sys.argv[1:])
    unittest.main()
