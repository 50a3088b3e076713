"""The Debian package as an admin gets it: duplex_<version>_amd64.deb with
Depends on the Debian runtime libraries, the binary, a commented config that
is a conffile, the systemd unit with its hardening, maintainer scripts that
create the service user and keep the data on `remove`; and the packaged
binary starts with the packaged config and answers SIP."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "protocol"))
import duplexd  # noqa: E402

BUILD = os.environ.get("DUPLEX_BUILD_DIR", "")
CPACK = os.environ.get("CPACK", "cpack")


class DebianPackage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not shutil.which("dpkg-deb") or not shutil.which("dpkg-shlibdeps"):
            raise RuntimeError("dpkg-dev is needed to build the package (quickstart installs it)")
        cls.work = tempfile.mkdtemp(prefix="duplex-deb-")
        subprocess.run([CPACK, "-G", "DEB", "-B", cls.work, "--config",
                        os.path.join(BUILD, "CPackConfig.cmake")], check=True,
                       stdout=subprocess.DEVNULL)
        debs = [f for f in os.listdir(cls.work) if f.endswith(".deb")]
        assert len(debs) == 1, debs
        cls.deb = os.path.join(cls.work, debs[0])
        cls.root = os.path.join(cls.work, "root")
        subprocess.run(["dpkg-deb", "-x", cls.deb, cls.root], check=True)
        cls.control = os.path.join(cls.work, "control")
        subprocess.run(["dpkg-deb", "-e", cls.deb, cls.control], check=True)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    def field(self, name):
        return subprocess.run(["dpkg-deb", "-f", self.deb, name], check=True,
                              capture_output=True, text=True).stdout.strip()

    def test_name_and_dependencies(self):
        self.assertRegex(os.path.basename(self.deb), r"^duplex_\d+\.\d+\.\d+_amd64\.deb$")
        depends = self.field("Depends")
        for lib in ("libpoconet", "libpocofoundation", "libsqlite3", "libminiupnpc",
                    "libspdlog", "libssl3", "adduser"):
            self.assertIn(lib, depends)

    def test_files_config_unit_and_scripts(self):
        for path in ("usr/sbin/duplex", "etc/duplex/duplex.conf",
                     "lib/systemd/system/duplex.service", "usr/share/doc/duplex/README.md"):
            self.assertTrue(os.path.exists(os.path.join(self.root, path)), path)
        with open(os.path.join(self.control, "conffiles")) as f:
            self.assertIn("/etc/duplex/duplex.conf", f.read().split())
        with open(os.path.join(self.root, "lib/systemd/system/duplex.service")) as f:
            unit = f.read()
        for line in ("User=duplex", "AmbientCapabilities=CAP_NET_BIND_SERVICE",
                     "Restart=on-failure", "NoNewPrivileges=yes", "ProtectSystem=strict",
                     "ExecStart=/usr/sbin/duplex --config=/etc/duplex/duplex.conf"):
            self.assertIn(line, unit)
        for script in ("postinst", "prerm", "postrm"):
            path = os.path.join(self.control, script)
            self.assertTrue(os.access(path, os.X_OK), script)
            subprocess.run(["sh", "-n", path], check=True)
        with open(os.path.join(self.control, "postrm")) as f:
            postrm = f.read()
        # Data goes only on purge.
        self.assertIn('if [ "$1" = "purge" ]', postrm)
        self.assertNotIn("rm -rf /var/lib/duplex", postrm.split('"purge"')[0])

    def test_packaged_binary_starts_with_the_packaged_config(self):
        binary = os.path.join(self.root, "usr/sbin/duplex")
        conf = os.path.join(self.root, "etc/duplex/duplex.conf")
        # The packaged paths (/var/lib/duplex) are redirected into the test's
        # folder; every other key comes from the packaged file.
        d = duplexd.Daemon(binary, f"--config={conf}")
        try:
            d.start()
            peer = duplexd.UdpPeer(d.sip_port)
            call_id, probe = duplexd.options_probe("127.0.0.1", d.sip_port)
            peer.send(probe)
            answer = peer.recv()
            peer.close()
            self.assertIsNotNone(answer)
            self.assertEqual(duplexd.status_of(answer)[0], 200)
            self.assertTrue(os.path.exists(os.path.join(d.dir, "duplex.db")))
        finally:
            d.cleanup()


if __name__ == "__main__":
    unittest.main()
