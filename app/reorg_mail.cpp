#include "app/reorg_mail.hpp"

#include <algorithm>

#include "common/json.hpp"
#include "directory/reorg.hpp"

namespace congvu::app {
namespace {

// The successor's folder for a folder of the dissolved unit.
std::string target_name(const std::string& prefix, const std::string& name) {
  if (prefix.empty()) return name;
  return name == "INBOX" ? prefix : prefix + "/" + name;
}

std::string prefix_of(const directory::Unit& from, const directory::Unit& to) { return from.slug == to.slug ? std::string() : from.slug; }

}  // namespace

RoleMailMove plan_role_mail(mailstore::Mailstore& store, const directory::Unit& from, const directory::Unit& to) {
  RoleMailMove m{from.code, to.code, target_name(prefix_of(from, to), "INBOX"), 0};
  for (const auto& box : store.list(mailstore::unit_account(from.code))) m.messages += box.messages;
  return m;
}

RoleMailReport move_role_mail(directory::Directory& dir, mailstore::Mailstore& store, UnixMs now) {
  RoleMailReport rep;
  auto pairs = dir.read([&](directory::Snapshot& s) {
    std::vector<std::pair<directory::Unit, directory::Unit>> out;
    for (auto& u : directory::dissolved_units(s))
      if (auto to = s.unit(directory::current_unit(s, u.code)); to && to->dissolved.empty()) out.emplace_back(u, *to);
    return out;
  });
  for (const auto& pair : pairs) {
    const directory::Unit& from = pair.first;
    const directory::Unit& to = pair.second;
    std::string source = mailstore::unit_account(from.code), dest = mailstore::unit_account(to.code);
    auto boxes = store.list(source);
    if (std::none_of(boxes.begin(), boxes.end(), [](const auto& b) { return b.messages > 0; })) continue;
    RoleMailMove m = plan_role_mail(store, from, to);
    m.messages = 0;
    std::string why;
    // Parents first, so that a folder's parent exists (create() would make it anyway).
    std::sort(boxes.begin(), boxes.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    std::string prefix = prefix_of(from, to);
    for (const auto& box : boxes) {
      std::string name = target_name(prefix, box.name);
      auto target = store.mailbox(dest, name);
      if (!target) {
        auto made = store.create(dest, name, now, /*subscribe=*/true);
        if (!made) {
          why = box.name + ": " + made.error().message;
          break;
        }
        target = *made;
      }
      std::vector<mailstore::Uid> uids;
      for (const auto& msg : store.messages(box.id)) uids.push_back(msg.uid);
      for (std::size_t at = 0; at < uids.size() && why.empty(); at += 1000) {
        std::vector<mailstore::Uid> chunk(uids.begin() + static_cast<std::ptrdiff_t>(at),
                                          uids.begin() + static_cast<std::ptrdiff_t>(std::min(uids.size(), at + 1000)));
        if (auto done = store.copy(box.id, chunk, target->id, true, now); !done) why = box.name + ": " + done.error().message;
        else m.messages += chunk.size();
      }
      if (!why.empty()) break;
    }
    if (m.messages > 0) {
      auto audited = dir.write(directory::Actor{"system:reorganisation"}, now, [&](directory::Change& c) -> Status {
        c.audit("mail.move", from.code, from.dissolved_by,
                json_object({{"to", to.code}, {"folder", m.folder}, {"messages", std::to_string(m.messages)}}));
        return ok_status();
      });
      if (!audited) why += (why.empty() ? "" : "; ") + audited.error().message;
      rep.moved.push_back(m);
    }
    if (!why.empty()) rep.failed.push_back(from.code + ": " + why);
  }
  return rep;
}

}  // namespace congvu::app
