// Message::serialize (RFC 3261 7): start line, "Name: value" CRLF per header
// in order, empty line, body. Values are written as stored (folding kept).
#include "pbx/sip/message.h"

namespace duplex::sip {

void Message::serializeTo(std::string& out) const {
  std::size_t need =
      32 + request_uri_text_.size() + method_token_.size() + reason_.size() + body_.size();
  for (const auto& h : headers_) need += h.name.size() + h.value.size() + 4;
  out.reserve(out.size() + need);
  const std::string_view version = version_.empty() ? std::string_view("SIP/2.0") : version_;
  if (is_request_) {
    out.append(method_token_).append(" ").append(request_uri_text_).append(" ").append(version);
  } else {
    const int status = status_ >= 0 && status_ <= 999 ? status_ : 500;
    const char code[4] = {static_cast<char>('0' + status / 100),
                          static_cast<char>('0' + (status / 10) % 10),
                          static_cast<char>('0' + status % 10), ' '};
    out.append(version).append(" ").append(code, 4).append(reason_);
  }
  out.append("\r\n");
  for (const auto& h : headers_) {
    out.append(h.name).append(": ").append(h.value).append("\r\n");
  }
  out.append("\r\n");
  out.append(body_);
}

std::string Message::serialize() const {
  std::string out;
  serializeTo(out);
  return out;
}

}  // namespace duplex::sip
