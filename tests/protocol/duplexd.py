"""Start and stop the real `duplex` daemon for protocol tests, and talk SIP to it.

The daemon runs with a temporary data folder, on loopback, on free ports; the
test reads its "listening:" log line to know it is up. Every process started
here is stopped by PID, also when a test fails.
"""
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid

LISTEN_RE = re.compile(r"listening: SIP UDP [^:]+:(\d+).*?admin http://[^:]+:(\d+)")


def free_port():
    """A port free for both UDP and TCP on 127.0.0.1 right now."""
    for _ in range(50):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            u.close()
            t.close()
    raise RuntimeError("no free port pair found")


class Daemon:
    def __init__(self, binary, *args, start_timeout=10.0):
        self.binary = binary
        self.dir = tempfile.mkdtemp(prefix="duplex-test-")
        # Port 0: the daemon picks free ports (the same one for UDP and TCP)
        # and names them in its "listening:" line, so parallel tests never
        # race for a port.
        self.sip_port = None
        self.admin_port = None
        # UPnP off: a test must not send SSDP discovery onto the machine's LAN
        # (the NAT lab turns it on inside its namespaces).
        self.args = [f"--data.dir={self.dir}", "--sip.bind=127.0.0.1", "--sip.port=0",
                     "--admin.port=0", "--log.file=", "--nat.upnp=false"] + list(args)
        self.start_timeout = start_timeout
        self.proc = None
        self.output = []

    def start(self):
        # A restarted daemon: only this run's lines tell where it listens.
        first_line = len(self.output)
        self.proc = subprocess.Popen([self.binary] + self.args, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, bufsize=1)
        # A reader thread collects every log line, so tests never block on the pipe.
        self._lines = threading.Condition()
        self._reader = threading.Thread(target=self._read_output, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + self.start_timeout
        with self._lines:
            while time.monotonic() < deadline:
                for line in self.output[first_line:]:
                    m = LISTEN_RE.search(line)
                    if m:
                        self.sip_port, self.admin_port = int(m.group(1)), int(m.group(2))
                        return self
                if self.proc.poll() is not None and not self._reader.is_alive():
                    break
                self._lines.wait(0.1)
        self.stop(expect_clean=False)
        raise RuntimeError("duplex did not start:\n" + "".join(self.output))

    def _read_output(self):
        for line in self.proc.stdout:
            with self._lines:
                self.output.append(line)
                self._lines.notify_all()

    def drain(self):
        """The log written so far."""
        return "".join(self.output)

    def wait_for_log(self, text, timeout=5.0):
        """True once `text` appears in the log (a clock, not a sleep: returns
        as soon as the line arrives)."""
        deadline = time.monotonic() + timeout
        with self._lines:
            while text not in "".join(self.output):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lines.wait(left)
        return True

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, expect_clean=True, timeout=10.0):
        """SIGTERM, wait; returns the exit code. Kills if it does not stop."""
        if self.proc is None:
            return None
        code = self.proc.poll()
        if code is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                code = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                code = self.proc.wait()
                if expect_clean:
                    raise RuntimeError("duplex did not stop within %.0f s" % timeout)
        if getattr(self, "_reader", None) is not None:
            self._reader.join(timeout=5)
        if self.proc.stdout:
            self.proc.stdout.close()
        self.proc = None
        return code

    def cleanup(self):
        if self.proc is not None:
            self.stop(expect_clean=False)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()


def options_probe(host, port, call_id=None):
    call_id = call_id or "probe-" + uuid.uuid4().hex
    return call_id, (
        f"OPTIONS sip:{host}:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK{uuid.uuid4().hex}\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:probe@127.0.0.1>;tag={uuid.uuid4().hex[:8]}\r\n"
        f"To: <sip:{host}:{port}>\r\n"
        f"Call-ID: {call_id}\r\n"
        "CSeq: 1 OPTIONS\r\n"
        "Content-Length: 0\r\n\r\n").encode()


def status_of(data):
    """(status code, reason, raw) of a SIP response, or None if not a response."""
    first = data.split(b"\r\n", 1)[0].decode("utf-8", "replace")
    m = re.match(r"SIP/2\.0 (\d{3}) ?(.*)$", first)
    return (int(m.group(1)), m.group(2), data) if m else None


def header(data, name):
    """Values of a header in a raw message (long name only, case-insensitive)."""
    head = data.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    out = []
    for line in head.split("\r\n")[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            if k.strip().lower() == name.lower():
                out.append(v.strip())
    return out


class UdpPeer:
    """A UDP socket on loopback that sends datagrams and reads answers."""

    def __init__(self, port):
        self.port = port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))

    def send(self, data):
        self.sock.sendto(data, ("127.0.0.1", self.port))

    def recv(self, timeout=5.0):
        self.sock.settimeout(timeout)
        try:
            data, _ = self.sock.recvfrom(70000)
            return data
        except socket.timeout:
            return None

    def responses_until_probe(self, probe_call_id, timeout=5.0):
        """Every datagram that arrives before the probe's answer (the SIP loop
        is one thread: whatever the daemon sent for earlier datagrams was sent
        before it answered the probe). Returns (responses, probe_answer)."""
        got = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            data = self.recv(max(0.05, deadline - time.monotonic()))
            if data is None:
                break
            if probe_call_id in header(data, "Call-ID") or \
                    probe_call_id.encode() in data.split(b"\r\n\r\n", 1)[0]:
                return got, data
            got.append(data)
        return got, None

    def close(self):
        self.sock.close()


def exchange_with_fresh_daemon(data, *daemon_args):
    """Sends one datagram to a daemon started for it, then an OPTIONS probe;
    returns (every datagram the daemon sent before answering the probe, the
    probe's answer or None, the daemon's exit code after SIGTERM). A fresh
    daemon per message, because corpus messages share branches that the
    transaction layer rightly takes for retransmissions (RFC 3261 17.2.3)."""
    daemon = Daemon(duplex_binary(), *daemon_args).start()
    peer = UdpPeer(daemon.sip_port)
    try:
        peer.send(data)
        probe_id, probe = options_probe("127.0.0.1", daemon.sip_port)
        peer.send(probe)
        got, answer = peer.responses_until_probe(probe_id)
        alive = daemon.alive()
        code = daemon.stop()
        return got, answer, code if alive else None
    finally:
        peer.close()
        daemon.cleanup()


def duplex_binary():
    b = os.environ.get("DUPLEX_BIN")
    if not b or not os.path.exists(b):
        raise RuntimeError("DUPLEX_BIN must name the built duplex binary")
    return b
