#include "nat/stun_message.h"

#include <cstring>

namespace duplex::nat::stun {
namespace {

constexpr std::uint32_t kFingerprintXor = 0x5354554e;  // RFC 5389 15.5

std::uint16_t get16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
std::uint32_t get32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}
void put16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}
void put32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  put16(out, static_cast<std::uint16_t>(v >> 16));
  put16(out, static_cast<std::uint16_t>(v));
}
void set16(std::vector<std::uint8_t>& out, std::size_t at, std::uint16_t v) {
  out[at] = static_cast<std::uint8_t>(v >> 8);
  out[at + 1] = static_cast<std::uint8_t>(v);
}

// RFC 5389 15.1 (MAPPED-ADDRESS) and 15.2 (XOR-MAPPED-ADDRESS).
bool parseAddress(const std::uint8_t* p, std::size_t len, bool xored, const TransactionId& id,
                  TransportAddress& out) {
  if (len < 4) return false;
  const std::uint8_t family = p[1];
  std::uint16_t port = get16(p + 2);
  if (xored) port ^= static_cast<std::uint16_t>(kMagicCookie >> 16);
  out.port = port;
  out.ip = IpAddress{};
  if (family == 0x01) {
    if (len != 8) return false;
    std::memcpy(out.ip.bytes.data(), p + 4, 4);
  } else if (family == 0x02) {
    if (len != 20) return false;
    out.ip.v6 = true;
    std::memcpy(out.ip.bytes.data(), p + 4, 16);
  } else {
    return false;
  }
  if (xored) {
    std::uint8_t mask[16];
    for (int i = 0; i < 4; ++i) mask[i] = static_cast<std::uint8_t>(kMagicCookie >> (24 - 8 * i));
    std::memcpy(mask + 4, id.data(), id.size());
    for (int i = 0; i < (out.ip.v6 ? 16 : 4); ++i) out.ip.bytes[i] ^= mask[i];
  }
  return true;
}

void putAddress(std::vector<std::uint8_t>& out, std::uint16_t type, const TransportAddress& a,
                bool xored, const TransactionId& id) {
  put16(out, type);
  put16(out, a.ip.v6 ? 20 : 8);
  out.push_back(0);
  out.push_back(a.ip.v6 ? 0x02 : 0x01);
  put16(out, xored ? static_cast<std::uint16_t>(a.port ^ (kMagicCookie >> 16)) : a.port);
  std::uint8_t mask[16] = {};
  if (xored) {
    for (int i = 0; i < 4; ++i) mask[i] = static_cast<std::uint8_t>(kMagicCookie >> (24 - 8 * i));
    std::memcpy(mask + 4, id.data(), id.size());
  }
  for (int i = 0; i < (a.ip.v6 ? 16 : 4); ++i) out.push_back(a.ip.bytes[i] ^ mask[i]);
}

void putHeader(std::vector<std::uint8_t>& out, std::uint16_t type, const TransactionId& id) {
  put16(out, type);
  put16(out, 0);  // length, set at the end
  put32(out, kMagicCookie);
  out.insert(out.end(), id.begin(), id.end());
}

void finish(std::vector<std::uint8_t>& out, bool fingerprint) {
  if (fingerprint) {
    set16(out, 2, static_cast<std::uint16_t>(out.size() - kHeaderSize + 8));
    const std::uint32_t crc = crc32(out) ^ kFingerprintXor;
    put16(out, kFingerprint);
    put16(out, 4);
    put32(out, crc);
  }
  set16(out, 2, static_cast<std::uint16_t>(out.size() - kHeaderSize));
}

}  // namespace

std::string TransportAddress::toString() const {
  std::string out;
  if (ip.v6) out += '[';
  out += ip.toString();
  if (ip.v6) out += ']';
  out += ':';
  out += std::to_string(port);
  return out;
}

std::optional<TransportAddress> Message::mappedAddress() const {
  return xor_mapped_address ? xor_mapped_address : mapped_address;
}

std::string_view stunErrorText(StunError error) {
  switch (error) {
    case StunError::kNone:
      return "ok";
    case StunError::kTooShort:
      return "shorter than a STUN header";
    case StunError::kNotStun:
      return "not a STUN message (first two bits set)";
    case StunError::kBadMagicCookie:
      return "wrong magic cookie";
    case StunError::kBadLength:
      return "message length does not match the datagram";
    case StunError::kAttributeOverrun:
      return "attribute runs past the end of the message";
    case StunError::kBadAddress:
      return "malformed address attribute";
    case StunError::kBadAttribute:
      return "malformed attribute";
    case StunError::kBadFingerprint:
      return "bad FINGERPRINT";
  }
  return "unknown";
}

std::uint32_t crc32(std::span<const std::uint8_t> bytes) {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  std::uint32_t crc = 0xFFFFFFFFu;
  for (const std::uint8_t b : bytes) crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

ParseResult parse(std::span<const std::uint8_t> d) {
  ParseResult r;
  if (d.size() < kHeaderSize) return {{}, StunError::kTooShort};
  if ((d[0] & 0xC0) != 0) return {{}, StunError::kNotStun};
  if (get32(d.data() + 4) != kMagicCookie) return {{}, StunError::kBadMagicCookie};
  const std::size_t length = get16(d.data() + 2);
  if (length != d.size() - kHeaderSize || length % 4 != 0) return {{}, StunError::kBadLength};
  const std::uint16_t type = get16(d.data());
  Message& m = r.message;
  // RFC 5389 6: class bits C1 (0x0100) and C0 (0x0010) are spread in the type.
  const int cls = ((type >> 7) & 0x2) | ((type >> 4) & 0x1);
  m.message_class = static_cast<MessageClass>(cls);
  m.method =
      static_cast<std::uint16_t>((type & 0x000F) | ((type & 0x00E0) >> 1) | ((type & 0x3E00) >> 2));
  std::memcpy(m.transaction_id.data(), d.data() + 8, 12);

  std::size_t at = kHeaderSize;
  while (at < d.size()) {
    if (m.fingerprint) return {{}, StunError::kBadFingerprint};  // RFC 5389 15.5: last
    if (d.size() - at < 4) return {{}, StunError::kAttributeOverrun};
    const std::uint16_t attr = get16(d.data() + at);
    const std::size_t len = get16(d.data() + at + 2);
    const std::size_t padded = (len + 3) & ~std::size_t{3};
    if (padded > d.size() - at - 4) return {{}, StunError::kAttributeOverrun};
    const std::uint8_t* v = d.data() + at + 4;
    switch (attr) {
      case kMappedAddress:
      case kXorMappedAddress:
      case kOtherAddress:
      case kChangedAddress:
      case kResponseOrigin: {
        TransportAddress a;
        if (!parseAddress(v, len, attr == kXorMappedAddress, m.transaction_id, a)) {
          return {{}, StunError::kBadAddress};
        }
        if (attr == kMappedAddress) m.mapped_address = a;
        if (attr == kXorMappedAddress) m.xor_mapped_address = a;
        if (attr == kResponseOrigin) m.response_origin = a;
        if (attr == kOtherAddress || (attr == kChangedAddress && !m.other_address)) {
          m.other_address = a;
        }
        break;
      }
      case kChangeRequest:
        if (len != 4) return {{}, StunError::kBadAttribute};
        m.change_ip = (v[3] & 0x04) != 0;
        m.change_port = (v[3] & 0x02) != 0;
        break;
      case kErrorCode: {
        if (len < 4) return {{}, StunError::kBadAttribute};
        const int code = (v[2] & 0x07) * 100 + v[3];
        if (code < 300 || code > 699 || v[3] > 99) return {{}, StunError::kBadAttribute};
        m.error_code = code;
        m.error_reason.assign(reinterpret_cast<const char*>(v + 4), len - 4);
        break;
      }
      case kSoftware:
        m.software.assign(reinterpret_cast<const char*>(v), len);
        break;
      case kFingerprint: {
        if (len != 4) return {{}, StunError::kBadFingerprint};
        // CRC over the message up to this attribute, with the header length
        // already covering it (RFC 5389 15.5): that is the datagram as is.
        const std::uint32_t want = crc32(d.subspan(0, at)) ^ kFingerprintXor;
        if (get32(v) != want) return {{}, StunError::kBadFingerprint};
        m.fingerprint = true;
        break;
      }
      default:
        if (attr < 0x8000) m.unknown_required.push_back(attr);  // RFC 5389 15
        break;
    }
    at += 4 + padded;
  }
  return r;
}

std::vector<std::uint8_t> buildBindingRequest(const TransactionId& id, bool change_ip,
                                              bool change_port, std::string_view software) {
  std::vector<std::uint8_t> out;
  out.reserve(64);
  putHeader(out, 0x0001, id);
  if (change_ip || change_port) {
    put16(out, kChangeRequest);
    put16(out, 4);
    put32(out, (change_ip ? 0x04u : 0u) | (change_port ? 0x02u : 0u));
  }
  if (!software.empty()) {
    const std::size_t len = std::min<std::size_t>(software.size(), 763);  // RFC 5389 15.10
    put16(out, kSoftware);
    put16(out, static_cast<std::uint16_t>(len));
    out.insert(out.end(), software.begin(), software.begin() + static_cast<std::ptrdiff_t>(len));
    while (out.size() % 4 != 0) out.push_back(0);
  }
  finish(out, true);
  return out;
}

std::vector<std::uint8_t> buildBindingSuccess(const TransactionId& id,
                                              const TransportAddress& mapped,
                                              const std::optional<TransportAddress>& other,
                                              const std::optional<TransportAddress>& origin,
                                              bool fingerprint) {
  std::vector<std::uint8_t> out;
  out.reserve(96);
  putHeader(out, 0x0101, id);
  putAddress(out, kXorMappedAddress, mapped, true, id);
  if (other) putAddress(out, kOtherAddress, *other, false, id);
  if (origin) putAddress(out, kResponseOrigin, *origin, false, id);
  finish(out, fingerprint);
  return out;
}

}  // namespace duplex::nat::stun
