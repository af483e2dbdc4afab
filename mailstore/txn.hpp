// Internal to mailstore/: the operations of one write transaction on mail.mdb, shared by the
// files that implement Mailstore. Nothing here commits; callers run inside the committer.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/kv/kv.hpp"
#include "common/result.hpp"
#include "mailstore/blobs.hpp"
#include "mailstore/mailstore.hpp"
#include "mailstore/model.hpp"

namespace congvu::mailstore::detail {

// Thrown by a job that found an expected error: the committer rolls its batch back and reruns
// the others alone, so nothing half-done is committed.
struct Rollback {
  Error error;
};
[[noreturn]] inline void rollback(Errc code, std::string msg) { throw Rollback{Error{code, std::move(msg)}}; }

// "inbox", "Inbox/x" -> "INBOX", "INBOX/x"; everything else as given.
std::string normalize_name(std::string_view name);
// Empty when valid; otherwise why not.
std::string invalid_name_reason(std::string_view name);

std::optional<MailboxRecord> find(kv::ReadTxn& t, std::string_view account, std::string_view name);
std::optional<MailboxRecord> load(kv::ReadTxn& t, MailboxId id);
void save(kv::WriteTxn& t, const MailboxRecord& m);
MailboxRecord create_mailbox(kv::WriteTxn& t, const std::string& account, const std::string& name, SpecialUse use,
                             UnixMs now);
void ensure_account(kv::WriteTxn& t, const std::string& account, UnixMs now);
// Only the INBOX: what a delivery needs (the rest of the set comes with the first login, so a
// notice to the whole province does not create 120 000 empty mailboxes).
MailboxRecord ensure_inbox(kv::WriteTxn& t, const std::string& account, UnixMs now);

Usage usage(kv::ReadTxn& t, std::string_view account);
void add_usage(kv::WriteTxn& t, const std::string& account, std::int64_t bytes, std::int64_t messages);

// Adds a reference to a blob; returns false if the blob is unknown.
bool ref_blob(kv::WriteTxn& t, std::string_view sha, std::uint64_t n);
// Records a newly written blob with n references.
void add_blob(kv::WriteTxn& t, std::string_view sha, const BlobLocation& at, std::uint64_t n);
void unref_blob(kv::WriteTxn& t, std::string_view sha);
void add_segment_live(kv::WriteTxn& t, std::uint32_t seg, std::int64_t delta);

// Puts a message into a mailbox (the record must be current); returns its uid. Updates the
// mailbox record in `m` (caller saves) and the account's usage.
Uid place(kv::WriteTxn& t, MailboxRecord& m, const MessageRecord& proto);
// Removes one message (index, modseq entry, blob ref, counters); `m` updated, caller saves.
void unplace(kv::WriteTxn& t, MailboxRecord& m, const MessageRecord& msg, ModSeq at);

std::optional<MessageRecord> get_message(kv::ReadTxn& t, MailboxId id, Uid uid);

// The next value of a counter kept in `meta` (at least `floor`).
std::uint64_t next_counter(kv::WriteTxn& t, std::string_view name, std::uint64_t floor);

}  // namespace congvu::mailstore::detail
