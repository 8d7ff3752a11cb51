#include "api/asset_cycles_api.h"

#include <algorithm>
#include <boost/json.hpp>
#include <numeric>

#include "api/area_routes.h"
#include "api/asset_scope.h"
#include "api/json_values.h"
#include "api/list_filters.h"
#include "api/local_calendar.h"
#include "api/maintenance_plans_api.h"
#include "api/pagination.h"
#include "http/response.h"

namespace esocore::api {

namespace json = boost::json;
using http::errorResponse;
using http::jsonResponse;
using http::Request;
using http::Response;

namespace {

constexpr std::size_t kMaxBuckets = 400;
constexpr int kDefaultDays = 30;
constexpr int kDefaultWeeks = 12;
constexpr Micros kHour = 3'600'000'000;

json::object cycleJson(const store::SqlRow& row) {
    return json::object{
        {"id", row.text(0)},
        {"device_id", row.text(1)},
        {"device_serial", row.text(2)},
        {"asset_ref", row.text(3)},
        {"cycle_id", row.integer(4)},
        {"cycle_type", row.text(5)},
        {"started_at", timeOrNull(row.optionalInteger(6))},
        {"ended_at", timeOrNull(row.optionalInteger(7))},
        {"duration_ms", integerOrNull(row, 8)},
        {"metadata", storedJson(row.text(9), json::object{})},
    };
}

// " AND <cycle time> >= since AND ... < until" from the query.
Result<std::string> cycleTimeFilter(const Request& request, store::SqlParams& params) {
    std::string conditions;
    for (auto [name, op] : {std::pair{"since", " >= "}, std::pair{"until", " < "}}) {
        auto at = timeParam(request, name);
        if (!at) {
            return at.takeError();
        }
        if (*at) {
            conditions.append(" AND ").append(kCycleTime).append(op).append(addParam(params, **at));
        }
    }
    return conditions;
}

Response listCycles(const ApiContext& ctx, const Request& request, const Principal& principal) {
    auto asset = loadAsset(ctx.sql, principal, request.param("id"), auth::Action::asset_read);
    if (!asset) {
        return errorResponse(asset.error());
    }
    auto page = Page::parse(
        request,
        {{"started_at", kCycleTime, true}, {"duration_ms", "coalesce(c.duration_ms, -1)", true}},
        "-started_at", "c.id", true);
    if (!page) {
        return errorResponse(page.error());
    }
    store::SqlParams params;
    std::string conditions = assetCycles(*asset, params);
    auto times = cycleTimeFilter(request, params);
    if (!times) {
        return errorResponse(times.error());
    }
    auto device = idFilter(request, "device_id", "c.device_id", params);
    if (!device) {
        return errorResponse(device.error());
    }
    conditions += *times + *device + textFilter(request, "cycle_type", "c.cycle_type", params);
    auto rows = ctx.sql.query(
        "SELECT c.id, c.device_id, d.serial, c.asset_ref, c.cycle_id, c.cycle_type, "
        "c.started_at, c.ended_at, c.duration_ms, c.metadata, " +
            page->sortColumn() +
            " FROM asset_cycles c JOIN devices d ON d.id = c.device_id WHERE " + conditions +
            page->where(params) + page->orderAndLimit(),
        params);
    if (!rows) {
        return errorResponse(rows.error());
    }
    json::array items;
    for (const auto& row : *rows) {
        items.push_back(cycleJson(row));
    }
    return jsonResponse(200, page->answer(std::move(items), *rows, 10, 0));
}

// Totals over all of the asset's cycles and over those since the starts of the local day,
// week and month.
Result<json::object> cycleTotals(store::SqlSession& sql, const AssetScope& asset, Micros now) {
    const date::time_zone* zone = zoneOrUtc(asset.time_zone);
    LocalDay today = localDay(zone, now);
    store::SqlParams params;
    auto since = [&](LocalDay day) {
        return std::string("sum(CASE WHEN ") + kCycleTime +
               " >= " + addParam(params, startOfDay(zone, day)) + " THEN 1 ELSE 0 END)";
    };
    std::string sql_text = "SELECT count(*), " + since(today) + ", " + since(isoWeekStart(today)) +
                           ", " + since(monthStart(today)) +
                           ", sum(CASE WHEN c.ended_at IS NULL THEN 1 ELSE 0 END), "
                           "avg(c.duration_ms), max(" +
                           kCycleTime +
                           ") FROM asset_cycles c JOIN devices d ON d.id = c.device_id WHERE " +
                           assetCycles(asset, params);
    auto rows = sql.query(sql_text, params);
    if (!rows) {
        return rows.takeError();
    }
    const store::SqlRow& row = rows->front();
    return json::object{
        {"total_cycles", row.integer(0)},
        {"cycles_today", row.integer(1)},
        {"cycles_this_week", row.integer(2)},
        {"cycles_this_month", row.integer(3)},
        {"open_cycles", row.integer(4)},
        {"average_duration_ms", row.isNull(5) ? json::value(nullptr) : json::value(row.real(5))},
        {"last_cycle_at", timeOrNull(row.optionalInteger(6))},
    };
}

// The duration of the asset's most recent finished cycle, or null.
Result<json::value> lastDuration(store::SqlSession& sql, const AssetScope& asset) {
    store::SqlParams params;
    auto rows = sql.query(
        "SELECT c.duration_ms FROM asset_cycles c JOIN devices d ON d.id = c.device_id WHERE " +
            assetCycles(asset, params) +
            " AND c.duration_ms IS NOT NULL ORDER BY coalesce(c.ended_at, c.started_at) DESC, "
            "c.id DESC LIMIT 1",
        params);
    if (!rows) {
        return rows.takeError();
    }
    return rows->empty() ? json::value(nullptr) : json::value(rows->front().integer(0));
}

Response getCounters(const ApiContext& ctx, const Request& request, const Principal& principal) {
    auto asset = loadAsset(ctx.sql, principal, request.param("id"), auth::Action::asset_read);
    if (!asset) {
        return errorResponse(asset.error());
    }
    Micros now = nowMicros();
    auto totals = cycleTotals(ctx.sql, *asset, now);
    if (!totals) {
        return errorResponse(totals.error());
    }
    auto last = lastDuration(ctx.sql, *asset);
    if (!last) {
        return errorResponse(last.error());
    }
    auto maintenance = maintenanceDue(ctx.sql, *asset, now);
    if (!maintenance) {
        return errorResponse(maintenance.error());
    }
    json::object answer{{"asset_id", asset->id},
                        {"external_id", asset->external_id},
                        {"time_zone", zoneOrUtc(asset->time_zone)->name()}};
    for (auto& item : *totals) {
        answer.emplace(item.key(), std::move(item.value()));
    }
    answer["last_duration_ms"] = std::move(*last);
    answer["maintenance"] = std::move(*maintenance);
    return jsonResponse(200, answer);
}

// The histogram's local days or weeks: the first day of each, and the instants at which
// they begin, with the end of the last one after them.
struct Buckets {
    bool weekly = false;
    LocalDay first;
    LocalDay last;
    std::vector<LocalDay> days;
    std::vector<Micros> bounds;
};

Result<std::optional<LocalDay>> dateParam(const Request& request, std::string_view name) {
    auto text = request.queryParam(name);
    if (!text) {
        return std::optional<LocalDay>{};
    }
    auto day = parseDate(*text);
    if (!day) {
        return invalidParameter(std::string(name), "must be a date, YYYY-MM-DD");
    }
    return std::optional<LocalDay>{*day};
}

// The buckets that `period`, `start` and `end` ask for: by default the last 30 days or the
// last 12 weeks up to today in the asset's zone.
Result<Buckets> readBuckets(const Request& request, const date::time_zone* zone) {
    Buckets buckets;
    std::string period = request.queryParam("period").value_or("daily");
    if (period != "daily" && period != "weekly") {
        return invalidParameter("period", "daily or weekly");
    }
    buckets.weekly = period == "weekly";
    auto start = dateParam(request, "start");
    auto end = dateParam(request, "end");
    if (!start || !end) {
        return !start ? start.takeError() : end.takeError();
    }
    date::days step{buckets.weekly ? 7 : 1};
    buckets.last = end->value_or(localDay(zone, nowMicros()));
    buckets.first = start->value_or(buckets.last -
                                    step * ((buckets.weekly ? kDefaultWeeks : kDefaultDays) - 1));
    if (buckets.first > buckets.last) {
        return invalidParameter("start", "must not be after end");
    }
    LocalDay from = buckets.weekly ? isoWeekStart(buckets.first) : buckets.first;
    LocalDay to = buckets.weekly ? isoWeekStart(buckets.last) : buckets.last;
    if ((to - from) / step >= static_cast<std::int64_t>(kMaxBuckets)) {
        return invalidParameter("start", "at most " + std::to_string(kMaxBuckets) + " " +
                                             (buckets.weekly ? "weeks" : "days"));
    }
    for (LocalDay day = from; day <= to; day += step) {
        buckets.days.push_back(day);
        buckets.bounds.push_back(startOfDay(zone, day));
    }
    buckets.bounds.push_back(startOfDay(zone, to + step));
    return buckets;
}

// Counts the asset's cycles in each bucket. Cycles are grouped in the store by the largest
// slot of time (at most an hour) that every boundary is a multiple of, so each slot falls in
// exactly one local day, whatever the zone's offset (whole, half or quarter hours).
Result<std::vector<std::int64_t>> countPerBucket(store::SqlSession& sql, const AssetScope& asset,
                                                 const Buckets& buckets) {
    Micros slot = kHour;
    for (Micros bound : buckets.bounds) {
        slot = std::gcd(slot, bound);
    }
    store::SqlParams params;
    std::string sql_text = std::string("SELECT ") + kCycleTime + " / " + std::to_string(slot) +
                           ", count(*) FROM asset_cycles c JOIN devices d ON d.id = c.device_id "
                           "WHERE " +
                           assetCycles(asset, params) + " AND " + kCycleTime +
                           " >= " + addParam(params, buckets.bounds.front()) + " AND " +
                           kCycleTime + " < " + addParam(params, buckets.bounds.back()) +
                           " GROUP BY 1";
    auto rows = sql.query(sql_text, params);
    if (!rows) {
        return rows.takeError();
    }
    std::vector<std::int64_t> counts(buckets.days.size(), 0);
    for (const auto& row : *rows) {
        Micros at = row.integer(0) * slot;
        auto after = std::upper_bound(buckets.bounds.begin(), buckets.bounds.end(), at);
        counts[static_cast<std::size_t>(after - buckets.bounds.begin() - 1)] += row.integer(1);
    }
    return counts;
}

json::object histogramJson(const AssetScope& asset, const date::time_zone* zone,
                           const Buckets& buckets, const std::vector<std::int64_t>& counts) {
    json::array items;
    std::int64_t total = 0;
    for (std::size_t i = 0; i < buckets.days.size(); ++i) {
        total += counts[i];
        items.push_back(json::object{
            {"date", formatDate(buckets.days[i])},
            {"week",
             buckets.weekly ? json::value(isoWeekName(buckets.days[i])) : json::value(nullptr)},
            {"start", formatRfc3339Millis(buckets.bounds[i])},
            {"end", formatRfc3339Millis(buckets.bounds[i + 1])},
            {"count", counts[i]},
        });
    }
    return json::object{{"asset_id", asset.id},
                        {"period", buckets.weekly ? "weekly" : "daily"},
                        {"time_zone", zone->name()},
                        {"start", formatDate(buckets.first)},
                        {"end", formatDate(buckets.last)},
                        {"total", total},
                        {"buckets", std::move(items)}};
}

Response getHistogram(const ApiContext& ctx, const Request& request, const Principal& principal) {
    auto asset = loadAsset(ctx.sql, principal, request.param("id"), auth::Action::asset_read);
    if (!asset) {
        return errorResponse(asset.error());
    }
    const date::time_zone* zone = zoneOrUtc(asset->time_zone);
    auto buckets = readBuckets(request, zone);
    if (!buckets) {
        return errorResponse(buckets.error());
    }
    auto counts = countPerBucket(ctx.sql, *asset, *buckets);
    if (!counts) {
        return errorResponse(counts.error());
    }
    return jsonResponse(200, histogramJson(*asset, zone, *buckets, *counts));
}

}  // namespace

void addAssetCycleRoutes(http::Router& router, const ApiContext& context) {
    addAreaRoute(router, context, "GET", "/api/assets/{id}/cycles", listCycles);
    addAreaRoute(router, context, "GET", "/api/assets/{id}/counters", getCounters);
    addAreaRoute(router, context, "GET", "/api/assets/{id}/histogram", getHistogram);
}

}  // namespace esocore::api
