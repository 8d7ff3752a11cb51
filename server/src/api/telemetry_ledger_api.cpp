#include "api/telemetry_ledger_api.h"

#include <boost/json.hpp>

#include "api/pagination.h"
#include "api/telemetry_query.h"
#include "http/response.h"
#include "ingest/records.h"

namespace esocore::api {

namespace json = boost::json;
using http::errorResponse;
using http::jsonResponse;
using http::Request;
using http::Response;

namespace {

const ScopeColumns kDeviceScope{"d.organization_id", "d.site_id", "d.id"};

// The filters both lists share: the device (404 when not visible), and a time column
// bounded by `since` (inclusive) and `until` (exclusive).
Result<std::string> deviceAndTimeFilters(const ApiContext& context, const Request& request,
                                         const Principal& principal, const std::string& device,
                                         const std::string& time, store::SqlParams& params) {
    auto named = optionalDevice(context.sql, request, principal, auth::Action::telemetry_read);
    if (!named) {
        return named.takeError();
    }
    std::string filters;
    if (*named) {
        filters.append(" AND ").append(device).append(" = ").append(addParam(params, (*named)->id));
    }
    for (const auto& [name, op] : {std::pair{"since", " >= "}, std::pair{"until", " < "}}) {
        auto at = timeParam(request, name);
        if (!at) {
            return at.takeError();
        }
        if (*at) {
            filters.append(" AND ").append(time).append(op).append(addParam(params, **at));
        }
    }
    return filters;
}

// ---- packets

constexpr const char* kPacketColumns =
    "p.id, p.device_id, p.idempotency_key, p.body_sha256, p.received_at, p.accepted, "
    "p.duplicates, p.rejected, p.points, p.events, p.errors";

json::object packetJson(const store::SqlRow& row) {
    return json::object{{"id", std::to_string(row.integer(0))},
                        {"device_id", row.text(1)},
                        {"idempotency_key", row.text(2)},
                        {"body_sha256", row.text(3)},
                        {"received_at", formatRfc3339Millis(row.integer(4))},
                        {"accepted", row.integer(5)},
                        {"duplicates", row.integer(6)},
                        {"rejected", row.integer(7)},
                        {"points", row.integer(8)},
                        {"events", row.integer(9)},
                        {"errors", storedJson(row.optionalText(10), json::array())}};
}

Response listPackets(const ApiContext& context, const Request& request,
                     const Principal& principal) {
    auto page = Page::parse(request, {{"received_at", "p.received_at", true}}, "-received_at",
                            "p.id", true);
    if (!page) {
        return errorResponse(page.error());
    }
    store::SqlParams params;
    auto filters =
        deviceAndTimeFilters(context, request, principal, "p.device_id", "p.received_at", params);
    if (!filters) {
        return errorResponse(filters.error());
    }
    std::string visible =
        allowedRows(principal, auth::Action::telemetry_read, kDeviceScope, params);
    std::string sql = "SELECT " + std::string(kPacketColumns) + ", " + page->sortColumn() +
                      " FROM packets p JOIN devices d ON d.id = p.device_id WHERE " + visible +
                      *filters + page->where(params) + page->orderAndLimit();
    auto rows = context.sql.query(sql, params);
    if (!rows) {
        return errorResponse(rows.error());
    }
    json::array items;
    for (const auto& row : *rows) {
        items.push_back(packetJson(row));
    }
    return jsonResponse(200, page->answer(std::move(items), *rows, 11, 0));
}

Response getPacket(const ApiContext& context, const Request& request, const Principal& principal) {
    auto id = integerId(request.param("id"));
    if (!id) {
        return errorResponse(notFound("packet"));
    }
    auto rows = context.sql.query("SELECT " + std::string(kPacketColumns) +
                                      ", d.organization_id, d.site_id FROM packets p "
                                      "JOIN devices d ON d.id = p.device_id WHERE p.id = $1",
                                  {*id});
    if (!rows) {
        return errorResponse(rows.error());
    }
    if (rows->empty()) {
        return errorResponse(notFound("packet"));
    }
    const store::SqlRow& row = rows->front();
    Target target{row.text(11), row.text(12), row.text(1)};
    if (target.organization_id.empty() && !principal.user.is_staff) {
        return errorResponse(notFound("packet"));
    }
    if (auto allowed = require(principal, auth::Action::telemetry_read, target, "packet");
        !allowed) {
        return errorResponse(allowed.error());
    }
    return jsonResponse(200, packetJson(row));
}

// ---- windows

Response listWindows(const ApiContext& context, const Request& request,
                     const Principal& principal) {
    auto page = Page::parse(request,
                            {{"start", "w.start_ts", true}, {"received_at", "w.received_at", true}},
                            "-start", "w.id", true);
    if (!page) {
        return errorResponse(page.error());
    }
    store::SqlParams params;
    auto filters =
        deviceAndTimeFilters(context, request, principal, "w.device_id", "w.start_ts", params);
    if (!filters) {
        return errorResponse(filters.error());
    }
    if (auto name = request.queryParam("name")) {
        // Series names are stored in NFC; either spelling finds them.
        auto normalized = ingest::normalizeName(*name);
        filters->append(" AND w.name = ").append(addParam(params, normalized.value_or(*name)));
    }
    std::string visible =
        allowedRows(principal, auth::Action::telemetry_read, kDeviceScope, params);
    std::string sql =
        "SELECT w.id, w.device_id, w.name, w.start_ts, w.end_ts, w.stats, w.received_at, " +
        page->sortColumn() + " FROM telemetry_windows w JOIN devices d ON d.id = w.device_id " +
        "WHERE " + visible + *filters + page->where(params) + page->orderAndLimit();
    auto rows = context.sql.query(sql, params);
    if (!rows) {
        return errorResponse(rows.error());
    }
    json::array items;
    for (const auto& row : *rows) {
        items.push_back(json::object{{"id", std::to_string(row.integer(0))},
                                     {"device_id", row.text(1)},
                                     {"name", row.text(2)},
                                     {"start", pointTime(row.integer(3))},
                                     {"end", pointTime(row.integer(4))},
                                     {"stats", storedJson(row.optionalText(5), json::object())},
                                     {"received_at", formatRfc3339Millis(row.integer(6))}});
    }
    return jsonResponse(200, page->answer(std::move(items), *rows, 7, 0));
}

}  // namespace

void addTelemetryLedgerRoutes(http::Router& router, const ApiContext& context) {
    using Handler = Response (*)(const ApiContext&, const Request&, const Principal&);
    auto add = [&](const char* pattern, Handler handler) {
        addManaged(router, context.authenticator, "GET", pattern,
                   [&context, handler](const Request& request, const Principal& principal) {
                       return handler(context, request, principal);
                   });
    };
    add("/api/telemetry/packets", listPackets);
    add("/api/telemetry/packets/{id}", getPacket);
    add("/api/telemetry/windows", listWindows);
}

}  // namespace esocore::api
