// THREAD and UID THREAD (RFC 5256): REFERENCES and ORDEREDSUBJECT.
#include <algorithm>
#include <deque>
#include <map>

#include "imap/session_impl.hpp"
#include "mailstore/mime.hpp"

namespace congvu::imap {

using proto::Parser;
using proto::ParseError;
namespace mime = mailstore::mime;

namespace {

struct Node {
  std::uint32_t id = 0;  // 0: a dummy (a message referred to but not here)
  std::int64_t date = 0;
  std::vector<Node*> kids;
  Node* parent = nullptr;
};

std::string render(const Node* n) {
  // A message followed by its only child is written "a b"; several children each in parens.
  std::string out;
  const Node* cur = n;
  bool first = true;
  while (cur) {
    if (cur->id) {
      if (!first) out += ' ';
      out += std::to_string(cur->id);
      first = false;
    }
    if (cur->kids.size() == 1 && cur->id) {
      cur = cur->kids[0];
      continue;
    }
    if (!cur->kids.empty()) {
      if (!first) out += ' ';
      for (const Node* k : cur->kids) out += "(" + render(k) + ")";
    }
    break;
  }
  return out;
}

std::vector<std::string> message_ids(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while ((i = s.find('<', i)) != std::string_view::npos) {
    std::size_t j = s.find('>', i);
    if (j == std::string_view::npos) break;
    out.emplace_back(s.substr(i, j - i + 1));
    i = j + 1;
  }
  return out;
}

}  // namespace

void Session::cmd_thread(Command& c) {
  const std::string& tag = c.tag;
  const bool uid = c.uid;
  auto cmd = proto::parse_thread(c.p);
  const std::string& alg = cmd.algorithm;
  auto matched = search_with_summaries(cmd.charset, std::move(cmd.root), tag);
  if (!matched) return;
  struct Msg {
    std::uint32_t id;
    std::uint32_t uid;
    std::int64_t date;
    mime::Summary s;
    bool reply;
  };
  std::vector<Msg> msgs;
  for (auto& m : *matched) {
    std::int64_t d = m.s.date ? m.s.date : m.r.internal_date;
    msgs.push_back({uid ? m.r.uid.v : sel_->msn(m.r.uid.v), m.r.uid.v, d, std::move(m.s), m.reply});
  }
  std::deque<Node> pool;
  std::vector<Node*> roots;
  auto by_date = [](const Node* a, const Node* b) {
    auto da = a->id ? a->date : (a->kids.empty() ? 0 : a->kids.front()->date);
    auto db = b->id ? b->date : (b->kids.empty() ? 0 : b->kids.front()->date);
    return da != db ? da < db : a->id < b->id;
  };
  if (alg == "ORDEREDSUBJECT") {
    std::map<std::string, Node*> by_subject;
    std::stable_sort(msgs.begin(), msgs.end(), [](const Msg& a, const Msg& b) { return a.date != b.date ? a.date < b.date : a.uid < b.uid; });
    for (const auto& m : msgs) {
      Node& n = pool.emplace_back();
      n.id = m.id;
      n.date = m.date;
      auto it = by_subject.find(m.s.subject);
      if (it == by_subject.end()) {
        by_subject[m.s.subject] = &n;
        roots.push_back(&n);
      } else {
        it->second->kids.push_back(&n);
      }
    }
  } else {
    // RFC 5256 REFERENCES, steps 1-6.
    std::map<std::string, Node*> by_id;
    auto container = [&](const std::string& mid) {
      auto it = by_id.find(mid);
      if (it != by_id.end()) return it->second;
      Node* n = &pool.emplace_back();
      by_id[mid] = n;
      return n;
    };
    auto is_ancestor = [](Node* a, Node* b) {  // a is b or above b
      for (Node* x = b; x; x = x->parent)
        if (x == a) return true;
      return false;
    };
    auto link = [&](Node* parent, Node* child) {
      if (child->parent || is_ancestor(child, parent)) return;
      child->parent = parent;
      parent->kids.push_back(child);
    };
    std::vector<Node*> all;
    for (const auto& m : msgs) {
      auto ids = message_ids(m.s.message_id);
      std::string mid = ids.empty() ? "<congvu-" + std::to_string(m.uid) + ">" : ids.front();
      Node* n = container(mid);
      if (n->id) n = container("<congvu-dup-" + std::to_string(m.uid) + ">");  // duplicate Message-ID
      n->id = m.id;
      n->date = m.date;
      all.push_back(n);
      auto refs = message_ids(m.s.references);
      if (refs.empty()) refs = message_ids(m.s.in_reply_to);
      Node* prev = nullptr;
      for (const auto& r : refs) {
        Node* c = container(r);
        if (prev) link(prev, c);
        prev = c;
      }
      if (prev && prev != n) {
        if (n->parent) {
          auto& sib = n->parent->kids;
          sib.erase(std::remove(sib.begin(), sib.end(), n), sib.end());
          n->parent = nullptr;
        }
        link(prev, n);
      }
    }
    for (auto& n : pool)
      if (!n.parent && (n.id || !n.kids.empty())) roots.push_back(&n);
    // Prune dummies: a dummy root with one child gives way to it; dummies inside are replaced by their children.
    std::function<void(Node*)> prune = [&](Node* n) {
      std::vector<Node*> kids;
      for (Node* k : n->kids) {
        prune(k);
        if (!k->id) {
          for (Node* g : k->kids) {
            g->parent = n;
            kids.push_back(g);
          }
        } else {
          kids.push_back(k);
        }
      }
      n->kids = kids;
    };
    for (Node* r : roots) prune(r);
    std::vector<Node*> kept;
    for (Node* r : roots) {
      if (!r->id && r->kids.empty()) continue;
      if (!r->id && r->kids.size() == 1) {
        r->kids[0]->parent = nullptr;
        kept.push_back(r->kids[0]);
      } else {
        kept.push_back(r);
      }
    }
    roots = kept;
    // Step 5: roots with the same base subject are gathered (RFC 5256 REFERENCES 5.A-C).
    std::map<const Node*, const Msg*> msg_of;
    for (const auto& m : msgs)
      for (Node* n : all)
        if (n->id == m.id) msg_of[n] = &m;
    for (Node* r : roots) std::stable_sort(r->kids.begin(), r->kids.end(), by_date);
    auto subject_msg = [&](const Node* r) -> const Msg* {  // a dummy's subject is its first child's
      const Node* rep = r->id ? r : (r->kids.empty() ? nullptr : r->kids.front());
      auto it = rep ? msg_of.find(rep) : msg_of.end();
      return it == msg_of.end() || it->second->s.subject.empty() ? nullptr : it->second;
    };
    auto reply = [&](const Node* n) { return n->id && msg_of.count(n) && msg_of[n]->reply; };
    std::map<std::string, Node*> table;
    for (Node* r : roots) {  // (B)
      const Msg* m = subject_msg(r);
      if (!m) continue;
      auto [it, fresh] = table.emplace(m->s.subject, r);
      if (!fresh && ((!r->id && it->second->id) || (reply(it->second) && !reply(r)))) it->second = r;
    }
    std::vector<Node*> merged;
    std::set<Node*> gone;
    for (Node* r : roots) {  // (C)
      const Msg* m = subject_msg(r);
      Node* t = m ? table[m->s.subject] : r;
      if (t == r) continue;
      gone.insert(r);
      if (!t->id && !r->id) {
        for (Node* k : r->kids) {
          k->parent = t;
          t->kids.push_back(k);
        }
      } else if (!t->id || (!reply(t) && reply(r))) {
        r->parent = t;
        t->kids.push_back(r);
      } else {
        Node* d = &pool.emplace_back();
        d->kids = {t, r};
        t->parent = r->parent = d;
        table[m->s.subject] = d;
        std::replace(roots.begin(), roots.end(), t, d);
      }
    }
    for (Node* r : roots)
      if (!gone.count(r)) merged.push_back(r);
    roots = merged;
    std::function<void(Node*)> sort_kids = [&](Node* n) {
      for (Node* k : n->kids) sort_kids(k);
      std::sort(n->kids.begin(), n->kids.end(), by_date);
    };
    for (Node* r : roots) sort_kids(r);
  }
  std::sort(roots.begin(), roots.end(), by_date);
  std::string line = "THREAD";
  if (!roots.empty()) line += " ";
  for (const Node* r : roots) line += "(" + render(r) + ")";
  untagged(line);
  sync(uid);
  tagged(tag, "OK", "THREAD completed");
}

}  // namespace congvu::imap
