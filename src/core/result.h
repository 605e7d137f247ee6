// Error values for vigil. Errors are returned, never thrown across component boundaries
// (LevelDB's Status, Abseil's StatusOr). Thread-safety: values, safe to copy between threads.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace vigil {

// An error: a stable machine-readable kind plus a message for people. `where` names the place
// the problem was found ("policy.yaml:12:7", "context.amount") when there is one.
struct Error {
  enum class Kind {
    kInvalidArgument,  // bad input from a caller or file
    kNotFound,
    kParse,            // a file or body that does not parse
    kIo,
    kConflict,
    kInternal,
  };
  Kind kind = Kind::kInternal;
  std::string message;
  std::string where;

  static Error Invalid(std::string msg, std::string where = {}) {
    return {Kind::kInvalidArgument, std::move(msg), std::move(where)};
  }
  static Error Parse(std::string msg, std::string where = {}) {
    return {Kind::kParse, std::move(msg), std::move(where)};
  }
  static Error NotFound(std::string msg, std::string where = {}) {
    return {Kind::kNotFound, std::move(msg), std::move(where)};
  }
  static Error Io(std::string msg, std::string where = {}) {
    return {Kind::kIo, std::move(msg), std::move(where)};
  }
  // "where: message", or the message alone.
  std::string ToString() const { return where.empty() ? message : where + ": " + message; }
};

// Either a T or an error (an Error unless the component needs a richer one, as the API's
// Problem). Access to the wrong alternative throws std::bad_variant_access: a programming error.
template <typename T, typename E = Error>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(E error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const E& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, E> v_;
};

// Success or an Error, for operations without a value.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  static Status Ok() { return {}; }
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace vigil
