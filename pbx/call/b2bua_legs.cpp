// Call control, part 2: the callee legs' responses (ringing, answer,
// failures), forwarding on busy / no answer / redirect, and the end of a call
// with its record. See b2bua.h.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "pbx/call/b2bua_internal.h"

namespace duplex::call {
namespace {

bool isBusy(int status) {
  return status == 486 || status == 600 || status == 603;
}

std::string firstContactUser(const sip::Message& response) {
  auto contacts = response.contacts();
  if (!contacts || contacts->star || contacts->entries.empty()) return {};
  const sip::Uri& uri = contacts->entries[0].address.uri;
  return uri.isSip() && uri.hasUser() ? uri.userUnescaped() : std::string();
}

// The dialog toward a fork's phone, from the INVITE it was sent (RFC 3261
// 12.1.2); the remote tag and target come with its response.
std::optional<sip::Dialog> outgoingDialog(const Fork& f) {
  auto invite = f.inviteMessage();
  if (!invite) return std::nullopt;
  auto d = sip::Dialog::fromOutgoingInvite(
      *invite, concat("sip:", sip::Endpoint{f.advertised, f.port}.toString()));
  if (!d) return std::nullopt;
  return std::move(d).value();
}

// RFC 3261 9.1: the CANCEL of a fork's INVITE (same Request-URI, top Via,
// From, To, Call-ID and CSeq number).
sip::Result<sip::Message> cancelOf(const Fork& f) {
  auto invite = f.inviteMessage();
  if (!invite) return invite.error();
  return sip::buildCancel(*invite);
}

}  // namespace

sip::Result<sip::Message> Fork::inviteMessage() const {
  if (invite.empty()) return sip::SipError{500, "INVITE released"};
  return sip::Message::parse(invite);
}

db::Disposition B2buaState::dispositionFor(int status) const {
  if (isBusy(status)) return db::Disposition::busy;
  if (status == 480 || status == 408) return db::Disposition::noAnswer;
  if (status == 487) return db::Disposition::cancelled;
  return db::Disposition::failed;
}

void B2buaState::onForkResponse(B2bua::Call& call, std::size_t i, const sip::Message& response) {
  const int status = response.statusCode();
  if (status == 100) return;
  if (status >= 200 && status < 300) {
    if (call.state == CallState::kRinging && !call.winner && !call.forks[i].cancelWanted) {
      answer(call, i, response);
    } else if (call.winner == i) {
      // RFC 3261 13.2.2.4: a retransmitted 2xx gets the same ACK again.
      if (!call.callee.ack.empty()) {
        auto ack = sip::Message::parse(call.callee.ack);
        if (ack) svc.endpoint.transactions().sendStateless(*ack, call.callee.to);
      }
    } else if (!call.forks[i].done) {
      // A second phone answered too late (or after CANCEL): ACK, then BYE.
      call.forks[i].done = true;
      call.forks[i].status = status;
      ackAndBye(call.forks[i], response, call);
    }
    call.forks[i].done = true;
    call.forks[i].finish();
    return;
  }
  if (status >= 300) {
    if (status < 400) call.forks[i].contactUser = firstContactUser(response);
    onForkFinal(call, i, status, response.reasonPhrase());
    return;
  }
  // 1xx: ringing or early media.
  Fork& f = call.forks[i];
  f.provisional = true;
  if (f.cancelWanted && !f.cancelSent) {
    // RFC 3261 9.1: the CANCEL waited for this provisional.
    auto cancel = cancelOf(f);
    if (cancel) (void)svc.endpoint.sendRequest(std::move(cancel).value(), f.to, &self);
    f.cancelSent = true;
    return;
  }
  if (call.state != CallState::kRinging || f.cancelWanted) return;
  if (auto to = response.to(); to && !to->tag().empty()) {
    if (!f.dialog) f.dialog = outgoingDialog(f);
    if (f.dialog) f.dialog->onResponse(response);
  }
  relayProvisional(call, i, response);  // b2bua_early.cpp: SDP, 100rel
}

void B2buaState::answer(B2bua::Call& call, std::size_t i, const sip::Message& response) {
  Fork& f = call.forks[i];
  if (!f.dialog) f.dialog = outgoingDialog(f);
  if (!f.dialog || f.dialog->onResponse(response)) {
    // A 2xx without a To tag cannot start a dialog: the fork failed (502),
    // and onForkFinal() answers the caller unless other forks still ring.
    f.dialog.reset();
    onForkFinal(call, i, 502, "Bad Gateway (the callee answered without a To tag)");
    return;
  }
  f.done = true;
  f.status = response.statusCode();
  f.finish();
  call.winner = i;
  // The fork's dialog becomes the callee leg's (the fork is done: nothing
  // reads its early dialog any more).
  call.callee.dialog = std::move(f.dialog);
  f.dialog.reset();
  call.callee.to = f.to;
  call.callee.transport = f.to.transport;
  call.callee.advertised = f.advertised;
  call.callee.port = f.port;
  // Late offer: this 2xx carries the offer; its ACK carries the caller's
  // answer, so it waits for the caller's ACK (finishLateOffer).
  const bool ackWaits = call.lateOffer && !f.offerAnswered && isSdp(response);
  auto ackCallee = [&] {
    // RFC 3261 13.2.2.4: the ACK for a 2xx is built by the UAC core, with
    // the INVITE's CSeq (2 after a trunk's 407).
    sip::Message ack = call.callee.dialog->makeRequest(
        sip::Method::kAck, sip::transportName(call.callee.transport), call.callee.viaSentBy(),
        newBranch(svc.endpoint), f.inviteCSeq);
    call.callee.ack = ack.serialize();
    svc.endpoint.transactions().sendStateless(ack, call.callee.to);
  };
  if (!ackWaits) ackCallee();
  cancelForks(call, i);
  stopProvisionals(call);

  SdpRewrite sdp;
  if (isSdp(response)) {
    sdp = svc.media.rewrite(call.media, CallSide::kCallee, response.body(),
                            call.callee.to.endpoint.ip, call.caller.advertised);
  } else if (!f.offerAnswered) {
    sendBye(call, CallSide::kCallee);
    failCall(call, 488, "Callee answered without SDP", db::Disposition::failed);
    return;
  }
  // else: the offer/answer completed in the early dialog (reliable 1xx,
  // PRACK): the 2xx needs no SDP (RFC 3261 13.2.1).
  if (!sdp.ok()) {
    if (ackWaits) ackCallee();
    sendBye(call, CallSide::kCallee);
    failCall(call, 488, sdp.reason, db::Disposition::failed);
    return;
  }
  if (ackWaits) {
    call.awaitingAckAnswer = true;
    call.ackAnswerBy = svc.clock.now() + 64 * settings.t1;
    schedule(call, *call.ackAnswerBy);
  }
  svc.media.answered(call.media);
  call.state = CallState::kAnswered;
  call.noAnswerAt.reset();
  call.answerAt = registrar::unixSecondsFloor(svc.wallNow());
  call.disposition = db::Disposition::answered;
  ++stats.answered;
  sendToCaller(call, 200, "OK", sdp.body);
  releaseRinging(call);
}

void B2buaState::releaseRinging(B2bua::Call& call) {
  // The 2xx to the caller is built and kept (startTwoHundred); nothing is
  // said to its INVITE any more, and no fork is started after the answer.
  call.callerInvite.reset();
  std::vector<std::pair<std::string, std::string>>().swap(call.offersByAddress);
  std::vector<registrar::Location>().swap(call.routing.locations);
}

void B2buaState::onForkFinal(B2bua::Call& call, std::size_t i, int status,
                             std::string_view reason) {
  Fork& f = call.forks[i];
  if (f.done) return;
  f.done = true;
  f.status = status;
  f.reason = std::string(reason);
  f.finish();
  if (call.state != CallState::kRinging || f.cancelWanted) return;
  if (f.trunk) {
    trunkForkFailed(call, status, reason);
    return;
  }
  if (status >= 600) {  // RFC 3261 16.7 step 5: a 6xx ends the search
    cancelForks(call, std::nullopt);
    allForksFailed(call);
    return;
  }
  const bool pending = std::any_of(call.forks.begin(), call.forks.end(),
                                   [](const Fork& x) { return !x.done && !x.cancelWanted; });
  if (!pending) allForksFailed(call);
}

void B2buaState::allForksFailed(B2bua::Call& call) {
  // The answers of the forks that were not canceled by us.
  int best = 0;
  std::string bestReason;
  bool busy = false;
  std::string redirectTo;
  bool redirected = false;
  for (const Fork& f : call.forks) {
    if (f.cancelWanted || !f.done) continue;
    if (isBusy(f.status)) busy = true;
    if (f.status >= 300 && f.status < 400) {
      redirected = true;
      if (redirectTo.empty()) redirectTo = f.contactUser;
      continue;
    }
    // RFC 3261 16.7 step 6: the lowest class wins; 401/407 of a phone mean
    // nothing to our caller.
    const int s = f.status == 401 || f.status == 407 ? 480 : f.status;
    if (best == 0 || s / 100 < best / 100) {
      best = s;
      bestReason = s == f.status ? f.reason : "Temporarily Unavailable";
    }
  }
  auto retarget = [&](std::string_view number, std::string_view why) -> bool {
    auto stop = forwardTo(svc.directory, number, why, call.routing);
    if (!stop) stop = findBindings(svc.registrar, svc.directory, svc.wallNow(), call.routing);
    if (stop) {
      failCall(call, stop->status, stop->reason, dispositionFor(stop->status));
      return true;
    }
    startForks(call);
    return true;
  };
  if (redirected && settings.followRedirectsInternal && !redirectTo.empty() &&
      svc.directory.find(redirectTo)) {
    retarget(redirectTo, "redirect");
    return;
  }
  const ExtensionFeatures& t = *call.routing.target;
  if (busy && t.forwardBusy && !t.forwardBusy->empty() && svc.directory.find(*t.forwardBusy)) {
    retarget(*t.forwardBusy, "busy");
    return;
  }
  if (busy) {
    failCall(call, 486, "Busy Here", db::Disposition::busy);
  } else if (best == 0 && redirected) {
    // 3xx not followed (toll fraud); the caller must not follow it either.
    failCall(call, 480, "Redirect Not Followed", db::Disposition::failed);
  } else if (best == 0) {
    failCall(call, 480, "Temporarily Unavailable", db::Disposition::noAnswer);
  } else {
    failCall(call, best, bestReason, dispositionFor(best));
  }
}

void B2buaState::noAnswer(B2bua::Call& call) {
  cancelForks(call, std::nullopt);
  if (!call.routing.target) {  // an outbound trunk call
    failCall(call, 480, "Temporarily Unavailable (no answer)", db::Disposition::noAnswer);
    return;
  }
  const ExtensionFeatures& t = *call.routing.target;
  if (t.forwardNoAnswer && !t.forwardNoAnswer->empty()) {
    auto stop = forwardTo(svc.directory, *t.forwardNoAnswer, "no_answer", call.routing);
    if (!stop) stop = findBindings(svc.registrar, svc.directory, svc.wallNow(), call.routing);
    if (!stop) {
      startForks(call);
      return;
    }
  }
  failCall(call, 480, "Temporarily Unavailable (no answer)", db::Disposition::noAnswer);
}

void B2buaState::cancelForks(B2bua::Call& call, std::optional<std::size_t> except) {
  for (std::size_t i = 0; i < call.forks.size(); ++i) {
    Fork& f = call.forks[i];
    if ((except && *except == i) || f.done || f.cancelWanted) continue;
    f.cancelWanted = true;
    if (!f.provisional) continue;  // RFC 3261 9.1: CANCEL waits for a 1xx
    auto cancel = cancelOf(f);
    if (cancel) (void)svc.endpoint.sendRequest(std::move(cancel).value(), f.to, &self);
    f.cancelSent = true;
  }
}

void B2buaState::ackAndBye(const Fork& fork, const sip::Message& response,
                           const B2bua::Call& /*call*/) {
  std::optional<sip::Dialog> d = outgoingDialog(fork);
  if (!d || d->onResponse(response)) return;
  const std::string via = sip::Endpoint{fork.advertised, fork.port}.toString();
  const auto transport = sip::transportName(fork.to.transport);
  sip::Message ack =
      d->makeRequest(sip::Method::kAck, transport, via, newBranch(svc.endpoint), fork.inviteCSeq);
  svc.endpoint.transactions().sendStateless(ack, fork.to);
  sip::Message bye = d->makeRequest(sip::Method::kBye, transport, via, newBranch(svc.endpoint));
  (void)svc.endpoint.sendRequest(std::move(bye), fork.to, &self);
}

bool B2buaState::sendToCaller(B2bua::Call& call, int status, std::string_view reason,
                              std::string_view sdp) {
  if (!call.callerInvite) return false;  // answered: nothing more to say to its INVITE
  sip::Message r =
      sip::Message::responseTo(*call.callerInvite, status, reason, call.caller.dialog->localTag());
  if (status < 300) r.addHeader("Contact", concat("<", call.caller.contact(), ">"));
  if (status >= 200 && status < 300) {
    r.addHeader("Allow", "INVITE, ACK, CANCEL, BYE, PRACK, UPDATE, INFO, OPTIONS");
  }
  if (!settings.serverHeader.empty()) r.addHeader("Server", settings.serverHeader);
  if (!sdp.empty()) r.setBody("application/sdp", sdp);
  if (status >= 200 && status < 300) {
    call.caller.dialog->confirm();
    startTwoHundred(call, call.caller, call.inviteTx, r);
  }
  if (status >= 300) ++stats.rejected;
  return svc.endpoint.transactions().sendResponse(call.inviteTx, std::move(r));
}

void B2buaState::sendBye(B2bua::Call& call, CallSide to) {
  Leg& leg = to == CallSide::kCaller ? call.caller : call.callee;
  if (!leg.dialog || leg.dialog->state() != sip::Dialog::State::kConfirmed) return;
  sip::Message bye = leg.dialog->makeRequest(sip::Method::kBye, sip::transportName(leg.transport),
                                             leg.viaSentBy(), newBranch(svc.endpoint));
  leg.dialog->terminate();
  leg.twoHundred.stop();
  std::string wire = isTrunkSide(call, to) ? bye.serialize() : std::string();
  auto tx = svc.endpoint.sendRequest(std::move(bye), leg.to, &self);
  if (tx) relays[*tx] = Relay{call.id, otherSide(to), 0, sip::Method::kBye};
  if (tx && !wire.empty()) noteTrunkRequest(call, to, *tx, std::move(wire), leg.to);
}

void B2buaState::failCall(B2bua::Call& call, int status, std::string_view reason,
                          db::Disposition disposition) {
  cancelForks(call, std::nullopt);
  if (call.state == CallState::kRinging) sendToCaller(call, status, reason);
  endCall(call, "callee", concat(std::to_string(status), " ", reason), disposition);
}

void B2buaState::endCall(B2bua::Call& call, std::string_view side, std::string_view cause,
                         db::Disposition disposition) {
  if (call.state == CallState::kEnded) return;
  call.state = CallState::kEnded;
  call.noAnswerAt.reset();
  const std::int64_t now = registrar::unixSecondsFloor(svc.wallNow());
  db::CallRecord r;
  r.callId = call.caller.dialog->callId();
  r.caller = call.routing.caller;
  r.callee = call.routing.target ? call.routing.target->number : call.routing.dialled;
  r.dialled = call.routing.dialled;
  r.startAt = call.startAt;
  r.answerAt = call.answerAt;
  r.endAt = now;
  r.durationS = now - call.startAt;
  r.billableS = call.answerAt ? now - *call.answerAt : 0;
  r.disposition = disposition;
  r.hangupSide = std::string(side);
  r.hangupCause = std::string(cause);
  r.forwardSteps = forwardStepsJson(call.routing.steps);
  if (call.trunk) {
    annotateTrunkRecord(call, r);
    uncountTrunkCall(call);
  }
  if (call.media != 0) {
    // The record waits for the relay's final facts (media_facts, diagnosis).
    CallRecordSink& records = svc.records;
    svc.media.release(call.media, [&records, r = std::move(r)](MediaSessions::Facts facts) mutable {
      r.mediaFacts = std::move(facts.json);
      r.diagnosis = std::move(facts.diagnosis);
      records.write(std::move(r));
    });
    call.media = 0;
  } else {
    svc.records.write(std::move(r));
  }
  ++stats.ended;
  --stats.active;
  graveyard.push_back(call.id);
}

void B2buaState::recordRejected(const B2bua::Call* /*call*/, const sip::Message& invite,
                                const RoutingContext& ctx, int status, std::string_view reason) {
  const std::int64_t now = registrar::unixSecondsFloor(svc.wallNow());
  db::CallRecord r;
  r.callId = std::string(invite.callId().value_or(""));
  r.caller = ctx.caller;
  r.callee = ctx.target ? ctx.target->number : ctx.dialled;
  r.dialled = ctx.dialled;
  r.startAt = now;
  r.endAt = now;
  r.disposition = dispositionFor(status);
  r.hangupSide = "pbx";
  r.hangupCause = concat(std::to_string(status), " ", reason);
  r.forwardSteps = forwardStepsJson(ctx.steps);
  svc.records.write(std::move(r));
}

void B2buaState::reap() {
  std::size_t kept = 0;
  for (std::uint64_t id : graveyard) {
    auto it = calls.find(id);
    if (it == calls.end()) continue;
    B2bua::Call& call = *it->second;
    const bool legsDone =
        std::all_of(call.forks.begin(), call.forks.end(), [](const Fork& f) { return f.done; });
    if (!legsDone) {
      graveyard[kept++] = id;
      continue;
    }
    forget(call);
  }
  graveyard.resize(kept);
}

void B2buaState::forget(B2bua::Call& call) {
  byInviteTx.erase(call.inviteTx);
  for (const Fork& f : call.forks) byForkTx.erase(f.tx);
  if (call.caller.dialog) {
    byDialog.erase(dialogKey(call.caller.dialog->callId(), call.caller.dialog->localTag()));
  }
  if (!call.forks.empty()) byDialog.erase(dialogKey(call.calleeCallId, call.calleeTag));
  std::erase_if(relays, [&](const auto& entry) { return entry.second.call == call.id; });
  calls.erase(call.id);
}

}  // namespace duplex::call
