"""Real softphones for call tests: baresip 1.0 (Debian package) with g711,
aufile as the microphone (a WAV tone per phone), sndfile recording what each
phone encodes and decodes, and aubridge as a sound-card-free player (baresip
does not answer or play without a player). Tones are written with the wave
module; a recording is analysed with the Goertzel algorithm. Commands go to
baresip's stdin (stdio + menu modules). Python stdlib only."""
import math
import os
import struct
import subprocess
import wave

RATE = 8000


def write_tone(path, freq, seconds=15.0, amplitude=8000):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(b"".join(
            struct.pack("<h", int(amplitude * math.sin(2 * math.pi * freq * n / RATE)))
            for n in range(int(seconds * RATE))))


def goertzel_power(samples, rate, freq):
    k = 2 * math.cos(2 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + k * s1 - s2, s1
    return s1 * s1 + s2 * s2 - k * s1 * s2


def heard(path, freqs):
    """{freq: share of the total power at those frequencies} in the decoded
    recording `path` (the first half second skipped: jitter buffer), plus
    the seconds of audio as key "seconds"."""
    with wave.open(path, "rb") as w:
        rate, channels = w.getframerate(), w.getnchannels()
        data = w.readframes(w.getnframes())
    samples = struct.unpack("<%dh" % (len(data) // 2), data)[::channels][rate // 2:]
    powers = {f: goertzel_power(samples, rate, f) for f in freqs}
    total = sum(powers.values()) or 1.0
    out = {f: p / total for f, p in powers.items()}
    out["seconds"] = len(samples) / rate
    out["rms"] = math.sqrt(sum(x * x for x in samples) / len(samples)) if samples else 0.0
    return out


class Phone:
    """One baresip with its own config folder under `workdir`."""

    def __init__(self, workdir, name, user, password, realm, outbound_port, tone, listen_port,
                 auto_answer=False):
        self.dir = os.path.join(workdir, name)
        self.rec = os.path.join(self.dir, "rec")
        os.makedirs(self.rec, exist_ok=True)
        with open(os.path.join(self.dir, "config"), "w") as f:
            f.write(f"sip_listen\t127.0.0.1:{listen_port}\n"
                    "module_path\t/usr/lib/baresip/modules\n"
                    "module\tstdio.so\nmodule\tg711.so\nmodule\taufile.so\n"
                    "module\tsndfile.so\nmodule\taubridge.so\n"
                    "module_app\taccount.so\nmodule_app\tmenu.so\n"
                    f"audio_source\taufile,{tone}\n"
                    f"audio_player\taubridge,{name}\n"
                    "audio_alert\tnone\n"
                    f"snd_path\t{self.rec}\n"
                    "rtp_ports\t20000-59999\n")
        answer = ";answermode=auto" if auto_answer else ""
        with open(os.path.join(self.dir, "accounts"), "w") as f:
            f.write(f"<sip:{user}@{realm}>;auth_pass={password};regint=600{answer};"
                    f"audio_codecs=PCMU;outbound=\"sip:127.0.0.1:{outbound_port};transport=udp\"\n")
        self.log = open(os.path.join(self.dir, "out.txt"), "w")
        self.proc = subprocess.Popen(["baresip", "-f", self.dir], stdin=subprocess.PIPE,
                                     stdout=self.log, stderr=subprocess.STDOUT, text=True)

    def command(self, text):
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def output(self):
        with open(os.path.join(self.dir, "out.txt")) as f:
            return f.read()

    def decoded(self):
        """The recording of what this phone heard (sndfile's -dec.wav)."""
        files = sorted(f for f in os.listdir(self.rec) if f.endswith("-dec.wav"))
        return os.path.join(self.rec, files[-1]) if files else None

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.command("/quit")
                self.proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self.proc.stdin.close()
        self.log.close()
