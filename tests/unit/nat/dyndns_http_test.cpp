// The real DynDNS HTTP client (PocoDynDnsHttp) against a small dyndns2
// server on loopback answering each return code in turn: what the provider
// receives and what the updater makes of each answer.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "nat/dyndns.h"

namespace duplex::nat {
namespace {

// Accepts one connection at a time, records the request head, answers `body`.
class Dyndns2Server {
 public:
  explicit Dyndns2Server(std::string body) : body_(std::move(body)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(fd_, 4);
    thread_ = std::thread([this] { serve(); });
  }
  ~Dyndns2Server() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/nic/update"; }
  std::string request() const { return request_; }
  int requests() const { return count_; }

 private:
  void serve() {
    while (true) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string head;
      char buf[1024];
      while (head.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        head.append(buf, static_cast<std::size_t>(n));
      }
      request_ = head;
      ++count_;
      const std::string reply = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                                std::to_string(body_.size()) + "\r\nConnection: close\r\n\r\n" +
                                body_;
      ::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
      ::close(c);
    }
  }

  std::string body_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::string request_;
  std::atomic<int> count_{0};
};

struct Case {
  const char* body;
  const char* result;
  bool stopped;
};

class DynDnsOverHttp : public testing::TestWithParam<Case> {};

TEST_P(DynDnsOverHttp, EachAnswerEndsInTheRightState) {
  const Case& c = GetParam();
  Dyndns2Server server(c.body);
  ManualClock clock;
  PocoDynDnsHttp http;
  DynDnsSettings s;
  s.url = server.url();
  s.hostname = "office.example.test";
  s.user = "alice";
  s.password = "s3cret";
  DynDnsUpdater updater(http, clock, s, "Duplex PBX/0.1.0");
  updater.onPublicAddress("203.0.113.7");
  EXPECT_EQ(updater.status().last_result, c.result) << updater.status().text;
  EXPECT_EQ(updater.status().stopped, c.stopped);
  const std::string req = server.request();
  EXPECT_EQ(
      req.rfind("GET /nic/update?hostname=office.example.test&myip=203.0.113.7 HTTP/1.1\r\n", 0),
      0u)
      << req;
  EXPECT_NE(req.find("Authorization: Basic YWxpY2U6czNjcmV0\r\n"), std::string::npos) << req;
  EXPECT_NE(req.find("User-Agent: Duplex PBX/0.1.0\r\n"), std::string::npos) << req;
  // Whatever the answer, the same address never causes a second request at once.
  updater.onPublicAddress("203.0.113.7");
  updater.tick();
  EXPECT_EQ(server.requests(), 1);
}

INSTANTIATE_TEST_SUITE_P(
    Codes, DynDnsOverHttp,
    testing::Values(Case{"good 203.0.113.7", "good", false},
                    Case{"nochg 203.0.113.7", "nochg", false}, Case{"badauth", "badauth", true},
                    Case{"notfqdn", "notfqdn", true}, Case{"nohost", "nohost", true},
                    Case{"numhost", "numhost", true}, Case{"abuse", "abuse", true},
                    Case{"badagent", "badagent", true}, Case{"!donator", "!donator", true},
                    Case{"dnserr", "dnserr", false}, Case{"911", "911", false},
                    Case{"<html>Service Unavailable</html>", "garbage", false}));

TEST(DynDnsOverHttpDown, UnreachableProviderIsRetriedLater) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);  // nothing listens on this port now
  ManualClock clock;
  PocoDynDnsHttp http;
  DynDnsSettings s;
  s.url = "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/nic/update";
  s.hostname = "office.example.test";
  DynDnsUpdater updater(http, clock, s, "ua");
  updater.onPublicAddress("203.0.113.7");
  EXPECT_EQ(updater.status().last_result, "error");
  EXPECT_FALSE(updater.status().stopped);
  EXPECT_EQ(updater.nextDue(), clock.now() + std::chrono::minutes(30));
}

}  // namespace
}  // namespace duplex::nat

namespace duplex::nat {
namespace {

// HTTPS to a server whose certificate no CA signed: refused, never accepted,
// never a question on the console, and retried later like any failure.
TEST(DynDnsOverHttps, UntrustedCertificateIsRefused) {
  char dir_template[] = "/tmp/duplex-dyndns-tls-XXXXXX";
  const std::string dir = ::mkdtemp(dir_template);
  const std::string gen =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -keyout " + dir +
      "/key.pem -out " + dir + "/cert.pem >/dev/null 2>&1";
  ASSERT_EQ(std::system(gen.c_str()), 0);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  const std::string port = std::to_string(ntohs(a.sin_port));
  const std::string serve =
      "cd " + dir + " && (openssl s_server -quiet -www -accept 127.0.0.1:" + port +
      " -cert cert.pem -key key.pem </dev/null >/dev/null 2>&1 & echo $! > pid)";
  ASSERT_EQ(std::system(serve.c_str()), 0);
  for (int i = 0; i < 50; ++i) {  // until it listens
    int c = ::socket(AF_INET, SOCK_STREAM, 0);
    const bool up = ::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(c);
    if (up) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  PocoDynDnsHttp http;
  const DynDnsReply reply = http.get(
      "https://127.0.0.1:" + port + "/nic/update?hostname=x&myip=203.0.113.7", "u", "p", "ua");
  std::system(("kill $(cat " + dir + "/pid); rm -rf " + dir).c_str());
  EXPECT_EQ(reply.http_status, 0);
  EXPECT_NE(reply.error.find("ertificate"), std::string::npos) << reply.error;
}

}  // namespace
}  // namespace duplex::nat
