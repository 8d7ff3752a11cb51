#include "api/telemetry_query.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <charconv>
#include <limits>

#include "api/pagination.h"
#include "core/crypto.h"
#include "ingest/records.h"

namespace esocore::api {

namespace json = boost::json;

namespace {

// Ids compare as PostgreSQL's uuid does, without case, on SQLite too.
std::string lowercase(std::string text) {
    for (char& c : text) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return text;
}

Result<TelemetryDevice> findDevice(store::SqlSession& sql, const std::string& id,
                                   const Principal& principal, auth::Action action) {
    if (!isUuid(id)) {
        return notFound("device");
    }
    auto rows = sql.query("SELECT id, organization_id, site_id, serial FROM devices WHERE id = $1",
                          {lowercase(id)});
    if (!rows) {
        return rows.takeError();
    }
    if (rows->empty()) {
        return notFound("device");
    }
    const store::SqlRow& row = rows->front();
    // Null columns read as empty text.
    TelemetryDevice device{row.text(0), row.text(1), row.text(2), row.text(3)};
    // An unclaimed device belongs to no organization: only staff see its data.
    if (device.organization_id.empty() && !principal.user.is_staff) {
        return notFound("device");
    }
    Target target{device.organization_id, device.site_id, device.id};
    if (auto allowed = require(principal, action, target, "device"); !allowed) {
        return allowed.takeError();
    }
    return device;
}

void addName(std::vector<std::string>& names, std::string_view name) {
    auto normalized = ingest::normalizeName(name);
    if (normalized && !normalized->empty() &&
        std::find(names.begin(), names.end(), *normalized) == names.end()) {
        names.push_back(std::move(*normalized));
    }
}

}  // namespace

Result<TelemetryDevice> requestedDevice(store::SqlSession& sql, const http::Request& request,
                                        const Principal& principal, auth::Action action) {
    auto id = request.queryParam("device_id");
    if (!id) {
        return invalidParameter("device_id", "required");
    }
    return findDevice(sql, *id, principal, action);
}

Result<std::optional<TelemetryDevice>> optionalDevice(store::SqlSession& sql,
                                                      const http::Request& request,
                                                      const Principal& principal,
                                                      auth::Action action) {
    auto id = request.queryParam("device_id");
    if (!id) {
        return std::optional<TelemetryDevice>();
    }
    auto device = findDevice(sql, *id, principal, action);
    if (!device) {
        return device.takeError();
    }
    return std::optional<TelemetryDevice>(std::move(*device));
}

Result<TimeRange> requestedRange(const http::Request& request, bool required) {
    auto start = timeParam(request, "start");
    if (!start) {
        return start.takeError();
    }
    auto end = timeParam(request, "end");
    if (!end) {
        return end.takeError();
    }
    if (required && !*start) {
        return invalidParameter("start", "required");
    }
    if (required && !*end) {
        return invalidParameter("end", "required");
    }
    TimeRange range{start->value_or(std::numeric_limits<Micros>::min()),
                    end->value_or(std::numeric_limits<Micros>::max())};
    if (range.end <= range.start) {
        return invalidParameter("end", "must be after start");
    }
    return range;
}

std::vector<std::string> requestedMetrics(const http::Request& request) {
    std::vector<std::string> names;
    for (const std::string& value : request.queryParams("metric")) {
        addName(names, value);
        if (value.find(',') == std::string::npos) {
            continue;
        }
        std::string_view rest = value;
        for (auto comma = rest.find(','); !rest.empty(); comma = rest.find(',')) {
            addName(names, rest.substr(0, comma));
            rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        }
    }
    return names;
}

std::string nameIn(const std::string& column, const std::vector<std::string>& names,
                   store::SqlParams& params) {
    if (names.empty()) {
        return {};
    }
    std::string condition = " AND " + column + " IN (";
    for (std::size_t i = 0; i < names.size(); ++i) {
        condition.append(i == 0 ? "" : ", ").append(addParam(params, names[i]));
    }
    return condition.append(")");
}

std::string searchCondition(const http::Request& request, const std::string& column,
                            store::SqlParams& params) {
    auto term = request.queryParam("search");
    if (!term || term->empty()) {
        return {};
    }
    std::string pattern = "%";
    for (char c : lowercase(*term)) {
        if (c == '%' || c == '_' || c == '\\') {
            pattern.push_back('\\');
        }
        pattern.push_back(c);
    }
    pattern.push_back('%');
    return " AND lower(" + column + ") LIKE " + addParam(params, pattern) + " ESCAPE '\\'";
}

std::optional<std::int64_t> integerId(std::string_view text) {
    std::int64_t id = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc() || end != text.data() + text.size() || id <= 0) {
        return std::nullopt;
    }
    return id;
}

json::value storedJson(const std::optional<std::string>& text, json::value fallback) {
    if (!text || text->empty()) {
        return fallback;
    }
    json::error_code ec;
    json::value value = json::parse(*text, ec);
    return ec ? fallback : value;
}

std::string pointTime(Micros at) {
    return at % 1000 == 0 ? formatRfc3339Millis(at) : formatRfc3339Micros(at);
}

}  // namespace esocore::api
