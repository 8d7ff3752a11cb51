#include "api/overview_api.h"

#include <array>
#include <boost/json.hpp>

#include "api/list_filters.h"
#include "api/pagination.h"
#include "http/response.h"

namespace esocore::api {

namespace json = boost::json;
using auth::Action;
using http::errorResponse;
using http::jsonResponse;
using http::Request;
using http::Response;

namespace {

constexpr Micros kSecond = 1'000'000;
constexpr Micros kDay = 86'400 * kSecond;
constexpr std::array<std::string_view, 5> kStatuses{"unclaimed", "active", "maintenance",
                                                    "inactive", "decommissioned"};
constexpr std::array<std::string_view, 5> kSeverities{"info", "low", "medium", "high", "critical"};

// What the summary is narrowed to: `?organization_id=` and `?site_id=`.
struct StatsFilter {
    std::optional<std::string> organization_id;
    std::optional<std::string> site_id;

    // " AND org = $N AND site = $M" for the columns a table has.
    std::string conditions(const std::string& organization_column, const std::string& site_column,
                           store::SqlParams& params) const {
        std::string out;
        if (organization_id) {
            out.append(" AND ").append(organization_column).append(" = ");
            out.append(addParam(params, *organization_id));
        }
        if (site_id) {
            out.append(" AND ").append(site_column).append(" = ");
            out.append(addParam(params, *site_id));
        }
        return out;
    }
};

json::object zeroCounts(const auto& names) {
    json::object out;
    for (std::string_view name : names) {
        out[name] = 0;
    }
    return out;
}

// The offline timeout of one device: its own override, else its model's profile, else the
// server's default (the same order as the device's effective configuration).
Micros offlineTimeout(const Config& config, const std::string& overrides,
                      const std::string& profile) {
    for (const std::string* text : {&overrides, &profile}) {
        if (text->find("offline_timeout_s") == std::string::npos) {
            continue;  // most devices: no JSON to parse
        }
        json::error_code ec;
        json::value settings = json::parse(*text, ec);
        const json::value* timeout = !ec && settings.is_object()
                                         ? settings.as_object().if_contains("offline_timeout_s")
                                         : nullptr;
        if (timeout != nullptr && timeout->is_int64() && timeout->as_int64() > 0) {
            return timeout->as_int64() * kSecond;
        }
    }
    return Micros{config.default_offline_timeout_seconds} * kSecond;
}

// Devices by status, and online (seen within the offline timeout) or offline (active or in
// maintenance, so expected to report, but not online).
Result<json::object> deviceStats(const ApiContext& context, const Principal& principal,
                                 const StatsFilter& filter, Micros now) {
    store::SqlParams params;
    std::string sql =
        "SELECT d.status, d.last_seen, d.config_overrides, coalesce(cp.settings, '{}') "
        "FROM devices d LEFT JOIN config_profiles cp "
        "ON cp.organization_id = d.organization_id AND cp.model = d.model WHERE " +
        allowedRows(principal, Action::device_read,
                    ScopeColumns{"d.organization_id", "d.site_id", "d.id"}, params) +
        filter.conditions("d.organization_id", "d.site_id", params);
    auto rows = context.sql.query(sql, params);
    if (!rows) {
        return rows.takeError();
    }
    json::object by_status = zeroCounts(kStatuses);
    std::int64_t online = 0;
    std::int64_t offline = 0;
    std::int64_t never_seen = 0;
    for (const auto& row : *rows) {
        std::string status = row.text(0);
        if (json::value* count = by_status.if_contains(status)) {
            *count = count->as_int64() + 1;
        }
        auto last_seen = row.optionalInteger(1);
        never_seen += last_seen ? 0 : 1;
        bool is_online = last_seen && now - *last_seen <=
                                          offlineTimeout(context.config, row.text(2), row.text(3));
        if (is_online) {
            ++online;
        } else if (status == "active" || status == "maintenance") {
            ++offline;
        }
    }
    return json::object{{"total", static_cast<std::int64_t>(rows->size())},
                        {"online", online},
                        {"offline", offline},
                        {"never_seen", never_seen},
                        {"by_status", std::move(by_status)}};
}

Result<json::object> eventStats(const ApiContext& context, const Principal& principal,
                                const StatsFilter& filter) {
    store::SqlParams params;
    std::string sql =
        "SELECT e.severity, count(*) FROM events e LEFT JOIN devices d ON d.id = e.device_id "
        "WHERE e.status = 'active' AND " +
        allowedRows(principal, Action::event_read,
                    ScopeColumns{"e.organization_id", "d.site_id", "e.device_id"}, params) +
        filter.conditions("e.organization_id", "d.site_id", params) + " GROUP BY e.severity";
    auto rows = context.sql.query(sql, params);
    if (!rows) {
        return rows.takeError();
    }
    json::object by_severity = zeroCounts(kSeverities);
    std::int64_t active = 0;
    for (const auto& row : *rows) {
        by_severity[row.text(0)] = row.integer(1);
        active += row.integer(1);
    }
    return json::object{{"active", active}, {"by_severity", std::move(by_severity)}};
}

Result<json::object> telemetryStats(const ApiContext& context, const Principal& principal,
                                    const StatsFilter& filter, Micros now) {
    store::SqlParams params;
    std::string since = addParam(params, now - kDay);
    std::string sql =
        "SELECT coalesce(sum(p.points), 0), count(*) FROM packets p "
        "JOIN devices d ON d.id = p.device_id WHERE p.received_at >= " +
        since + " AND " +
        allowedRows(principal, Action::telemetry_read,
                    ScopeColumns{"d.organization_id", "d.site_id", "d.id"}, params) +
        filter.conditions("d.organization_id", "d.site_id", params);
    auto rows = context.sql.query(sql, params);
    if (!rows) {
        return rows.takeError();
    }
    return json::object{{"points_24h", rows->front().integer(0)},
                        {"packets_24h", rows->front().integer(1)}};
}

// How many rows of `table` (alias `t`) the caller may read.
Result<std::int64_t> countRows(const ApiContext& context, const Principal& principal,
                               const StatsFilter& filter, const std::string& table, Action action,
                               const std::string& site_column) {
    store::SqlParams params;
    std::string sql =
        "SELECT count(*) FROM " + table + " t WHERE " +
        allowedRows(principal, action, ScopeColumns{"t.organization_id", site_column, {}}, params) +
        filter.conditions("t.organization_id", site_column, params);
    auto rows = context.sql.query(sql, params);
    if (!rows) {
        return rows.takeError();
    }
    return rows->front().integer(0);
}

Result<json::object> summary(const ApiContext& context, const Principal& principal,
                             const StatsFilter& filter) {
    Micros now = nowMicros();
    auto devices = deviceStats(context, principal, filter, now);
    if (!devices) {
        return devices.takeError();
    }
    auto events = eventStats(context, principal, filter);
    if (!events) {
        return events.takeError();
    }
    auto telemetry = telemetryStats(context, principal, filter, now);
    if (!telemetry) {
        return telemetry.takeError();
    }
    auto sites = countRows(context, principal, filter, "sites", Action::site_read, "t.id");
    if (!sites) {
        return sites.takeError();
    }
    auto assets = countRows(context, principal, filter, "assets", Action::asset_read, "t.site_id");
    if (!assets) {
        return assets.takeError();
    }
    return json::object{{"devices", std::move(*devices)},
                        {"events", std::move(*events)},
                        {"telemetry", std::move(*telemetry)},
                        {"sites", *sites},
                        {"assets", *assets},
                        {"generated_at", formatRfc3339Millis(now)}};
}

// `?name=<uuid>`, canonical; 400 invalid_parameter for anything else.
Result<std::optional<std::string>> filterId(const Request& request, std::string_view name) {
    auto value = request.queryParam(name);
    if (!value) {
        return std::optional<std::string>();
    }
    std::string id = canonicalId(*value);
    if (id.empty()) {
        return invalidParameter(std::string(name), "must be an id (UUID)");
    }
    return std::optional<std::string>(std::move(id));
}

Response stats(const ApiContext& context, const Request& request, const Principal& principal) {
    auto organization = filterId(request, "organization_id");
    if (!organization) {
        return errorResponse(organization.error());
    }
    auto site = filterId(request, "site_id");
    if (!site) {
        return errorResponse(site.error());
    }
    auto answer = summary(context, principal, StatsFilter{*organization, *site});
    if (!answer) {
        return errorResponse(answer.error());
    }
    return jsonResponse(200, *answer);
}

}  // namespace

void addOverviewRoutes(http::Router& router, const ApiContext& context) {
    addManaged(router, context.authenticator, "GET", "/api/stats",
               [&context](const Request& request, const Principal& principal) {
                   return stats(context, request, principal);
               });
    // Public: the sign-in page shows the names before anyone signs in.
    router.add("GET", "/api/branding", http::SyncHandler([&context](const Request&) {
                   Response response =
                       jsonResponse(200, json::object{{"brand_name", context.config.brand_name},
                                                      {"product_name", context.config.product_name},
                                                      {"admin_title", context.config.admin_title}});
                   response.setHeader("cache-control", "public, max-age=300");
                   return response;
               }));
}

}  // namespace esocore::api
