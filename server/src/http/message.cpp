#include "http/message.h"

#include <algorithm>
#include <boost/url/parse_query.hpp>
#include <cctype>

namespace esocore::http {

namespace {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

}  // namespace

std::string_view Request::header(std::string_view name) const {
    for (const auto& h : headers) {
        if (equalsIgnoreCase(h.name, name)) {
            return h.value;
        }
    }
    return {};
}

bool Request::hasHeader(std::string_view name) const {
    return std::any_of(headers.begin(), headers.end(),
                       [&](const Header& h) { return equalsIgnoreCase(h.name, name); });
}

std::string_view Request::param(std::string_view name) const {
    for (const auto& [key, value] : params) {
        if (key == name) {
            return value;
        }
    }
    return {};
}

std::optional<std::string> Request::queryParam(std::string_view name) const {
    auto parsed = boost::urls::parse_query(query);
    if (!parsed) {
        return std::nullopt;
    }
    for (auto param : *parsed) {
        // The view's strings are still percent-encoded; `+` stays a plus sign.
        if (param.key.decode() == name) {
            return param.value.decode();
        }
    }
    return std::nullopt;
}

std::vector<std::string> Request::queryParams(std::string_view name) const {
    std::vector<std::string> values;
    auto parsed = boost::urls::parse_query(query);
    if (!parsed) {
        return values;
    }
    for (auto param : *parsed) {
        if (param.key.decode() == name) {
            values.push_back(param.value.decode());
        }
    }
    return values;
}

void Response::setHeader(std::string name, std::string value) {
    for (auto& h : headers) {
        if (equalsIgnoreCase(h.name, name)) {
            h.value = std::move(value);
            return;
        }
    }
    headers.push_back({std::move(name), std::move(value)});
}

std::string_view Response::header(std::string_view name) const {
    for (const auto& h : headers) {
        if (equalsIgnoreCase(h.name, name)) {
            return h.value;
        }
    }
    return {};
}

}  // namespace esocore::http
