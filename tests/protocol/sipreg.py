"""A phone's side of registration for protocol tests: extensions provisioned
in the daemon's database, REGISTER requests, and digest answers computed the
way RFC 7616 3.4 says (MD5 and SHA-256, qop=auth). Python stdlib only."""
import hashlib
import os
import re
import secrets
import sqlite3
import time
import uuid

import duplexd

REALM = "duplex.test"

_H = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


def h(algorithm, text):
    return _H[algorithm](text.encode()).hexdigest()


def strong_password():
    """What the admin API generates: 20 characters from three classes."""
    return "Dx-" + secrets.token_urlsafe(15)


def provision(daemon, users, realm=REALM):
    """Writes `users` ({number: password}) into the stopped daemon's database
    as the admin API will: HA1 values for both algorithms, never the
    password. Starts the daemon once first if the database does not exist
    yet, so the schema comes from the daemon's own migrations."""
    db_path = os.path.join(daemon.dir, "duplex.db")
    if not os.path.exists(db_path):
        daemon.start()
        daemon.stop()
    con = sqlite3.connect(db_path)
    with con:
        for number, password in users.items():
            con.execute(
                "INSERT INTO extensions (number, ha1_md5, ha1_sha256, realm) VALUES (?, ?, ?, ?)",
                (number, h("MD5", f"{number}:{realm}:{password}"),
                 h("SHA-256", f"{number}:{realm}:{password}"), realm))
    con.close()


def wait_until(predicate, timeout=5.0, step=0.05):
    """Polls `predicate` until true or `timeout`; returns its last value. For
    effects of the daemon's background threads (the bindings write-behind)
    that have no event a test could wait on from outside."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(step)


def bindings_in_db(daemon):
    """The bindings table as a list of dicts (the write-behind's result)."""
    con = sqlite3.connect(os.path.join(daemon.dir, "duplex.db"))
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute("SELECT * FROM bindings ORDER BY id")]
    finally:
        con.close()


def parse_challenges(raw, header_name="WWW-Authenticate"):
    """[{param: value}] for each Digest challenge, in order."""
    out = []
    for value in duplexd.header(raw, header_name):
        scheme, _, rest = value.partition(" ")
        if scheme.lower() != "digest":
            continue
        params = {}
        for m in re.finditer(r'(\w+)\s*=\s*("([^"]*)"|[^\s,]+)', rest):
            params[m.group(1).lower()] = m.group(3) if m.group(3) is not None else m.group(2)
        out.append(params)
    return out


def authorization(challenge, user, password, method, uri, nc=1, cnonce=None,
                  header_name="Authorization"):
    """The Authorization header line answering one challenge (RFC 7616 3.4)."""
    algorithm = challenge.get("algorithm", "MD5")
    cnonce = cnonce or uuid.uuid4().hex[:16]
    nc_text = f"{nc:08x}"
    ha1 = h(algorithm, f"{user}:{challenge['realm']}:{password}")
    ha2 = h(algorithm, f"{method}:{uri}")
    response = h(algorithm, f"{ha1}:{challenge['nonce']}:{nc_text}:{cnonce}:auth:{ha2}")
    line = (f'{header_name}: Digest username="{user}", realm="{challenge["realm"]}", '
            f'nonce="{challenge["nonce"]}", uri="{uri}", response="{response}", '
            f'algorithm={algorithm}, cnonce="{cnonce}", qop=auth, nc={nc_text}')
    if "opaque" in challenge:
        line += f', opaque="{challenge["opaque"]}"'
    return line


class Phone:
    """One UDP phone on loopback registering extension `user`. `contact`
    overrides the Contact host:port (a NATed phone writes its private
    address there); by default it is the phone's own socket."""

    def __init__(self, daemon, user, password, contact=None, instance=None):
        self.daemon = daemon
        self.user = user
        self.password = password
        self.peer = duplexd.UdpPeer(daemon.sip_port)
        self.local_port = self.peer.sock.getsockname()[1]
        self.contact = contact or f"127.0.0.1:{self.local_port}"
        self.instance = instance
        self.call_id = uuid.uuid4().hex + "@phone"
        self.cseq = 0
        self.tag = uuid.uuid4().hex[:8]
        self.uri = f"sip:127.0.0.1:{daemon.sip_port}"

    def request(self, expires=None, contact_lines=None, auth_line=None, cseq=None,
                call_id=None):
        if cseq is None:
            self.cseq += 1
            cseq = self.cseq
        if contact_lines is None:
            c = f"Contact: <sip:{self.user}@{self.contact}>"
            if self.instance:
                c += f';+sip.instance="<urn:uuid:{self.instance}>"'
            contact_lines = [c]
        lines = [f"REGISTER {self.uri} SIP/2.0",
                 f"Via: SIP/2.0/UDP {self.contact};branch=z9hG4bK{uuid.uuid4().hex};rport",
                 "Max-Forwards: 70",
                 f"From: <sip:{self.user}@{REALM}>;tag={self.tag}",
                 f"To: <sip:{self.user}@{REALM}>",
                 f"Call-ID: {call_id or self.call_id}",
                 f"CSeq: {cseq} REGISTER",
                 "User-Agent: duplex-protocol-test/1.0"] + list(contact_lines)
        if expires is not None:
            lines.append(f"Expires: {expires}")
        if auth_line:
            lines.append(auth_line)
        lines += ["Content-Length: 0", "", ""]
        return "\r\n".join(lines).encode()

    def send(self, data, timeout=5.0):
        """Sends a request and returns the first final response (status, raw)."""
        self.peer.send(data)
        while True:
            raw = self.peer.recv(timeout)
            if raw is None:
                return None, None
            st = duplexd.status_of(raw)
            if st and st[0] >= 200:
                return st[0], raw

    def register(self, expires=3600, algorithm="SHA-256", password=None, **kw):
        """Challenge, then answer it: returns (status, raw) of the second reply."""
        status, raw = self.send(self.request(expires=expires, **{k: v for k, v in kw.items()
                                                                 if k != "cseq"}))
        if status != 401:
            return status, raw
        challenge = next(c for c in parse_challenges(raw) if c.get("algorithm") == algorithm)
        self.last_challenge = challenge
        line = authorization(challenge, self.user, password or self.password, "REGISTER",
                             self.uri)
        self.last_auth = line
        return self.send(self.request(expires=expires, auth_line=line, **kw))

    def close(self):
        self.peer.close()


def contacts(raw):
    """Contact header values of a 200 OK, split at commas outside <>."""
    out = []
    for value in duplexd.header(raw, "Contact"):
        depth, start = 0, 0
        for i, ch in enumerate(value):
            if ch == "<":
                depth += 1
            elif ch == ">":
                depth -= 1
            elif ch == "," and depth == 0:
                out.append(value[start:i].strip())
                start = i + 1
        out.append(value[start:].strip())
    return [c for c in out if c]
