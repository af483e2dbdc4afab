// SELECT and EXAMINE (RFC 9051 6.3.2-6.3.3, with CONDSTORE and QRESYNC RFC 7162), CLOSE and
// UNSELECT (RFC 3691).
#include <algorithm>

#include "imap/session_impl.hpp"

namespace congvu::imap {

using mailstore::MessageRecord;
using mailstore::Uid;
using proto::Parser;
using proto::ParseError;

// ---- SELECT / EXAMINE

void Session::cmd_select(Command& c) {
  auto& p = c.p;
  const std::string& tag = c.tag;
  const bool examine = c.name == "EXAMINE";
  p.sp();
  std::string wire = p.astring();
  bool want_condstore = false;
  struct Qr {
    std::uint32_t validity = 0;
    mailstore::ModSeq modseq = 0;
    std::optional<proto::SeqSet> known;
  };
  std::optional<Qr> qr;
  if (p.try_sp()) {
    p.expect('(');
    while (!p.try_char(')')) {
      p.try_sp();
      std::string k = p.keyword();
      if (k == "CONDSTORE") {
        want_condstore = true;
      } else if (k == "QRESYNC") {
        if (!qresync_) throw ParseError("QRESYNC is not enabled");
        p.sp();
        p.expect('(');
        Qr q;
        q.validity = p.number();
        p.sp();
        q.modseq = p.number64();
        if (p.try_sp()) {
          if (!p.peek('(')) {
            q.known = p.sequence_set();
            p.try_sp();
          }
          if (p.try_char('(')) {  // sequence match data: accepted, not needed (we keep VANISHED exact)
            p.sequence_set();
            p.sp();
            p.sequence_set();
            p.expect(')');
          }
        }
        p.expect(')');
        qr = q;
      } else {
        throw ParseError("unknown SELECT parameter " + k);
      }
    }
  }
  p.end();
  if (sel_) {
    sel_.reset();
    state_ = State::authenticated;
    untagged("OK [CLOSED] previous mailbox closed");
  }
  auto name = decode_name(wire);
  auto m = name ? resolve(*name) : std::nullopt;
  if (!m || !m->record) return tagged(tag, "NO", "[NONEXISTENT] no such mailbox");
  if (m->rights.find('r') == std::string::npos) return tagged(tag, "NO", "[NOPERM] no right to read this mailbox");
  if (want_condstore) condstore_ = true;
  auto sel = std::make_unique<Selected>();
  sel->box = *m->record;
  sel->visible = m->visible;
  sel->rights = m->rights;
  sel->shared = m->account != account_;
  sel->read_only = examine || m->rights.find_first_of("stwe") == std::string::npos;
  std::set<std::string>& keywords = sel->keywords;
  std::uint32_t first_unseen = 0;
  auto records = ctx_.store.messages(sel->box.id);
  sel->uids.reserve(records.size());
  for (const auto& r : records) {
    sel->uids.push_back(r.uid.v);
    if (!first_unseen && !(r.flags & mailstore::seen)) first_unseen = static_cast<std::uint32_t>(sel->uids.size());
    for (const auto& k : r.keywords) keywords.insert(k);
    sel->modseq = std::max(sel->modseq, r.modseq);
  }
  sel->modseq = std::max(sel->modseq, sel->box.highest_modseq);
  announce_flags(*sel);
  untagged(std::to_string(sel->uids.size()) + " EXISTS");
  if (!rev2_) {
    // \Recent: what arrived since the last read-write selection is this session's (RFC 3501 2.3.2).
    std::uint32_t upto = std::max(sel->box.uidnext, sel->uids.empty() ? 0U : sel->uids.back() + 1);
    take_recent(*sel, upto);
    sel->recent_reported = sel->recent.size();
    untagged(std::to_string(sel->recent_reported) + " RECENT");
    if (first_unseen) untagged("OK [UNSEEN " + std::to_string(first_unseen) + "] First unseen");
  }
  untagged("OK [UIDVALIDITY " + std::to_string(sel->box.uidvalidity) + "] UIDs valid");
  untagged("OK [UIDNEXT " + std::to_string(sel->box.uidnext) + "] Predicted next UID");
  untagged("OK [HIGHESTMODSEQ " + std::to_string(sel->modseq) + "] Highest");
  if (rev2_) untagged("LIST () \"/\" " + encode_name(m->visible));
  sel_ = std::move(sel);
  state_ = State::selected;
  if (qr && qr->validity == sel_->box.uidvalidity) {
    std::vector<std::uint32_t> gone;
    std::uint32_t max = sel_->box.uidnext ? sel_->box.uidnext - 1 : 0;
    for (auto u : ctx_.store.expunged_since(sel_->box.id, qr->modseq))
      if (!sel_->msn(u.v) && (!qr->known || qr->known->contains(u.v, max))) gone.push_back(u.v);
    if (!gone.empty()) untagged("VANISHED (EARLIER) " + to_set(gone));
    auto changed = ctx_.store.changed_since(sel_->box.id, qr->modseq);
    if (!changed.empty()) {
      for (const auto& r : ctx_.store.messages(sel_->box.id, changed.front().first, changed.back().first)) {
        if (r.modseq <= qr->modseq) continue;
        untagged(std::to_string(sel_->msn(r.uid.v)) + " FETCH (UID " + std::to_string(r.uid.v) + " FLAGS " +
                 flags_text(r) + " MODSEQ (" + std::to_string(r.modseq) + "))");
      }
    }
  }
  tagged(tag, "OK", std::string(sel_->read_only ? "[READ-ONLY] " : "[READ-WRITE] ") +
                        (examine ? "EXAMINE" : "SELECT") + " completed");
}

void Session::cmd_close(Command& c) {
  const std::string& tag = c.tag;
  const bool expunge = c.name == "CLOSE";
  c.p.end();
  if (expunge && !sel_->read_only && sel_->rights.find('e') != std::string::npos && check_selected_access())
    (void)ctx_.store.expunge(sel_->box.id, {});
  sel_.reset();
  state_ = State::authenticated;
  tagged(tag, "OK", expunge ? "CLOSE completed" : "UNSELECT completed");
}

}  // namespace congvu::imap
