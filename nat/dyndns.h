// The DynDNS updater (dyndns2 protocol: DynDNS, No-IP and most routers'
// providers): GET <url>?hostname=<name>&myip=<ip> with basic auth and a
// User-Agent naming the PBX and its version. Internal to nat/.
//
// DynDnsUpdater holds the decisions and is socket-free: it asks a DynDnsHttp
// (PocoDynDnsHttp for real, a fake in tests) and reads the injected Clock.
// It updates only when the public address differs from the last successful
// update, at most once per min_interval, never in a loop: every answer ends
// in one of
//   good, nochg                  -> done (nochg is fine);
//   badauth, notfqdn, nohost, numhost, abuse, badagent, !donator
//                                -> fatal: no more requests until the
//                                   settings change (a new updater);
//   dnserr, 911, garbage, HTTP or network errors
//                                -> retry after 30 minutes (at the earliest).
// Thread: the NAT worker only. Errors: none thrown; see status().
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <spdlog/logger.h>

#include "nat/clock.h"
#include "nat/nat_service.h"
#include "nat/nat_status.h"

namespace duplex::nat {

struct DynDnsReply {
  int http_status = 0;  // 0 = no HTTP answer (see error)
  std::string body;
  std::string error;  // transport failure, e.g. "connection refused", "certificate not trusted"
};

class DynDnsHttp {
 public:
  virtual ~DynDnsHttp() = default;
  // Blocking GET with basic auth; never throws.
  virtual DynDnsReply get(const std::string& url, const std::string& user,
                          const std::string& password, const std::string& user_agent) = 0;
};

// http:// or https:// (certificate verified against the system CAs), 10 s timeout.
class PocoDynDnsHttp final : public DynDnsHttp {
 public:
  DynDnsReply get(const std::string& url, const std::string& user, const std::string& password,
                  const std::string& user_agent) override;
};

// "dyndns" and "noip" presets, else the URL itself; "" for "" (off).
std::string dynDnsPresetUrl(const std::string& provider_or_url);

class DynDnsUpdater {
 public:
  static constexpr std::chrono::minutes kRetryAfter{30};

  DynDnsUpdater(DynDnsHttp& http, const Clock& clock, DynDnsSettings settings,
                std::string user_agent, std::shared_ptr<spdlog::logger> log = nullptr);

  // The current public address (possibly unchanged); sends an update if due.
  void onPublicAddress(const std::string& ip);
  void tick();  // a retry or a deferred update that is now due
  // DNS already answers `ip` for the host name (e.g. after a restart, when
  // this run has not updated yet): count it as published, send nothing.
  void alreadyPublished(const std::string& ip);
  Clock::TimePoint nextDue() const { return next_due_; }
  const DynDnsStatus& status() const { return status_; }
  std::string requestUrl(const std::string& ip) const;

 private:
  void maybeUpdate();
  void handle(const DynDnsReply& reply, const std::string& ip);
  void setResult(std::string code, std::string text, bool log_warn);

  DynDnsHttp& http_;
  const Clock& clock_;
  DynDnsSettings settings_;
  std::string user_agent_;
  std::shared_ptr<spdlog::logger> log_;
  DynDnsStatus status_;
  std::string wanted_ip_;
  std::string done_ip_;  // last successful update
  Clock::TimePoint earliest_{};
  Clock::TimePoint next_due_ = Clock::TimePoint::max();
  bool attempted_ = false;
};

}  // namespace duplex::nat
