#include "smtp/recipients.hpp"

#include <algorithm>

#include "common/text.hpp"
#include "directory/hr.hpp"

namespace congvu::smtp {

namespace {

Verdict refuse(int code, std::string enhanced, std::string text) { return Verdict{code, std::move(enhanced), std::move(text), {}}; }

}  // namespace

bool Recipients::local_domain(std::string_view domain) const {
  std::string d = text::ascii_lower(domain);
  const auto& merged = dir_.settings().merged_domains;
  return d == dir_.settings().domain || std::find(merged.begin(), merged.end(), d) != merged.end();
}

std::optional<directory::Person> Recipients::person(std::string_view login) {
  return dir_.read([&](directory::Snapshot& s) { return s.resolve(login); });
}

Verdict Recipients::rcpt(const proto::Path& to, const std::optional<directory::Person>& sender, std::uint64_t size) {
  if (to.null) return refuse(501, "5.1.3", "The null address is not a recipient");
  if (to.source_route) return refuse(550, "5.7.1", "Source routes are not accepted");
  if (to.address_literal) return refuse(550, "5.7.1", "Address literals are not accepted; use the domain name");
  // <Postmaster> without a domain (RFC 5321 4.5.1) is the postmaster of our own domain.
  if (to.domain.empty() && text::ascii_lower(to.local) == "postmaster") {
    proto::Path own = to;
    own.domain = dir_.settings().domain;
    return rcpt(own, sender, size);
  }
  if (!local_domain(to.domain)) {
    if (!sender) return refuse(554, "5.7.1", "Relay access denied: " + to.domain + " is not a domain of this server");
    Verdict v;
    v.text = "Recipient OK (queued for " + to.domain + ")";
    v.outbound = true;
    return v;
  }
  std::string local = text::ascii_lower(to.local);
  if (local.find_first_of("%!@:") != std::string::npos)
    return refuse(550, "5.7.1", "Routing in the local part is not accepted");
  if (to.utf8 || local.find_first_of("\" \\") != std::string::npos)
    return refuse(550, "5.1.1", "No such user here");
  // A merged province's domain holds only the aliases kept from it.
  std::string address = local + "@" + text::ascii_lower(to.domain);
  return dir_.read([&](directory::Snapshot& s) -> Verdict {
    auto owner = s.address_owner(address);
    if (!owner) return refuse(550, "5.1.1", "No such user here");
    Verdict v;
    auto quota_full = [&](const std::string& account) { return !store_.fits(account, size); };
    switch (owner->kind) {
      case directory::AddressOwner::person: {
        auto p = s.person(*PersonId::from_bytes(owner->key));
        if (!p) return refuse(550, "5.1.1", "No such user here");
        if (p->status == directory::PersonStatus::retired) return retired(s, *p, size);
        if (p->status != directory::PersonStatus::active) return refuse(550, "5.2.1", "Mailbox disabled");
        auto account = mailstore::person_account(p->id);
        if (quota_full(account)) return refuse(452, "4.2.2", "Mailbox full");
        v.targets.emplace_back(account);
        return v;
      }
      case directory::AddressOwner::unit: {
        auto account = mailstore::unit_account(owner->key);
        if (quota_full(account)) return refuse(452, "4.2.2", "Mailbox full");
        v.targets.emplace_back(account);
        return v;
      }
      case directory::AddressOwner::group: {
        auto g = s.group(owner->key);
        if (!g) return refuse(550, "5.1.1", "No such user here");
        auto members = s.group_members(*g);
        bool allowed = g->posting == directory::GroupPosting::anyone;
        if (!allowed && sender) {
          allowed = g->posting == directory::GroupPosting::staff ||
                    std::find(g->senders.begin(), g->senders.end(), sender->id.str()) != g->senders.end() ||
                    std::any_of(members.begin(), members.end(), [&](const directory::Person& m) { return m.id == sender->id; });
        }
        if (!allowed)
          return refuse(550, "5.7.2",
                        sender ? "You may not post to the list " + address + " (only its members and named senders)"
                               : "The list " + address + " takes no mail from outside the province");
        v.text = "OK, list of " + std::to_string(members.size());
        for (const auto& m : members)
          if (m.status == directory::PersonStatus::active) v.targets.emplace_back(mailstore::person_account(m.id));
        return v;
      }
    }
    return refuse(550, "5.1.1", "No such user here");
  });
}

Verdict Recipients::retired(directory::Snapshot& s, const directory::Person& p, std::uint64_t size) {
  auto r = directory::retirement_of(s, p.id);
  if (r && !r->successor.empty())
    if (auto id = PersonId::parse(r->successor))
      if (auto succ = s.person(*id); succ && succ->status == directory::PersonStatus::active) {
        auto account = mailstore::person_account(succ->id);
        if (!store_.fits(account, size)) return refuse(452, "4.2.2", "Mailbox full");
        Verdict v;
        v.text = "OK, delivered to the successor of a retired member of staff";
        v.targets.emplace_back(account);
        return v;
      }
  // No (active) successor: the configured notice, naming the unit they left.
  std::string unit_address;
  if (auto u = s.unit(directory::scope_unit(s, p))) unit_address = u->role_address;
  std::string text = s.settings().retirement_notice;
  if (text.empty()) text = "This member of staff has retired; please write to {unit}";
  auto put = [&](std::string_view key, const std::string& value) {
    for (auto at = text.find(key); at != std::string::npos; at = text.find(key, at + value.size()))
      text.replace(at, key.size(), value);
  };
  put("{unit}", unit_address.empty() ? "the unit's official address" : unit_address);
  put("{address}", p.address);
  return refuse(550, "5.1.6", text);
}

bool Recipients::may_send_as(const directory::Person& p, std::string_view raw) {
  std::string address = text::ascii_lower(raw);
  if (address == p.address) return true;
  if (std::find(p.aliases.begin(), p.aliases.end(), address) != p.aliases.end()) return true;
  return dir_.read([&](directory::Snapshot& s) {
    auto owner = s.address_owner(address);
    if (!owner) return false;
    if (owner->kind == directory::AddressOwner::person) return owner->key == p.id.bytes();
    if (owner->kind == directory::AddressOwner::unit) {
      auto holders = s.role_holders(owner->key);
      return std::any_of(holders.begin(), holders.end(), [&](const directory::Person& h) { return h.id == p.id; });
    }
    return false;
  });
}

}  // namespace congvu::smtp
