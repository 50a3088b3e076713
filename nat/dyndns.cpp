#include "nat/dyndns.h"

#include <spdlog/spdlog.h>

#include <cctype>

namespace duplex::nat {
namespace {

std::string urlEncode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

struct Meaning {
  const char* code;
  const char* text;
  bool fatal;
};

// RFC-less but stable: the dyndns2 return codes.
constexpr Meaning kMeanings[] = {
    {"badauth", "the provider rejected the user name or password (dyndns.user, dyndns.password)",
     true},
    {"notfqdn", "the host name is not a fully qualified domain name (dyndns.hostname)", true},
    {"nohost", "the host name does not exist in this account (dyndns.hostname)", true},
    {"numhost", "too many host names in one update", true},
    {"abuse", "the provider blocked the host name for abuse", true},
    {"badagent", "the provider rejected this client (User-Agent)", true},
    {"!donator", "the provider says this feature needs a paid account", true},
    {"dnserr", "the provider has a DNS error", false},
    {"911", "the provider has a problem on its side", false},
};

}  // namespace

std::string dynDnsPresetUrl(const std::string& provider_or_url) {
  if (provider_or_url == "dyndns") return "https://members.dyndns.org/nic/update";
  if (provider_or_url == "noip") return "https://dynupdate.no-ip.com/nic/update";
  return provider_or_url;
}

DynDnsUpdater::DynDnsUpdater(DynDnsHttp& http, const Clock& clock, DynDnsSettings settings,
                             std::string user_agent, std::shared_ptr<spdlog::logger> log)
    : http_(http),
      clock_(clock),
      settings_(std::move(settings)),
      user_agent_(std::move(user_agent)),
      log_(std::move(log)) {
  if (!log_) log_ = spdlog::get("nat");
  if (!log_) log_ = spdlog::default_logger();
  status_.enabled = !settings_.url.empty() && !settings_.hostname.empty();
  status_.hostname = settings_.hostname;
}

std::string DynDnsUpdater::requestUrl(const std::string& ip) const {
  const char sep = settings_.url.find('?') == std::string::npos ? '?' : '&';
  return settings_.url + sep + "hostname=" + urlEncode(settings_.hostname) +
         "&myip=" + urlEncode(ip);
}

void DynDnsUpdater::onPublicAddress(const std::string& ip) {
  wanted_ip_ = ip;
  maybeUpdate();
}

void DynDnsUpdater::alreadyPublished(const std::string& ip) {
  if (!status_.enabled || attempted_ || ip.empty() || done_ip_ == ip) return;
  done_ip_ = ip;
  status_.last_address = ip;
  setResult("dns", settings_.hostname + " already points to " + ip + " (DNS); no update needed",
            false);
}

void DynDnsUpdater::tick() {
  maybeUpdate();
}

void DynDnsUpdater::maybeUpdate() {
  next_due_ = Clock::TimePoint::max();
  if (!status_.enabled || status_.stopped || wanted_ip_.empty() || wanted_ip_ == done_ip_) return;
  const auto now = clock_.now();
  if (attempted_ && now < earliest_) {
    next_due_ = earliest_;
    return;
  }
  attempted_ = true;
  earliest_ = now + settings_.min_interval;
  status_.last_attempt = clock_.wallNow();
  const std::string ip = wanted_ip_;
  handle(http_.get(requestUrl(ip), settings_.user, settings_.password, user_agent_), ip);
  if (!status_.stopped && wanted_ip_ != done_ip_) next_due_ = earliest_;
}

void DynDnsUpdater::setResult(std::string code, std::string text, bool log_warn) {
  const bool changed = code != status_.last_result || text != status_.text;
  status_.last_result = std::move(code);
  status_.text = std::move(text);
  if (changed) {
    log_->log(log_warn ? spdlog::level::warn : spdlog::level::info, "DynDNS {}: {}",
              settings_.hostname, status_.text);
  }
}

void DynDnsUpdater::handle(const DynDnsReply& reply, const std::string& ip) {
  const auto retry = [&] {
    earliest_ = std::max(
        earliest_,
        clock_.now() + std::chrono::duration_cast<Clock::TimePoint::duration>(kRetryAfter));
  };
  if (reply.http_status == 0) {
    retry();
    setResult("error",
              "the provider could not be reached (" + reply.error + "); retrying in 30 minutes",
              true);
    return;
  }
  // The first word of the first line (one host per update).
  std::string word;
  for (const char c : reply.body) {
    if (c == ' ' || c == '\r' || c == '\n' || c == '\t') {
      if (!word.empty()) break;
      continue;
    }
    if (word.size() > 32) break;
    word += c;
  }
  if (reply.http_status == 200 && (word == "good" || word == "nochg")) {
    done_ip_ = ip;
    status_.last_address = ip;
    status_.last_success = clock_.wallNow();
    setResult(word,
              word == "good" ? settings_.hostname + " now points to " + ip
                             : settings_.hostname + " already pointed to " + ip + " (nochg)",
              false);
    return;
  }
  for (const auto& m : kMeanings) {
    if (word != m.code) continue;
    if (m.fatal) {
      status_.stopped = true;
      setResult(m.code, std::string(m.text) + "; updates stopped until the DynDNS settings change",
                true);
    } else {
      retry();
      setResult(m.code, std::string(m.text) + "; retrying in 30 minutes", true);
    }
    return;
  }
  retry();
  std::string shown = reply.body.substr(0, 60);
  for (char& c : shown) {
    if (!std::isprint(static_cast<unsigned char>(c))) c = '?';
  }
  setResult("garbage",
            "unexpected answer from the provider (HTTP " + std::to_string(reply.http_status) +
                ": '" + shown + "'); retrying in 30 minutes",
            true);
}

}  // namespace duplex::nat
