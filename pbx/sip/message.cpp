// Message model: ownership of the bytes behind the views, header access and
// editing, building requests and responses (RFC 3261 7, 8.2.6.2).
#include "pbx/sip/message.h"

#include <algorithm>
#include <cstring>

#include "pbx/sip/scanner.h"

namespace duplex::sip {

namespace {

// First owned block: a Via stamp or a short response's reason and values fit;
// later blocks double (up to kMaxBlock) or take what one copy needs.
constexpr std::size_t kFirstBlock = 192;
constexpr std::size_t kMaxBlock = 4096;

bool matches(const Header& h, HeaderId id, std::string_view name) {
  if (id != HeaderId::kOther) return h.id == id;
  return h.id == HeaderId::kOther && scan::iequals(h.name, name);
}

// Canonical name for known headers (static text, nothing to own).
std::string_view storedName(HeaderId id) {
  return id == HeaderId::kOther ? std::string_view{} : canonicalHeaderName(id);
}

}  // namespace

// One allocation: this header followed by `capacity` bytes of text.
struct Message::OwnedBlock {
  OwnedBlock* older;
  std::size_t size;
  std::size_t capacity;
  char* text() { return reinterpret_cast<char*>(this + 1); }
  const char* text() const { return reinterpret_cast<const char*>(this + 1); }
};

Message::OwnedText& Message::OwnedText::operator=(OwnedText&& o) noexcept {
  if (this != &o) {
    this->~OwnedText();
    head = std::exchange(o.head, nullptr);
  }
  return *this;
}

Message::OwnedText::~OwnedText() {
  while (head != nullptr) {
    OwnedBlock* older = head->older;
    ::operator delete(static_cast<void*>(head));
    head = older;
  }
}

Message::Message() = default;
Message::~Message() = default;
Message::Message(Message&&) noexcept = default;
Message& Message::operator=(Message&&) noexcept = default;

void Message::reserveOwned(std::size_t bytes) {
  OwnedBlock* head = owned_.head;
  if (head != nullptr && head->capacity - head->size >= bytes) return;
  std::size_t capacity = head == nullptr ? kFirstBlock : std::min(2 * head->capacity, kMaxBlock);
  capacity = std::max(capacity, bytes);
  auto* block = static_cast<OwnedBlock*>(::operator new(sizeof(OwnedBlock) + capacity));
  *block = OwnedBlock{head, 0, capacity};
  owned_.head = block;
}

// Copies `text` into owned storage. Blocks never move or grow, so views into
// them stay valid until the Message dies.
std::string_view Message::own(std::string_view text) {
  if (text.empty()) return {};
  reserveOwned(text.size());
  OwnedBlock* block = owned_.head;
  char* at = block->text() + block->size;
  std::memcpy(at, text.data(), text.size());
  block->size += text.size();
  return std::string_view(at, text.size());
}

bool Message::ownsText(std::string_view v) const {
  for (const OwnedBlock* b = owned_.head; b != nullptr; b = b->older) {
    if (v.data() >= b->text() && v.data() + v.size() <= b->text() + b->size) return true;
  }
  return false;
}

Message Message::clone() const {
  Message m;
  m.buffer_ = buffer_;
  if (m.buffer_.capacity() < 16) m.buffer_.reserve(16);  // heap-held, see parse()
  // Views into the received bytes are rebased onto the copy; owned text is
  // copied (only what is still in use); static text stays as is.
  auto rebase = [&](std::string_view v) -> std::string_view {
    if (v.empty()) return v;
    if (v.data() >= buffer_.data() && v.data() + v.size() <= buffer_.data() + buffer_.size()) {
      return std::string_view(m.buffer_.data() + (v.data() - buffer_.data()), v.size());
    }
    return ownsText(v) ? m.own(v) : v;
  };
  m.is_request_ = is_request_;
  m.method_ = method_;
  m.method_token_ = rebase(method_token_);
  m.request_uri_text_ = rebase(request_uri_text_);
  if (auto uri = Uri::parse(m.request_uri_text_)) m.request_uri_ = std::move(*uri);
  m.version_ = rebase(version_);
  m.status_ = status_;
  m.reason_ = rebase(reason_);
  m.headers_.reserve(headers_.size());
  for (const auto& h : headers_) m.headers_.push_back({h.id, rebase(h.name), rebase(h.value)});
  m.body_ = rebase(body_);
  m.origin_ = origin_;
  return m;
}

// --- building ---

Message Message::request(Method method, std::string_view request_uri) {
  return request(methodName(method), request_uri);
}

Message Message::request(std::string_view method_token, std::string_view request_uri) {
  Message m;
  m.is_request_ = true;
  m.method_ = methodFromName(method_token);
  m.method_token_ = m.method_ == Method::kUnknown ? m.own(method_token) : methodName(m.method_);
  m.version_ = "SIP/2.0";
  m.setRequestUri(request_uri);
  m.headers_.reserve(16);
  return m;
}

Message Message::response(int status, std::string_view reason) {
  Message m;
  m.is_request_ = false;
  m.status_ = status;
  m.reason_ = m.own(reason);
  m.version_ = "SIP/2.0";
  m.headers_.reserve(16);
  return m;
}

// RFC 3261 8.2.6.2: Via (all, in order), From, To, Call-ID and CSeq are
// copied; the To tag is added when the request's To has none. The response
// also gets "Content-Length: 0" so it frames on streams; setBody() updates it.
Message Message::responseTo(const Message& req, int status, std::string_view reason,
                            std::string_view to_tag) {
  Message m;
  m.is_request_ = false;
  m.status_ = status;
  m.version_ = "SIP/2.0";
  // One owned block holds everything copied below.
  std::size_t need = reason.size() + to_tag.size() + 6;
  std::size_t lines = 2;
  for (const auto& h : req.headers_) {
    switch (h.id) {
      case HeaderId::kVia:
      case HeaderId::kFrom:
      case HeaderId::kTo:
      case HeaderId::kCallId:
      case HeaderId::kCSeq:
        need += h.value.size();
        ++lines;
        break;
      default:
        break;
    }
  }
  m.reserveOwned(need);
  m.headers_.reserve(lines);
  m.reason_ = m.own(reason);
  for (const auto& h : req.headers_) {
    if (h.id == HeaderId::kVia) m.addHeader("Via", h.value);
  }
  if (auto from = req.header(HeaderId::kFrom)) m.addHeader("From", *from);
  if (auto to = req.header(HeaderId::kTo)) {
    std::optional<Result<NameAddr>> parsed;
    if (!to_tag.empty()) parsed.emplace(NameAddr::parse(*to));
    if (parsed && parsed->ok() && !(*parsed)->param("tag")) {
      m.reserveOwned(to->size() + 5 + to_tag.size());  // contiguous in one block
      const std::size_t at = m.owned_.head->size;
      std::string_view value = m.own(*to);
      m.own(";tag=");
      m.own(to_tag);
      value = std::string_view(value.data(), m.owned_.head->size - at);
      m.headers_.push_back({HeaderId::kTo, canonicalHeaderName(HeaderId::kTo), value});
    } else {
      m.addHeader("To", *to);
    }
  }
  if (auto call_id = req.header(HeaderId::kCallId)) m.addHeader("Call-ID", *call_id);
  if (auto cseq = req.header(HeaderId::kCSeq)) m.addHeader("CSeq", *cseq);
  m.headers_.push_back({HeaderId::kContentLength, "Content-Length", "0"});
  return m;
}

void Message::setRequestUri(std::string_view uri_text) {
  request_uri_text_ = own(uri_text);
  auto uri = Uri::parse(request_uri_text_);
  request_uri_ = uri ? std::move(*uri) : Uri{};
}

// --- headers ---

std::optional<std::string_view> Message::header(HeaderId id) const {
  for (const auto& h : headers_) {
    if (h.id == id) return h.value;
  }
  return std::nullopt;
}

std::optional<std::string_view> Message::header(std::string_view name) const {
  const HeaderId id = headerIdFromName(name);
  for (const auto& h : headers_) {
    if (matches(h, id, name)) return h.value;
  }
  return std::nullopt;
}

std::size_t Message::headerLineCount(HeaderId id) const {
  return static_cast<std::size_t>(std::count_if(headers_.begin(), headers_.end(),
                                                [id](const Header& h) { return h.id == id; }));
}

std::vector<std::string_view> Message::headerValues(HeaderId id) const {
  std::vector<std::string_view> out;
  for (const auto& h : headers_) {
    if (h.id != id) continue;
    if (isListHeader(id)) {
      auto parts = splitHeaderList(h.value);
      out.insert(out.end(), parts.begin(), parts.end());
    } else {
      out.push_back(h.value);
    }
  }
  return out;
}

std::vector<std::string_view> Message::headerValues(std::string_view name) const {
  const HeaderId id = headerIdFromName(name);
  if (id != HeaderId::kOther) return headerValues(id);
  std::vector<std::string_view> out;
  for (const auto& h : headers_) {
    if (matches(h, id, name)) out.push_back(h.value);  // unknown headers are never split
  }
  return out;
}

void Message::addHeader(std::string_view name, std::string_view value) {
  const HeaderId id = headerIdFromName(name);
  if (id == HeaderId::kCSeq) cseq_cached_ = false;
  if (id == HeaderId::kVia) top_via_.reset();
  const std::string_view stored = storedName(id);
  headers_.push_back({id, stored.empty() ? own(name) : stored, own(scan::trim(value))});
}

void Message::prependHeader(std::string_view name, std::string_view value) {
  const HeaderId id = headerIdFromName(name);
  if (id == HeaderId::kCSeq) cseq_cached_ = false;
  if (id == HeaderId::kVia) top_via_.reset();
  const std::string_view stored = storedName(id);
  headers_.insert(headers_.begin(),
                  {id, stored.empty() ? own(name) : stored, own(scan::trim(value))});
}

void Message::setHeader(std::string_view name, std::string_view value) {
  const HeaderId id = headerIdFromName(name);
  if (id == HeaderId::kCSeq) cseq_cached_ = false;
  if (id == HeaderId::kVia) top_via_.reset();
  auto first = std::find_if(headers_.begin(), headers_.end(),
                            [&](const Header& h) { return matches(h, id, name); });
  if (first == headers_.end()) {
    addHeader(name, value);
    return;
  }
  first->value = own(scan::trim(value));
  headers_.erase(std::remove_if(first + 1, headers_.end(),
                                [&](const Header& h) { return matches(h, id, name); }),
                 headers_.end());
}

std::size_t Message::removeHeader(std::string_view name) {
  const HeaderId id = headerIdFromName(name);
  if (id == HeaderId::kCSeq) cseq_cached_ = false;
  if (id == HeaderId::kVia) top_via_.reset();
  const std::size_t before = headers_.size();
  std::erase_if(headers_, [&](const Header& h) { return matches(h, id, name); });
  return before - headers_.size();
}

void Message::removeFirstHeader(HeaderId id) {
  if (id == HeaderId::kCSeq) cseq_cached_ = false;
  if (id == HeaderId::kVia) top_via_.reset();
  auto it =
      std::find_if(headers_.begin(), headers_.end(), [id](const Header& h) { return h.id == id; });
  if (it != headers_.end()) headers_.erase(it);
}

// --- body ---

void Message::setBody(std::string_view content_type, std::string_view body) {
  body_ = own(body);
  if (content_type.empty()) {
    removeHeader("Content-Type");
  } else {
    setHeader("Content-Type", content_type);
  }
  setHeader("Content-Length", std::to_string(body.size()));
}

}  // namespace duplex::sip
