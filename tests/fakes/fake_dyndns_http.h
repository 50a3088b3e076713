// A fake DynDnsHttp (nat/dyndns.h): records every request and answers with
// the configured HTTP status and body (status 0 = network error).
#pragma once

#include <string>
#include <vector>

#include "nat/dyndns.h"

namespace duplex::nat::fakes {

class FakeDynDnsHttp final : public DynDnsHttp {
 public:
  struct Request {
    std::string url, user, password, user_agent;
  };
  int status = 200;
  std::string body = "good";
  std::vector<Request> requests;

  DynDnsReply get(const std::string& url, const std::string& user, const std::string& password,
                  const std::string& user_agent) override {
    requests.push_back({url, user, password, user_agent});
    if (status == 0) return {0, "", "connection refused"};
    return {status, body, ""};
  }
};

}  // namespace duplex::nat::fakes
