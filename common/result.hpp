// Result<T>: the value of an operation that can fail in an expected way, or the Error that
// says why. Exceptions are kept for the edges (I/O failure, programming errors); everything a
// caller is expected to handle (unknown person, bad input) travels as an Error.
// Thread-safety: a plain value type.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace congvu {

enum class Errc {
  invalid_argument,  // malformed input: bad CSV row, bad date, bad name
  not_found,         // the person, unit, group ... does not exist
  conflict,          // exists already, or the state forbids the change (retired person)
  unauthorized,      // bad or missing credentials
  forbidden,         // authenticated, but the actor's role or unit scope does not cover the target
  corrupt,           // stored data fails a consistency check
  io,                // the storage layer failed
  unavailable,       // temporary: the server cannot do it now (a full pool); try again later
};

const char* errc_name(Errc e);

struct Error {
  Errc code;
  std::string message;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const Error& error() const { assert(!ok()); return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

struct Unit_ {};
// Result<Ok>: success carries nothing.
using Ok = Unit_;
using Status = Result<Ok>;
inline Status ok_status() { return Status(Ok{}); }

inline Error make_error(Errc c, std::string msg) { return Error{c, std::move(msg)}; }

}  // namespace congvu
