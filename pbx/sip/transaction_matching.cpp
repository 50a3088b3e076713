// Matching received messages to transactions: requests to server
// transactions (RFC 3261 17.2.3, with the RFC 2543 fallback), responses to
// client transactions (RFC 3261 17.1.3), CANCEL to its INVITE (RFC 3261 9.2).
// Keys are flat strings built into a reused buffer, so a lookup allocates
// nothing once the buffer has grown.
#include <charconv>

#include "pbx/sip/transaction_internal.h"

namespace duplex::sip {
namespace {

constexpr char kSeparator = '\x1f';  // cannot occur in a token, host or URI
constexpr std::string_view kMagicCookie = "z9hG4bK";

void appendLower(std::string& out, std::string_view text) {
  for (char c : text) out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

void appendNumber(std::string& out, std::uint32_t n) {
  char buf[16];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  (void)ec;  // cannot fail for a 32-bit number in 16 bytes
  out.append(buf, end);
}

}  // namespace

bool hasMagicCookie(std::string_view branch) {
  return branch.size() > kMagicCookie.size() && branch.starts_with(kMagicCookie);
}

void buildServerKey(std::string& out, const Via& top, std::string_view method) {
  out.clear();
  out += top.branch;
  out += kSeparator;
  appendLower(out, top.host);  // host names compare case-insensitively
  out += ':';
  if (top.port) appendNumber(out, *top.port);
  out += kSeparator;
  out += method;
}

void buildClientKey(std::string& out, std::string_view branch, std::string_view method) {
  out.clear();
  out += branch;
  out += kSeparator;
  out += method;
}

bool buildLegacyKey(std::string& out, std::string_view& to_tag, const Message& request,
                    std::string_view method) {
  const Result<NameAddr> from = request.from();
  const Result<NameAddr> to = request.to();
  const Result<CSeq> cseq = request.cseq();
  const std::optional<std::string_view> call_id = request.callId();
  if (!from || !to || !cseq || !call_id) return false;
  out.clear();
  out += request.requestUriText();
  out += kSeparator;
  out += from->tag();
  out += kSeparator;
  out += *call_id;
  out += kSeparator;
  appendNumber(out, cseq->number);
  out += kSeparator;
  out += method;
  out += kSeparator;
  out += topViaText(request);
  to_tag = to->tag();
  return true;
}

TransactionId TransactionLayer::Impl::findLegacy(const std::string& key, std::string_view to_tag,
                                                 bool ack) const {
  auto [first, last] = legacy_index.equal_range(key);
  for (auto it = first; it != last; ++it) {
    const Transaction* t = find(it->second);
    if (t == nullptr || t->state == TxState::kTerminated) continue;
    // RFC 3261 17.2.3: an ACK carries the To tag of the response it
    // acknowledges (an INVITE server transaction has answered: its 100
    // goes out at once); other requests the To tag of the original request.
    if (ack && t->kind == TxKind::kInviteServer) {
      if (t->response_to_tag == to_tag) return t->id;
      continue;
    }
    if (t->to_tag == to_tag) return t->id;
  }
  return 0;
}

Result<Inbound> TransactionLayer::Impl::onRequest(Message request) {
  const Result<Via> top = request.topVia();
  if (!top) {
    ++stats.invalid_messages;
    return top.error();
  }
  const bool is_ack = request.method() == Method::kAck;
  // RFC 3261 17.2.3: the ACK for a non-2xx matches the INVITE's transaction.
  const std::string_view method = is_ack ? std::string_view("INVITE") : request.methodToken();
  const bool rfc3261 = hasMagicCookie(top->branch);

  TransactionId id = 0;
  std::string_view to_tag;
  if (rfc3261) {
    buildServerKey(scratch, *top, method);
    auto it = server_index.find(scratch);
    if (it != server_index.end()) {
      id = it->second;
    } else if (!is_ack) {
      auto done = completed.find(scratch);
      if (done != completed.end()) {
        resendCompleted(done->second);
        return Inbound::kMatched;
      }
    }
  } else {
    if (!buildLegacyKey(scratch, to_tag, request, method)) {
      ++stats.invalid_messages;
      return SipError{400, "Bad From, To, CSeq or Call-ID"};
    }
    id = findLegacy(scratch, to_tag, is_ack);
  }
  Transaction* t = id != 0 ? find(id) : nullptr;

  if (is_ack) {
    if (t != nullptr && t->kind == TxKind::kInviteServer) return onServerAck(*t, request);
    // The ACK for a 2xx is a request of its own without a transaction
    // (RFC 3261 17.2.3, 13.3.1.4): the dialog layer takes it.
    tu.onAck(0, request);
    return Inbound::kAckToTu;
  }
  if (t != nullptr) {
    onServerRetransmission(*t);
    return Inbound::kMatched;
  }
  std::string key = rfc3261 ? scratch : std::string();
  std::string legacy_key = rfc3261 ? std::string() : scratch;
  startServer(std::move(request), std::move(key), std::move(legacy_key), std::string(to_tag));
  return Inbound::kNewServerTransaction;
}

Result<Inbound> TransactionLayer::Impl::onResponse(const Message& response) {
  const Result<Via> top = response.topVia();
  if (!top) {
    ++stats.invalid_messages;
    return top.error();
  }
  const Result<CSeq> cseq = response.cseq();
  if (!cseq) {
    ++stats.invalid_messages;
    return cseq.error();
  }
  // RFC 3261 17.1.3: our branches are unique, so branch + CSeq method is
  // enough (the method tells a CANCEL's response from its INVITE's).
  buildClientKey(scratch, top->branch, cseq->method);
  auto it = client_index.find(scratch);
  if (it == client_index.end()) {
    ++stats.stray_responses;
    tu.onStrayResponse(response);
    return Inbound::kStrayResponse;
  }
  onClientResponse(*find(it->second), response);
  return Inbound::kMatched;
}

std::optional<TransactionId> TransactionLayer::Impl::findCancelled(const Message& cancel) const {
  const Result<Via> top = cancel.topVia();
  if (!top) return std::nullopt;
  std::string key;
  TransactionId id = 0;
  if (hasMagicCookie(top->branch)) {
    // RFC 3261 9.2: same branch and sent-by, method INVITE.
    buildServerKey(key, *top, "INVITE");
    auto it = server_index.find(key);
    if (it != server_index.end()) id = it->second;
  } else {
    // RFC 3261 9.2 via 17.2.3: Request-URI, tags, Call-ID, CSeq number and
    // top Via of the INVITE; the CANCEL's To is the INVITE's To.
    std::string_view to_tag;
    if (!buildLegacyKey(key, to_tag, cancel, "INVITE")) return std::nullopt;
    id = findLegacy(key, to_tag, false);
  }
  const Transaction* t = id != 0 ? find(id) : nullptr;
  if (t == nullptr || t->kind != TxKind::kInviteServer || t->state == TxState::kTerminated) {
    return std::nullopt;
  }
  return id;
}

std::optional<TransactionId> TransactionLayer::findInviteServerTransactionForCancel(
    const Message& cancel) const {
  return impl_->findCancelled(cancel);
}

}  // namespace duplex::sip
