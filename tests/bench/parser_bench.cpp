// SIP parser throughput (target: >= 1,000,000 parses/s per core for a REGISTER
// with Authorization and for an INVITE with SDP). Each iteration copies the
// datagram into a std::string (as the transport does), parses it and reads
// the headers the SIP core reads for that request.
#include <benchmark/benchmark.h>

#include <string>

#include "pbx/sip/message.h"

namespace duplex::sip {
namespace {

const std::string kRegister =
    "REGISTER sip:pbx.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.168.1.23:5060;rport;branch=z9hG4bK1071458411\r\n"
    "From: \"Office 201\" <sip:201@pbx.example.com>;tag=1429876405\r\n"
    "To: \"Office 201\" <sip:201@pbx.example.com>\r\n"
    "Call-ID: 1822358914@192.168.1.23\r\n"
    "CSeq: 21 REGISTER\r\n"
    "Contact: <sip:201@192.168.1.23:5060;line=q1w2e3r4>;reg-id=1;"
    "+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000B82AABBCC>\"\r\n"
    "Authorization: Digest username=\"201\", realm=\"pbx.example.com\", "
    "nonce=\"5f7c1a2b3c4d5e6f708192a3b4c5d6e7\", uri=\"sip:pbx.example.com\", "
    "response=\"2b8b4f5c9d1e0a3b7c6d5e4f3a2b1c0d\", algorithm=MD5, cnonce=\"a1b2c3d4\", "
    "qop=auth, nc=00000002\r\n"
    "Max-Forwards: 70\r\n"
    "User-Agent: Grandstream GXP1625 1.0.11.23\r\n"
    "Supported: path, gruu, outbound\r\n"
    "Allow: INVITE, ACK, OPTIONS, CANCEL, BYE, SUBSCRIBE, NOTIFY, INFO, REFER, UPDATE, MESSAGE\r\n"
    "Expires: 3600\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

const std::string kInvite =
    "INVITE sip:202@pbx.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.168.1.23:5060;rport;branch=z9hG4bK1977422386\r\n"
    "From: \"Office 201\" <sip:201@pbx.example.com>;tag=1093621592\r\n"
    "To: <sip:202@pbx.example.com>\r\n"
    "Call-ID: 1439127839@192.168.1.23\r\n"
    "CSeq: 20 INVITE\r\n"
    "Contact: <sip:201@192.168.1.23:5060>\r\n"
    "Max-Forwards: 70\r\n"
    "User-Agent: Grandstream GXP1625 1.0.11.23\r\n"
    "Allow: INVITE, ACK, OPTIONS, CANCEL, BYE, SUBSCRIBE, NOTIFY, INFO, REFER, UPDATE, MESSAGE\r\n"
    "Supported: replaces, timer, path\r\n"
    "Session-Expires: 1800;refresher=uac\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 331\r\n"
    "\r\n"
    "v=0\r\n"
    "o=201 8000 8000 IN IP4 192.168.1.23\r\n"
    "s=SIP Call\r\n"
    "c=IN IP4 192.168.1.23\r\n"
    "t=0 0\r\n"
    "m=audio 5004 RTP/AVP 0 8 9 18 101\r\n"
    "a=sendrecv\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:9 G722/8000\r\n"
    "a=rtpmap:18 G729/8000\r\n"
    "a=fmtp:18 annexb=no\r\n"
    "a=ptime:20\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-15\r\n"
    "a=maxptime:20\r\n"
    "a=rtcp:5005\r\n";

void BM_ParseRegister(benchmark::State& state) {
  for (auto _ : state) {
    auto m = Message::parse(kRegister);
    if (!m.ok()) state.SkipWithError("parse failed");
    auto via = m->topVia();
    auto from = m->from();
    auto to = m->to();
    auto cseq = m->cseq();
    auto contacts = m->contacts();
    auto expires = m->expires();
    auto auths = m->authorizations();
    if (!via.ok() || !from.ok() || !to.ok() || !cseq.ok() || !contacts.ok() || auths.empty()) {
      state.SkipWithError("view failed");
      break;
    }
    benchmark::DoNotOptimize(via->branch);
    benchmark::DoNotOptimize(from->tag());
    benchmark::DoNotOptimize(to->uri.user());
    benchmark::DoNotOptimize(m->callId());
    benchmark::DoNotOptimize(cseq->number);
    benchmark::DoNotOptimize(contacts->entries.front().address.uri.host());
    benchmark::DoNotOptimize(expires->value_or(0));
    benchmark::DoNotOptimize(auths.front().param("response"));
    benchmark::DoNotOptimize(auths.front().param("nonce"));
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(kRegister.size()));
}
BENCHMARK(BM_ParseRegister);

void BM_ParseInvite(benchmark::State& state) {
  for (auto _ : state) {
    auto m = Message::parse(kInvite);
    if (!m.ok()) state.SkipWithError("parse failed");
    auto via = m->topVia();
    auto from = m->from();
    auto to = m->to();
    auto cseq = m->cseq();
    auto contacts = m->contacts();
    auto mf = m->maxForwards();
    if (!via.ok() || !from.ok() || !to.ok() || !cseq.ok() || !contacts.ok() || !mf.ok()) {
      state.SkipWithError("view failed");
      break;
    }
    benchmark::DoNotOptimize(via->branch);
    benchmark::DoNotOptimize(from->tag());
    benchmark::DoNotOptimize(to->uri.user());
    benchmark::DoNotOptimize(m->callId());
    benchmark::DoNotOptimize(cseq->number);
    benchmark::DoNotOptimize(contacts->entries.front().address.uri.host());
    benchmark::DoNotOptimize(m->contentType());
    benchmark::DoNotOptimize(m->body());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(kInvite.size()));
}
BENCHMARK(BM_ParseInvite);

// parse() alone, without the typed views.
void BM_ParseOnlyRegister(benchmark::State& state) {
  for (auto _ : state) {
    auto m = Message::parse(kRegister);
    benchmark::DoNotOptimize(m.ok());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseOnlyRegister);

void BM_SerializeInvite(benchmark::State& state) {
  auto m = Message::parse(kInvite);
  std::string out;
  for (auto _ : state) {
    out.clear();
    m->serializeTo(out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SerializeInvite);

}  // namespace
}  // namespace duplex::sip
