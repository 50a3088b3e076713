// The schema history, embedded in the binary so that an installed daemon can
// always upgrade the file it finds. Append only: a released migration is never
// edited, because databases in the field already recorded it as applied.
// All times are unix seconds (INTEGER); booleans are INTEGER 0/1.
#include <array>

#include "db/migrations.h"

namespace duplex::db {
namespace {

constexpr std::string_view kInitialSchema = R"sql(
CREATE TABLE extensions (
  id                        INTEGER PRIMARY KEY,
  number                    TEXT    NOT NULL UNIQUE CHECK (length(number) > 0),
  display_name              TEXT    NOT NULL DEFAULT '',
  -- Digest credentials are stored as HA1 = H(user:realm:password) for MD5 and
  -- SHA-256 (RFC 7616 3.4.2), never the password: a stolen database then
  -- does not reveal passwords reused elsewhere. Changing the realm requires
  -- new HA1s, so the realm they were computed for is kept beside them.
  ha1_md5                   TEXT    NOT NULL,
  ha1_sha256                TEXT    NOT NULL,
  realm                     TEXT    NOT NULL,
  enabled                   INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  max_contacts              INTEGER NOT NULL DEFAULT 5 CHECK (max_contacts >= 1),
  dnd                       INTEGER NOT NULL DEFAULT 0 CHECK (dnd IN (0, 1)),
  -- Forwarding targets (a number or SIP URI); NULL means not forwarded.
  forward_unconditional     TEXT,
  forward_busy              TEXT,
  forward_no_answer         TEXT,
  forward_no_answer_seconds INTEGER NOT NULL DEFAULT 25 CHECK (forward_no_answer_seconds > 0),
  voicemail_enabled         INTEGER NOT NULL DEFAULT 0 CHECK (voicemail_enabled IN (0, 1)),
  permissions               TEXT    NOT NULL DEFAULT 'national'
                            CHECK (permissions IN ('internal', 'local', 'national', 'international')),
  -- Concurrent calls to trunks; NULL means no limit.
  max_outside_calls         INTEGER CHECK (max_outside_calls IS NULL OR max_outside_calls >= 0),
  created_at                INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER)),
  updated_at                INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER))
);

CREATE TABLE settings (
  key        TEXT    PRIMARY KEY NOT NULL,
  value      TEXT    NOT NULL,
  -- Secret values (trunk passwords, DynDNS tokens) are hidden by admin GETs.
  secret     INTEGER NOT NULL DEFAULT 0 CHECK (secret IN (0, 1)),
  updated_at INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER))
) WITHOUT ROWID;

-- Registrations, written behind the registrar's in-memory state and reloaded
-- at start-up. No CHECK constraints beyond NOT NULL on purpose: the registrar
-- validated every field already, and one odd row must not fail a whole
-- write-behind batch.
CREATE TABLE bindings (
  id            INTEGER PRIMARY KEY,
  extension_id  INTEGER NOT NULL REFERENCES extensions (id) ON DELETE CASCADE,
  aor           TEXT    NOT NULL,
  contact_uri   TEXT    NOT NULL,  -- as the phone wrote it
  instance_id   TEXT,              -- +sip.instance (RFC 5626 4.1), if sent
  -- Which earlier binding a REGISTER replaces: a phone that sends an instance
  -- id keeps it across reboots even when its contact (port) changes, so it
  -- replaces its own stale binding (RFC 5626 6); otherwise the contact URI is
  -- the identity (RFC 3261 10.3 step 7).
  binding_key   TEXT GENERATED ALWAYS AS (COALESCE(instance_id, contact_uri)) STORED,
  call_id       TEXT    NOT NULL,
  cseq          INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL,
  q             REAL,
  transport     TEXT    NOT NULL,  -- udp, tcp, tls
  local_ip      TEXT    NOT NULL,  -- our address the REGISTER arrived on
  local_port    INTEGER NOT NULL,
  source_ip     TEXT    NOT NULL,  -- where it really came from (rport)
  source_port   INTEGER NOT NULL,
  behind_nat    INTEGER NOT NULL DEFAULT 0,
  user_agent    TEXT    NOT NULL DEFAULT '',
  connection_id INTEGER,           -- TCP/TLS connection, NULL for UDP
  updated_at    INTEGER NOT NULL,
  UNIQUE (extension_id, binding_key)
);
CREATE INDEX bindings_expires_at ON bindings (expires_at);

-- Call detail records. The JSON columns hold what only a diagnosis needs
-- (per-leg advertised vs actual media source, packet counts; the forwarding
-- chain), so new facts do not need a migration.
CREATE TABLE call_records (
  id            INTEGER PRIMARY KEY,
  call_id       TEXT    NOT NULL,
  caller        TEXT    NOT NULL,
  callee        TEXT    NOT NULL,
  dialled       TEXT    NOT NULL,
  start_at      INTEGER NOT NULL,
  answer_at     INTEGER,
  end_at        INTEGER NOT NULL,
  duration_s    INTEGER NOT NULL DEFAULT 0,
  billable_s    INTEGER NOT NULL DEFAULT 0,
  disposition   TEXT    NOT NULL
                CHECK (disposition IN ('answered', 'busy', 'no_answer', 'failed', 'cancelled')),
  hangup_side   TEXT    NOT NULL DEFAULT '',
  hangup_cause  TEXT    NOT NULL DEFAULT '',
  forward_steps TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(forward_steps)),
  media_facts   TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(media_facts)),
  diagnosis     TEXT
);
-- Queries filter by one of these and page in start_at order, hence the
-- second column.
CREATE INDEX call_records_start_at ON call_records (start_at);
CREATE INDEX call_records_caller ON call_records (caller, start_at);
CREATE INDEX call_records_callee ON call_records (callee, start_at);
CREATE INDEX call_records_disposition ON call_records (disposition, start_at);
CREATE INDEX call_records_call_id ON call_records (call_id);

-- Generated secrets (the digest nonce HMAC key), created on first start.
CREATE TABLE secrets (
  name       TEXT    PRIMARY KEY NOT NULL,
  value      BLOB    NOT NULL,
  created_at INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER))
) WITHOUT ROWID;
)sql";

// Migration 2 (admin issue): the admin login and the bearer tokens. Only
// hashes are stored: the password as a PBKDF2 string, each token as the hex
// SHA-256 of its text, so a copy of the database opens no door.
constexpr std::string_view kAdminAuth = R"sql(
CREATE TABLE admin_users (
  name          TEXT    PRIMARY KEY NOT NULL,
  -- "pbkdf2-sha256$<iterations>$<salt, base64>$<derived key, base64>"
  password_hash TEXT    NOT NULL,
  updated_at    INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER))
) WITHOUT ROWID;

CREATE TABLE admin_tokens (
  id         INTEGER PRIMARY KEY,
  token_hash TEXT    NOT NULL UNIQUE,  -- lowercase hex SHA-256 of the bearer token
  kind       TEXT    NOT NULL CHECK (kind IN ('session', 'api')),
  scope      TEXT    NOT NULL CHECK (scope IN ('read', 'full')),
  name       TEXT    NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  expires_at INTEGER             -- unix seconds; NULL = does not expire
);
CREATE INDEX admin_tokens_expires_at ON admin_tokens (expires_at);
)sql";

// Migration 3 (trunks issue): SIP trunks, outbound routes with their ordered
// trunk lists, inbound numbers. Lists of words without commas (codecs,
// extra addresses) are stored comma-separated. The dialing rules
// (dialing.*) are admin settings in the settings table.
constexpr std::string_view kTrunks = R"sql(
CREATE TABLE trunks (
  id                INTEGER PRIMARY KEY,
  name              TEXT    NOT NULL UNIQUE CHECK (length(name) > 0),
  enabled           INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  host              TEXT    NOT NULL CHECK (length(host) > 0),
  port              INTEGER NOT NULL DEFAULT 5060 CHECK (port BETWEEN 1 AND 65535),
  transport         TEXT    NOT NULL DEFAULT 'udp' CHECK (transport IN ('udp', 'tcp')),
  username          TEXT    NOT NULL,
  -- Plain text on purpose: the client digest toward the provider needs the
  -- password for the realm and algorithm the provider picks. The admin API
  -- never returns it.
  password          TEXT    NOT NULL,
  auth_username     TEXT    NOT NULL DEFAULT '',
  realm             TEXT    NOT NULL DEFAULT '',
  register          INTEGER NOT NULL DEFAULT 1 CHECK (register IN (0, 1)),
  register_interval INTEGER NOT NULL DEFAULT 600 CHECK (register_interval BETWEEN 60 AND 3600),
  outbound_proxy    TEXT    NOT NULL DEFAULT '',
  caller_id         TEXT    NOT NULL DEFAULT '',
  max_calls         INTEGER CHECK (max_calls IS NULL OR max_calls >= 0),  -- NULL: no limit
  codecs            TEXT    NOT NULL DEFAULT '',  -- comma-separated encoding names
  from_domain       TEXT    NOT NULL DEFAULT '',
  from_user         TEXT    NOT NULL DEFAULT '',
  extra_addresses   TEXT    NOT NULL DEFAULT '',  -- comma-separated IPs / CIDRs
  created_at        INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER)),
  updated_at        INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER))
);

CREATE TABLE outbound_routes (
  id         INTEGER PRIMARY KEY,
  name       TEXT    NOT NULL UNIQUE CHECK (length(name) > 0),
  position   INTEGER NOT NULL DEFAULT 0,
  enabled    INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  pattern    TEXT    NOT NULL CHECK (length(pattern) > 0),
  strip      INTEGER NOT NULL DEFAULT 0 CHECK (strip BETWEEN 0 AND 20),
  prefix     TEXT    NOT NULL DEFAULT '',
  caller_id  TEXT    NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER)),
  updated_at INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER))
);
CREATE INDEX outbound_routes_position ON outbound_routes (position, id);

-- A route's trunks in order of preference (rank 0 first). A trunk in use
-- cannot be deleted (RESTRICT): the admin API says which route holds it.
CREATE TABLE outbound_route_trunks (
  route_id INTEGER NOT NULL REFERENCES outbound_routes (id) ON DELETE CASCADE,
  trunk_id INTEGER NOT NULL REFERENCES trunks (id) ON DELETE RESTRICT,
  rank     INTEGER NOT NULL CHECK (rank >= 0),
  PRIMARY KEY (route_id, rank),
  UNIQUE (route_id, trunk_id)
) WITHOUT ROWID;
CREATE INDEX outbound_route_trunks_trunk ON outbound_route_trunks (trunk_id);

-- DIDs. Deleting the extension deletes its numbers (calls to them then go
-- to dialing.inbound_default); a trunk named here cannot be deleted.
CREATE TABLE inbound_numbers (
  id           INTEGER PRIMARY KEY,
  number       TEXT    NOT NULL UNIQUE CHECK (length(number) > 0),
  extension_id INTEGER NOT NULL REFERENCES extensions (id) ON DELETE CASCADE,
  trunk_id     INTEGER REFERENCES trunks (id) ON DELETE RESTRICT,
  created_at   INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER)),
  updated_at   INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER))
);
CREATE INDEX inbound_numbers_extension ON inbound_numbers (extension_id);
CREATE INDEX inbound_numbers_trunk ON inbound_numbers (trunk_id);
)sql";

// Migration 4 (trunks issue, call half): a call record names the trunk an
// outside call used and the number sent to the provider (after the route's
// digit manipulation). Internal calls keep "" in both.
constexpr std::string_view kCallRecordTrunk = R"sql(
ALTER TABLE call_records ADD COLUMN trunk TEXT NOT NULL DEFAULT '';
ALTER TABLE call_records ADD COLUMN sent_number TEXT NOT NULL DEFAULT '';
)sql";

constexpr std::array kMigrations{
    Migration{1, "initial schema", kInitialSchema},
    Migration{2, "admin users and tokens", kAdminAuth},
    Migration{3, "trunks, routes and inbound numbers", kTrunks},
    Migration{4, "call records name the trunk", kCallRecordTrunk},
};

}  // namespace

std::span<const Migration> builtinMigrations() {
  return kMigrations;
}

}  // namespace duplex::db
