// Session: the selected state (SELECT/EXAMINE with CONDSTORE and QRESYNC, FETCH, STORE,
// EXPUNGE, COPY/MOVE, CLOSE/UNSELECT) and the reporting of other sessions' changes.
#include <algorithm>

#include "imap/session_impl.hpp"
#include "mailstore/mime.hpp"

namespace congvu::imap {

using mailstore::MessageRecord;
using mailstore::Uid;
using proto::Parser;
using proto::ParseError;

std::vector<std::uint32_t> Session::resolve_set(const proto::SeqSet& set, bool uid) const {
  const auto& uids = sel_->uids;
  if (set.saved) {
    std::vector<std::uint32_t> out;
    for (auto u : sel_->saved)
      if (sel_->msn(u)) out.push_back(u);
    return out;
  }
  std::vector<std::uint32_t> out;
  if (uid) {
    if (uids.empty()) return out;
    std::uint32_t max = uids.back();
    for (auto u : uids)
      if (set.contains(u, max)) out.push_back(u);
    return out;
  }
  const auto n = static_cast<std::uint32_t>(uids.size());
  for (const auto& r : set.ranges)
    if ((r.lo && r.lo > n) || (r.hi && r.hi > n)) throw ParseError("message sequence number out of range");
  for (auto m : set.expand(n)) out.push_back(uids[m - 1]);
  return out;
}

bool Session::check_selected_access() {
  if (!sel_) return false;
  auto who = accessor();
  if (!active_) {
    untagged("BYE the account is no longer active");
    state_ = State::logout;
    action_ = Close{};
    sel_.reset();
    return false;
  }
  if (sel_->box.account == account_) return true;
  std::string rights = ctx_.store.rights(sel_->box.id, who);
  if (rights.find('r') == std::string::npos) {
    untagged("OK [CLOSED] access to " + sel_->visible + " was withdrawn");
    sel_.reset();
    state_ = State::authenticated;
    return false;
  }
  sel_->rights = rights;
  return true;
}

void Session::announce_flags(const Selected& s) {
  std::string kw;
  for (const auto& k : s.keywords) kw += " " + k;
  untagged("FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft" + kw + ")");
  std::string perm;
  if (!s.read_only) {
    if (s.rights.find('w') != std::string::npos) perm += " \\Answered \\Flagged \\Draft" + kw + " \\*";
    if (s.rights.find('t') != std::string::npos) perm += " \\Deleted";
    if (s.rights.find('s') != std::string::npos) perm += " \\Seen";
  }
  if (!perm.empty()) perm.erase(0, 1);
  untagged("OK [PERMANENTFLAGS (" + perm + ")] Limited");
}

void Session::learn_keywords(const std::vector<std::string>& keywords) {
  if (!sel_) return;
  bool fresh = false;
  for (const auto& k : keywords) fresh = sel_->keywords.insert(k).second || fresh;
  if (fresh) announce_flags(*sel_);
}

void Session::take_recent(Selected& s, std::uint32_t upto) {
  if (rev2_) return;
  std::uint32_t first = upto;
  if (s.read_only) {
    if (auto box = ctx_.store.mailbox(s.box.id)) first = box->first_recent;
  } else if (auto claimed = ctx_.store.claim_recent(s.box.id, upto)) {
    first = *claimed;
  }
  for (auto it = std::lower_bound(s.uids.begin(), s.uids.end(), first); it != s.uids.end() && *it < upto; ++it)
    s.recent.insert(*it);
}

// A rev1 session hears its \Recent count when it changed since it last heard it (after the
// expunges and EXISTS of the same report), as Dovecot answers.
void Session::report_recent() {
  if (rev2_ || !sel_ || sel_->recent.size() == sel_->recent_reported) return;
  sel_->recent_reported = sel_->recent.size();
  untagged(std::to_string(sel_->recent_reported) + " RECENT");
}

void Session::report_expunged(const std::vector<std::uint32_t>& gone) {
  std::vector<std::uint32_t> present;
  for (auto u : gone)
    if (sel_->msn(u)) present.push_back(u);
  if (present.empty()) return;
  // Once each: the same UID can come both from the store's expunge record and from what a
  // FETCH set aside (pending_expunged); erasing it twice would erase before the first element.
  std::sort(present.begin(), present.end());
  present.erase(std::unique(present.begin(), present.end()), present.end());
  if (qresync_) {
    untagged("VANISHED " + to_set(present));
    std::vector<std::uint32_t> keep;
    keep.reserve(sel_->uids.size());
    std::set_difference(sel_->uids.begin(), sel_->uids.end(), present.begin(), present.end(), std::back_inserter(keep));
    sel_->uids = std::move(keep);
  } else {
    for (auto u : present) {
      auto m = sel_->msn(u);
      if (!m) continue;
      untagged(std::to_string(m) + " EXPUNGE");
      sel_->uids.erase(sel_->uids.begin() + (m - 1));
    }
  }
  for (auto u : present) sel_->recent.erase(u);
}

void Session::sync(bool expunges) {
  auto box = ctx_.store.mailbox(sel_->box.id);
  if (!box) {
    untagged("BYE the selected mailbox was deleted");
    state_ = State::logout;
    action_ = Close{};
    sel_.reset();
    return;
  }
  if (box->highest_modseq <= sel_->modseq) {
    if (expunges && !sel_->pending_expunged.empty()) report_expunged(std::exchange(sel_->pending_expunged, {}));
    report_recent();
    return;
  }
  auto vanished = ctx_.store.expunged_since(sel_->box.id, sel_->modseq);
  auto changed = ctx_.store.changed_since(sel_->box.id, sel_->modseq);
  mailstore::ModSeq top = box->highest_modseq;
  for (auto& [u, ms] : changed) top = std::max(top, ms);
  std::vector<std::uint32_t> gone;
  for (auto u : vanished)
    if (sel_->msn(u.v)) gone.push_back(u.v);
  auto& pend = sel_->pending_expunged;
  if (expunges) {
    gone.insert(gone.end(), pend.begin(), pend.end());
    pend.clear();
    report_expunged(gone);
  } else {
    // A concurrent expunge can be read twice (its modseq may be above `top`): keep each once.
    for (auto u : gone)
      if (std::find(pend.begin(), pend.end(), u) == pend.end()) pend.push_back(u);
  }
  std::uint32_t last = sel_->uids.empty() ? 0 : sel_->uids.back();
  std::vector<std::uint32_t> fresh, touched;
  for (auto& [u, ms] : changed) {
    if (u.v > last) fresh.push_back(u.v);
    else if (sel_->msn(u.v) && !sel_->own.count({u.v, ms}) &&
             std::find(pend.begin(), pend.end(), u.v) == pend.end())
      touched.push_back(u.v);
  }
  if (!fresh.empty()) {
    sel_->uids.insert(sel_->uids.end(), fresh.begin(), fresh.end());
    untagged(std::to_string(sel_->uids.size()) + " EXISTS");
    take_recent(*sel_, fresh.back() + 1);
  }
  if (!touched.empty()) {
    for (const auto& r : ctx_.store.messages(sel_->box.id, Uid{touched.front()}, Uid{touched.back()})) {
      if (!std::binary_search(touched.begin(), touched.end(), r.uid.v)) continue;
      // UID only where QRESYNC requires it (RFC 7162 3.2.4), as Dovecot answers.
      std::string line = std::to_string(sel_->msn(r.uid.v)) + " FETCH (" +
                         (qresync_ ? "UID " + std::to_string(r.uid.v) + " " : std::string()) + "FLAGS " + flags_text(r);
      if (condstore_) line += " MODSEQ (" + std::to_string(r.modseq) + ")";
      untagged(line + ")");
    }
  }
  sel_->modseq = top;
  report_recent();
  for (auto it = sel_->own.begin(); it != sel_->own.end();) it = it->second <= top ? sel_->own.erase(it) : std::next(it);
}

Step Session::idle_poll(UnixMs) {
  out_.clear();
  action_ = NeedInput{};
  if (sel_) {
    if (check_selected_access()) {
      sync(true);
    } else if (state_ != State::logout) {
      // Withdrawn while idling: a client in IDLE only notices the end of the connection.
      untagged("BYE [NOPERM] access to the selected mailbox was withdrawn");
      state_ = State::logout;
      action_ = Close{};
    }
  }
  return {std::move(out_), std::move(action_)};
}

}  // namespace congvu::imap
