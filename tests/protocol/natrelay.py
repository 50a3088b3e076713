"""A user-space stand-in for a home router's NAT on loopback, for protocol
tests: the phone sends to the relay's LAN socket; the relay forwards from its
WAN socket (another port, the "public" mapping) to the PBX, and forwards
whatever arrives on the WAN socket back to the phone. The PBX thus sees a
source port that differs from the Contact the phone wrote, exactly as behind
a port-translating NAT. It records every datagram it forwards."""
import select
import socket
import threading


class NatRelay:
    def __init__(self, pbx_port):
        self.pbx = ("127.0.0.1", pbx_port)
        self.lan = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.lan.bind(("127.0.0.1", 0))
        self.wan = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.wan.bind(("127.0.0.1", 0))
        self.lan_port = self.lan.getsockname()[1]
        self.wan_port = self.wan.getsockname()[1]
        self.phone = None  # learned from the first packet, as a NAT does
        self.to_pbx = []    # datagrams phone -> PBX
        self.to_phone = []  # datagrams PBX -> phone
        self.changed = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop:
            ready, _, _ = select.select([self.lan, self.wan], [], [], 0.1)
            for s in ready:
                data, source = s.recvfrom(65535)
                with self.changed:
                    if s is self.lan:
                        self.phone = source
                        self.to_pbx.append(data)
                        self.wan.sendto(data, self.pbx)
                    elif self.phone is not None:
                        self.to_phone.append(data)
                        self.lan.sendto(data, self.phone)
                    self.changed.notify_all()

    def wait_for(self, predicate, timeout):
        """Waits until predicate(relay) is true (checked on every datagram)."""
        with self.changed:
            return self.changed.wait_for(lambda: predicate(self), timeout)

    def close(self):
        self._stop = True
        self._thread.join(timeout=2)
        self.lan.close()
        self.wan.close()
