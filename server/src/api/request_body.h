#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "http/message.h"

namespace esocore::api {

/// The request body as a JSON object; an empty body is an empty object. 400 invalid_json
/// otherwise.
Result<boost::json::object> readObject(const http::Request& request);

/// 400 validation_failed with one field's message.
Error invalidField(std::string field, std::string message);

/// How a text field is checked.
struct TextRule {
    bool required = false;
    std::size_t max_length = 1000;
    bool allow_empty = true;
};

/// How an integer field is checked.
struct NumberRule {
    bool required = false;
    std::int64_t min = INT64_MIN;
    std::int64_t max = INT64_MAX;
};

/// Reads the fields of a JSON body, collecting every problem so that one answer names all of
/// them: 400 validation_failed with `fields` {"name": "message", ...}.
///
///     BodyReader body(*object);
///     auto name = body.text("name", {.required = true, .max_length = 200});
///     auto tz = body.timeZone("time_zone");
///     body.rejectUnknown({"name", "time_zone"});
///     if (auto checked = body.result(); !checked) return errorResponse(checked.error());
class BodyReader {
public:
    explicit BodyReader(const boost::json::object& body) : body_(body) {}

    bool has(std::string_view key) const { return body_.contains(key); }
    /// True when the key is present with the value null (a request to clear it).
    bool isNull(std::string_view key) const;

    std::optional<std::string> text(std::string_view key, TextRule rule = {});
    /// A string that must be one of `choices`.
    std::optional<std::string> choice(std::string_view key,
                                      std::initializer_list<std::string_view> choices,
                                      bool required = false);
    std::optional<std::int64_t> integer(std::string_view key, NumberRule rule = {});
    std::optional<double> number(std::string_view key, bool required = false);
    std::optional<bool> boolean(std::string_view key, bool required = false);
    /// An RFC 3339 time as microseconds.
    std::optional<Micros> time(std::string_view key, bool required = false);
    /// An IANA time zone name known to the time zone database.
    std::optional<std::string> timeZone(std::string_view key, bool required = false);
    /// A UUID string (an id of another object).
    std::optional<std::string> id(std::string_view key, bool required = false);
    /// A JSON object, serialized.
    std::optional<std::string> object(std::string_view key, bool required = false);
    /// A JSON array of strings, serialized.
    std::optional<std::string> stringArray(std::string_view key, bool required = false);
    /// Any JSON value, serialized.
    std::optional<std::string> anyValue(std::string_view key, bool required = false);

    /// Names every key not in `known` as unknown.
    void rejectUnknown(std::initializer_list<std::string_view> known);
    void fail(std::string field, std::string message);

    /// Ok, or 400 validation_failed naming each bad field.
    Result<void> result() const;

private:
    const boost::json::value* present(std::string_view key, bool required);

    const boost::json::object& body_;
    std::vector<std::pair<std::string, std::string>> problems_;
};

/// Whether `name` is a time zone of the IANA database on this machine.
bool isTimeZone(const std::string& name);

}  // namespace esocore::api
