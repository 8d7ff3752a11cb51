#pragma once

#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace esocore {

/// A failure that can travel up to an HTTP answer or a command-line message.
/// `status` is the HTTP status it maps to; `code` is stable snake_case that clients and
/// tests rely on.
struct Error {
    int status = 500;
    std::string code = "internal_error";
    std::string message;
    std::vector<std::pair<std::string, std::string>> fields;
};

inline Error internalError(std::string message) {
    return Error{500, "internal_error", std::move(message), {}};
}

/// Result of an operation on the request path, where exceptions are not used.
template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : state_(std::move(value)) {}
    Result(Error error) : state_(std::move(error)) {}

    bool ok() const { return state_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<0>(state_); }
    const T& value() const& { return std::get<0>(state_); }
    T&& value() && { return std::get<0>(std::move(state_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    const Error& error() const { return std::get<1>(state_); }
    Error&& takeError() { return std::get<1>(std::move(state_)); }

private:
    std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : error_(std::move(error)), failed_(true) {}

    bool ok() const { return !failed_; }
    explicit operator bool() const { return ok(); }
    const Error& error() const { return error_; }
    Error&& takeError() { return std::move(error_); }

private:
    Error error_;
    bool failed_ = false;
};

}  // namespace esocore
