#include "api/request_body.h"

#include <date/tz.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>

#include "core/crypto.h"

namespace esocore::api {

namespace json = boost::json;

Result<json::object> readObject(const http::Request& request) {
    if (request.body.empty()) {
        return json::object{};
    }
    json::error_code ec;
    json::value value = json::parse(request.body, ec);
    if (ec || !value.is_object()) {
        return Error{400, "invalid_json", "body must be a JSON object", {}};
    }
    return std::move(value.as_object());
}

Error invalidField(std::string field, std::string message) {
    return Error{400,
                 "validation_failed",
                 "the request has invalid fields",
                 {{std::move(field), std::move(message)}}};
}

bool isTimeZone(const std::string& name) {
    if (name.empty()) {
        return false;
    }
    try {
        return date::locate_zone(name) != nullptr;
    } catch (const std::exception&) {
        return false;
    }
}

bool BodyReader::isNull(std::string_view key) const {
    const json::value* value = body_.if_contains(key);
    return value != nullptr && value->is_null();
}

const json::value* BodyReader::present(std::string_view key, bool required) {
    const json::value* value = body_.if_contains(key);
    if (value == nullptr || value->is_null()) {
        if (required) {
            fail(std::string(key), "required");
        }
        return nullptr;
    }
    return value;
}

std::optional<std::string> BodyReader::text(std::string_view key, TextRule rule) {
    const json::value* value = present(key, rule.required);
    if (value == nullptr) {
        return std::nullopt;
    }
    if (!value->is_string()) {
        fail(std::string(key), "must be a string");
        return std::nullopt;
    }
    std::string out(value->as_string());
    if (out.size() > rule.max_length) {
        fail(std::string(key), "at most " + std::to_string(rule.max_length) + " bytes");
        return std::nullopt;
    }
    if (out.find('\0') != std::string::npos) {
        fail(std::string(key), "must not contain NUL");
        return std::nullopt;
    }
    if (!rule.allow_empty && std::all_of(out.begin(), out.end(), [](unsigned char c) {
            return c == ' ' || c == '\t' || c == '\n' || c == '\r';
        })) {
        fail(std::string(key), "must not be empty");
        return std::nullopt;
    }
    return out;
}

std::optional<std::string> BodyReader::choice(std::string_view key,
                                              std::initializer_list<std::string_view> choices,
                                              bool required) {
    auto value = text(key, {.required = required, .max_length = 100});
    if (!value) {
        return std::nullopt;
    }
    if (std::find(choices.begin(), choices.end(), *value) == choices.end()) {
        std::string list;
        for (std::string_view c : choices) {
            list += list.empty() ? "" : ", ";
            list += c;
        }
        fail(std::string(key), "must be one of: " + list);
        return std::nullopt;
    }
    return value;
}

std::optional<std::int64_t> BodyReader::integer(std::string_view key, NumberRule rule) {
    const json::value* value = present(key, rule.required);
    if (value == nullptr) {
        return std::nullopt;
    }
    std::optional<std::int64_t> out;
    if (value->is_int64()) {
        out = value->as_int64();
    } else if (value->is_uint64() && value->as_uint64() <= INT64_MAX) {
        out = static_cast<std::int64_t>(value->as_uint64());
    } else if (value->is_double() && std::trunc(value->as_double()) == value->as_double() &&
               std::abs(value->as_double()) < 9.0e15) {
        out = static_cast<std::int64_t>(value->as_double());
    }
    if (!out) {
        fail(std::string(key), "must be an integer");
        return std::nullopt;
    }
    if (*out < rule.min || *out > rule.max) {
        fail(std::string(key),
             "must be between " + std::to_string(rule.min) + " and " + std::to_string(rule.max));
        return std::nullopt;
    }
    return out;
}

std::optional<double> BodyReader::number(std::string_view key, bool required) {
    const json::value* value = present(key, required);
    if (value == nullptr) {
        return std::nullopt;
    }
    if (!value->is_number()) {
        fail(std::string(key), "must be a number");
        return std::nullopt;
    }
    return value->to_number<double>();
}

std::optional<bool> BodyReader::boolean(std::string_view key, bool required) {
    const json::value* value = present(key, required);
    if (value == nullptr) {
        return std::nullopt;
    }
    if (!value->is_bool()) {
        fail(std::string(key), "must be true or false");
        return std::nullopt;
    }
    return value->as_bool();
}

std::optional<Micros> BodyReader::time(std::string_view key, bool required) {
    auto value = text(key, {.required = required, .max_length = 64});
    if (!value) {
        return std::nullopt;
    }
    auto at = parseRfc3339(*value);
    if (!at) {
        fail(std::string(key), "must be an RFC 3339 time, e.g. 2026-01-31T08:00:00Z");
    }
    return at;
}

std::optional<std::string> BodyReader::timeZone(std::string_view key, bool required) {
    auto value = text(key, {.required = required, .max_length = 64});
    if (!value) {
        return std::nullopt;
    }
    if (!isTimeZone(*value)) {
        fail(std::string(key), "must be an IANA time zone, e.g. Europe/Berlin");
        return std::nullopt;
    }
    return value;
}

std::optional<std::string> BodyReader::id(std::string_view key, bool required) {
    auto value = text(key, {.required = required, .max_length = 64});
    if (!value) {
        return std::nullopt;
    }
    if (!isUuid(*value)) {
        fail(std::string(key), "must be an id (UUID)");
        return std::nullopt;
    }
    return value;
}

std::optional<std::string> BodyReader::object(std::string_view key, bool required) {
    const json::value* value = present(key, required);
    if (value == nullptr) {
        return std::nullopt;
    }
    if (!value->is_object()) {
        fail(std::string(key), "must be an object");
        return std::nullopt;
    }
    return json::serialize(*value);
}

std::optional<std::string> BodyReader::stringArray(std::string_view key, bool required) {
    const json::value* value = present(key, required);
    if (value == nullptr) {
        return std::nullopt;
    }
    if (!value->is_array() ||
        !std::all_of(value->as_array().begin(), value->as_array().end(),
                     [](const json::value& item) { return item.is_string(); })) {
        fail(std::string(key), "must be an array of strings");
        return std::nullopt;
    }
    return json::serialize(*value);
}

std::optional<std::string> BodyReader::anyValue(std::string_view key, bool required) {
    const json::value* value = present(key, required);
    if (value == nullptr) {
        return std::nullopt;
    }
    return json::serialize(*value);
}

void BodyReader::rejectUnknown(std::initializer_list<std::string_view> known) {
    for (const auto& item : body_) {
        if (std::find(known.begin(), known.end(), item.key()) == known.end()) {
            fail(std::string(item.key()), "unknown field");
        }
    }
}

void BodyReader::fail(std::string field, std::string message) {
    for (const auto& problem : problems_) {
        if (problem.first == field) {
            return;  // the first problem of a field is the one to fix
        }
    }
    problems_.emplace_back(std::move(field), std::move(message));
}

Result<void> BodyReader::result() const {
    if (problems_.empty()) {
        return {};
    }
    return Error{400, "validation_failed", "the request has invalid fields", problems_};
}

}  // namespace esocore::api
