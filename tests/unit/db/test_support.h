// Shared helpers of the db unit tests.
//
// TempDatabaseFile: a database FILE for one test (STYLE.md 15: hermetic, no shared state):
// created with mkstemp under /tmp, removed with its WAL and shared-memory
// files when the test ends.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "db/binding_repository.h"
#include "db/database.h"
#include "db/extension_repository.h"

namespace duplex::db::testing {

class TempDatabaseFile {
 public:
  TempDatabaseFile() {
    char name[] = "/tmp/duplex-db-test-XXXXXX";
    const int fd = mkstemp(name);
    if (fd < 0) throw std::runtime_error("mkstemp failed");
    close(fd);
    // SQLite treats an empty file as a new database.
    path_ = name;
  }
  ~TempDatabaseFile() {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      unlink((path_ + suffix).c_str());
    }
  }
  TempDatabaseFile(const TempDatabaseFile&) = delete;
  TempDatabaseFile& operator=(const TempDatabaseFile&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A valid extension with every field set, so round-trip tests cover them all.
inline ExtensionRecord sampleExtension(std::string number) {
  ExtensionRecord r;
  r.number = std::move(number);
  r.displayName = "Reception " + r.number;
  r.ha1Md5 = "0123456789abcdef0123456789abcdef";
  r.ha1Sha256 = std::string(64, 'a');
  r.realm = "office.example";
  r.enabled = true;
  r.maxContacts = 3;
  r.dnd = false;
  r.forwardBusy = "200";
  r.forwardNoAnswer = "sip:voicemail@office.example";
  r.forwardNoAnswerSeconds = 20;
  r.voicemailEnabled = true;
  r.permissions = CallPermission::local;
  r.maxOutsideCalls = 2;
  return r;
}

// Binding `n` of an extension: distinct contact per n, a NATed phone.
inline BindingRecord sampleBinding(std::int64_t extensionId, int n, std::int64_t expiresAt) {
  BindingRecord b;
  b.extensionId = extensionId;
  b.aor = "sip:" + std::to_string(extensionId) + "@office.example";
  b.contactUri = "sip:" + std::to_string(extensionId) +
                 "@192.168.1.20:" + std::to_string(5060 + n % 1000) + ";n=" + std::to_string(n);
  b.callId = "call-" + std::to_string(n);
  b.cseq = static_cast<std::uint32_t>(n + 1);
  b.expiresAt = expiresAt;
  b.transport = "udp";
  b.localIp = "192.168.1.2";
  b.localPort = 5060;
  b.sourceIp = "203.0.113.7";
  b.sourcePort = static_cast<std::uint16_t>(40000 + n % 20000);
  b.behindNat = true;
  b.userAgent = "TestPhone/1.0";
  b.updatedAt = expiresAt - 3600;
  return b;
}

}  // namespace duplex::db::testing
