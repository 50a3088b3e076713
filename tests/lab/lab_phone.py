"""A real softphone in a lab namespace: baresip 1.0 with g711 (PCMU), aufile
playing this phone's own tone as the microphone, sndfile recording what it
decodes, aubridge as a sound-card-free player, commands on stdin (stdio +
menu). Every phone answers automatically. The tone and the analysis come from
tests/protocol/baresip_phone.py."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "protocol"))
import baresip_phone  # noqa: E402,F401
from baresip_phone import heard, write_tone  # noqa: E402,F401

REALM = "duplex.test"
FRAME_BYTES = 320  # 20 ms of 16-bit mono at 8 kHz


class LabPhone:
    def __init__(self, lab, workdir, name, ip, number, password, tone_path, tone):
        self.lab, self.name, self.ip = lab, name, ip
        self.number, self.password, self.tone = number, password, tone
        self.tone_path = tone_path
        self.ns = lab.phone_ns[name]
        self.dir = os.path.join(workdir, name)
        self.proc = None
        self.runs = 0

    def start(self, pbx_address):
        """(Re)starts baresip registering to `pbx_address` (host:port), with
        empty recordings."""
        self.stop()
        self.runs += 1
        self.pbx_address = pbx_address
        self.rec = os.path.join(self.dir, f"rec{self.runs}")
        os.makedirs(self.rec, exist_ok=True)
        with open(os.path.join(self.dir, "config"), "w") as f:
            f.write(f"sip_listen\t{self.ip}:5060\n"
                    "module_path\t/usr/lib/baresip/modules\n"
                    "module\tstdio.so\nmodule\tg711.so\nmodule\taufile.so\n"
                    "module\tsndfile.so\nmodule\taubridge.so\n"
                    "module_app\taccount.so\nmodule_app\tmenu.so\n"
                    f"audio_source\taufile,{self.tone_path}\n"
                    f"audio_player\taubridge,{self.name}\n"
                    "audio_alert\tnone\n"
                    f"snd_path\t{self.rec}\n"
                    "rtp_ports\t16384-16483\n"
                    "dns_server\t127.0.0.1:53\n")
        with open(os.path.join(self.dir, "accounts"), "w") as f:
            f.write(f"<sip:{self.number}@{REALM}>;auth_pass={self.password};regint=3600;"
                    "answermode=auto;audio_codecs=PCMU;"
                    f"outbound=\"sip:{pbx_address};transport=udp\"\n")
        self.out_path = os.path.join(self.dir, f"out{self.runs}.txt")
        self.log = open(self.out_path, "w")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, "baresip", "-f", self.dir],
            stdin=subprocess.PIPE, stdout=self.log, stderr=subprocess.STDOUT, text=True,
            start_new_session=True)
        self.mark = 0

    def command(self, text):
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def output(self):
        with open(self.out_path, errors="replace") as f:
            return f.read()

    def since_mark(self):
        return self.output()[self.mark:]

    def set_mark(self):
        """Later waits look only at output after this point."""
        self.mark = len(self.output())

    def recordings(self):
        return sorted(os.path.join(self.rec, f) for f in os.listdir(self.rec)
                      if f.endswith("-dec.wav"))

    def decoded_bytes(self, path):
        try:
            return os.path.getsize(path)
        except OSError:
            return 0

    def dial(self, number):
        self.command(f"/dial sip:{number}@{REALM}")

    def hangup(self):
        self.command("/hangup")

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self.command("/quit")
                self.proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        self.log.close()
        self.proc = None


def wait_for(what, predicate, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
