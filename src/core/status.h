// Status and Result<T>: how every function that touches input reports failure.
//
// A Status is OK or carries a code and a message that names what failed and
// where (file, field, value). Result<T> is a value or a non-OK Status.
// No exception crosses a module boundary; library code never calls exit().
// Status and Result are plain values: safe to copy and to read from many
// threads at once.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace aigc {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // the caller passed something unusable
  kNotFound,         // a named file, key or tensor does not exist
  kCorruption,       // a file's bytes contradict its format
  kUnsupported,      // valid, but this build cannot handle it (yet)
  kIOError,          // the operating system refused
  kOutOfRange,       // a size or index beyond a limit
};

const char* status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok_status() { return Status(); }
  static Status invalid_argument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status not_found(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status unsupported(std::string m) { return {StatusCode::kUnsupported, std::move(m)}; }
  static Status io_error(std::string m) { return {StatusCode::kIOError, std::move(m)}; }
  static Status out_of_range(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "Corruption: model.gguf: tensor 'x': offset 12 is outside the data section"
  std::string to_string() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}                       // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}               // NOLINT: implicit by design

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace aigc

#define AIGC_CONCAT_INNER(a, b) a##b
#define AIGC_CONCAT(a, b) AIGC_CONCAT_INNER(a, b)

// Returns from the enclosing function if `expr` (a Status) is not OK.
#define AIGC_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::aigc::Status aigc_status_ = (expr);        \
    if (!aigc_status_.ok()) return aigc_status_; \
  } while (0)

// `lhs = value of expr` (a Result<T>), or returns its Status.
#define AIGC_ASSIGN_OR_RETURN(lhs, expr) \
  AIGC_ASSIGN_OR_RETURN_IMPL(AIGC_CONCAT(aigc_result_, __LINE__), lhs, expr)
#define AIGC_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()
