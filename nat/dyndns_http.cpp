// PocoDynDnsHttp: the one place in nat/ that speaks HTTP(S).
#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPBasicCredentials.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/RejectCertificateHandler.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <memory>
#include <mutex>
#include <sstream>

#include "nat/dyndns.h"

namespace duplex::nat {
namespace {

// Poco's default handler for an untrusted certificate asks on the console; a
// daemon must refuse instead (once per process, client side only).
void rejectUntrustedCertificates() {
  static std::once_flag once;
  std::call_once(once, [] {
    Poco::SharedPtr<Poco::Net::InvalidCertificateHandler> reject =
        new Poco::Net::RejectCertificateHandler(false);
    const Poco::Net::Context::Ptr context(new Poco::Net::Context(
        Poco::Net::Context::TLS_CLIENT_USE, "", Poco::Net::Context::VERIFY_RELAXED, 9, true));
    Poco::Net::SSLManager::instance().initializeClient(nullptr, reject, context);
  });
}

}  // namespace

DynDnsReply PocoDynDnsHttp::get(const std::string& url, const std::string& user,
                                const std::string& password, const std::string& user_agent) {
  DynDnsReply reply;
  try {
    const Poco::URI uri(url);
    std::unique_ptr<Poco::Net::HTTPClientSession> session;
    if (uri.getScheme() == "https") {
      rejectUntrustedCertificates();
      // Verify the provider's certificate against the system CAs.
      const Poco::Net::Context::Ptr context(new Poco::Net::Context(
          Poco::Net::Context::TLS_CLIENT_USE, "", Poco::Net::Context::VERIFY_RELAXED, 9, true));
      session =
          std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort(), context);
    } else if (uri.getScheme() == "http") {
      session = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
    } else {
      reply.error = "not an http(s) URL: " + url;
      return reply;
    }
    session->setTimeout(Poco::Timespan(10, 0));
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, uri.getPathAndQuery(),
                                   Poco::Net::HTTPMessage::HTTP_1_1);
    request.set("User-Agent", user_agent);
    Poco::Net::HTTPBasicCredentials(user, password).authenticate(request);
    session->sendRequest(request);
    Poco::Net::HTTPResponse response;
    std::istream& in = session->receiveResponse(response);
    std::string body;
    char buf[1024];
    while (body.size() < 4096 && in.read(buf, sizeof buf).gcount() > 0) {
      body.append(buf, static_cast<std::size_t>(in.gcount()));
    }
    reply.http_status = static_cast<int>(response.getStatus());
    reply.body = std::move(body);
  } catch (const Poco::Exception& e) {
    reply.error = e.displayText();
  } catch (const std::exception& e) {
    reply.error = e.what();
  }
  return reply;
}

}  // namespace duplex::nat
