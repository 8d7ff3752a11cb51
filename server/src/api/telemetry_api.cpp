#include "api/telemetry_api.h"

#include <algorithm>
#include <boost/json.hpp>
#include <memory>

#include "api/pagination.h"
#include "api/telemetry_export.h"
#include "api/telemetry_ledger_api.h"
#include "api/telemetry_points.h"
#include "api/telemetry_query.h"
#include "api/telemetry_time.h"
#include "core/crypto.h"
#include "http/response.h"
#include "ingest/records.h"

namespace esocore::api {

namespace json = boost::json;
using http::errorResponse;
using http::jsonResponse;
using http::Request;
using http::Response;

namespace {

constexpr std::int64_t kDefaultPointLimit = 1'000;
constexpr std::int64_t kMaxPointLimit = 10'000;
constexpr std::size_t kMaxBuckets = 10'000;
// Points a walk buffers over all its series: each series reads pages of its share.
constexpr std::size_t kWalkBudget = 20'000;
constexpr std::size_t kMinWalkPage = 100;

constexpr const char* kLatestColumns =
    "(SELECT max(p.ts) FROM points p WHERE p.series_id = s.id), "
    "(SELECT p.value FROM points p WHERE p.series_id = s.id ORDER BY p.ts DESC LIMIT 1)";

json::value realOrNull(const store::SqlRow& row, std::size_t column) {
    return row.isNull(column) ? json::value(nullptr) : json::value(row.real(column));
}

json::value pointTimeOrNull(const store::SqlRow& row, std::size_t column) {
    return row.isNull(column) ? json::value(nullptr) : json::value(pointTime(row.integer(column)));
}

// Rows each series of a walk reads per query: a share of the budget, no more than needed.
std::size_t walkPage(std::size_t series, std::size_t wanted) {
    std::size_t share = kWalkBudget / std::max<std::size_t>(series, 1);
    return std::min(wanted, std::max(share, kMinWalkPage));
}

Result<std::vector<SeriesInfo>> seriesOf(store::SqlSession& sql, const std::string& device_id,
                                         const std::vector<std::string>& metrics) {
    store::SqlParams params{device_id};
    std::string query = "SELECT id, name, unit FROM series WHERE device_id = $1" +
                        nameIn("name", metrics, params) + " ORDER BY id";
    auto rows = sql.query(query, params);
    if (!rows) {
        return rows.takeError();
    }
    std::vector<SeriesInfo> series;
    series.reserve(rows->size());
    for (const auto& row : *rows) {
        series.push_back({row.integer(0), row.text(1), row.text(2)});
    }
    return series;
}

// The query's `tz`, UTC when absent.
Result<Zone> requestedZone(const Request& request) {
    auto zone = Zone::find(request.queryParam("tz").value_or("UTC"));
    if (!zone) {
        return invalidParameter("tz", "must be an IANA time zone, e.g. Europe/Berlin");
    }
    return std::move(*zone);
}

// ---- GET /api/telemetry/series

json::object seriesJson(const store::SqlRow& row, const std::string& device_id) {
    return json::object{{"id", std::to_string(row.integer(0))},
                        {"device_id", device_id},
                        {"name", row.text(1)},
                        {"unit", row.text(2)},
                        {"first_at", pointTimeOrNull(row, 4)},
                        {"last_at", pointTimeOrNull(row, 5)},
                        {"last_value", realOrNull(row, 6)},
                        {"created_at", formatRfc3339Millis(row.integer(3))}};
}

Response listSeries(const ApiContext& context, const Request& request, const Principal& principal) {
    auto device = requestedDevice(context.sql, request, principal, auth::Action::telemetry_read);
    if (!device) {
        return errorResponse(device.error());
    }
    auto page = Page::parse(request, {{"name", "s.name"}, {"created_at", "s.created_at", true}},
                            "name", "s.id", true);
    if (!page) {
        return errorResponse(page.error());
    }
    store::SqlParams params{device->id};
    std::string sql =
        "SELECT s.id, s.name, s.unit, s.created_at, "
        "(SELECT min(p.ts) FROM points p WHERE p.series_id = s.id), " +
        std::string(kLatestColumns) + ", " + page->sortColumn() +
        " FROM series s WHERE s.device_id = $1" + searchCondition(request, "s.name", params) +
        page->where(params) + page->orderAndLimit();
    auto rows = context.sql.query(sql, params);
    if (!rows) {
        return errorResponse(rows.error());
    }
    json::array items;
    for (const auto& row : *rows) {
        items.push_back(seriesJson(row, device->id));
    }
    return jsonResponse(200, page->answer(std::move(items), *rows, 7, 0));
}

// ---- GET /api/telemetry/latest

// The latest list's own filters beside the caller's visibility: a device, a site, an
// organization, metrics.
Result<std::string> latestFilters(const ApiContext& context, const Request& request,
                                  const Principal& principal, store::SqlParams& params) {
    auto device = optionalDevice(context.sql, request, principal, auth::Action::telemetry_read);
    if (!device) {
        return device.takeError();
    }
    std::string filters;
    if (*device) {
        filters.append(" AND s.device_id = ").append(addParam(params, (*device)->id));
    }
    for (const auto& [name, column] :
         {std::pair{"site_id", "d.site_id"}, std::pair{"organization_id", "d.organization_id"}}) {
        auto id = request.queryParam(name);
        if (!id) {
            continue;
        }
        if (!isUuid(*id)) {
            return invalidParameter(name, "must be a UUID");
        }
        filters.append(" AND ").append(column).append(" = ").append(addParam(params, *id));
    }
    return filters + nameIn("s.name", requestedMetrics(request), params);
}

Response listLatest(const ApiContext& context, const Request& request, const Principal& principal) {
    auto page = Page::parse(request, {{"metric", "s.name"}, {"created_at", "s.created_at", true}},
                            "metric", "s.id", true);
    if (!page) {
        return errorResponse(page.error());
    }
    store::SqlParams params;
    auto filters = latestFilters(context, request, principal, params);
    if (!filters) {
        return errorResponse(filters.error());
    }
    std::string visible =
        allowedRows(principal, auth::Action::telemetry_read,
                    ScopeColumns{"d.organization_id", "d.site_id", "d.id"}, params);
    std::string sql = "SELECT s.id, s.device_id, s.name, s.unit, " + std::string(kLatestColumns) +
                      ", " + page->sortColumn() +
                      " FROM series s JOIN devices d ON d.id = s.device_id WHERE " + visible +
                      *filters + page->where(params) + page->orderAndLimit();
    auto rows = context.sql.query(sql, params);
    if (!rows) {
        return errorResponse(rows.error());
    }
    json::array items;
    for (const auto& row : *rows) {
        items.push_back(json::object{{"series_id", std::to_string(row.integer(0))},
                                     {"device_id", row.text(1)},
                                     {"metric", row.text(2)},
                                     {"unit", row.text(3)},
                                     {"ts", pointTimeOrNull(row, 4)},
                                     {"value", realOrNull(row, 5)}});
    }
    return jsonResponse(200, page->answer(std::move(items), *rows, 6, 0));
}

// ---- GET /api/telemetry/points

Error invalidPointCursor() {
    return Error{400, "invalid_cursor", "the cursor is not one this list handed out", {}};
}

// The page after a point: the ordering it was made for, the point's time and series.
std::string pointCursor(bool descending, const PointPosition& last) {
    json::array cursor{descending ? "-ts" : "ts", last.ts, last.series_id};
    return base64UrlEncode(json::serialize(cursor));
}

Result<std::optional<PointPosition>> readPointCursor(const Request& request, bool descending) {
    auto text = request.queryParam("cursor");
    if (!text || text->empty()) {
        return std::optional<PointPosition>();
    }
    auto decoded = base64UrlDecode(*text);
    if (!decoded) {
        return invalidPointCursor();
    }
    json::error_code ec;
    json::value value = json::parse(*decoded, ec);
    if (ec || !value.is_array() || value.as_array().size() != 3) {
        return invalidPointCursor();
    }
    const json::array& cursor = value.as_array();
    if (!cursor[0].is_string() || cursor[0].as_string() != (descending ? "-ts" : "ts") ||
        !cursor[1].is_int64() || !cursor[2].is_int64()) {
        return invalidPointCursor();
    }
    return std::optional<PointPosition>(PointPosition{cursor[1].as_int64(), cursor[2].as_int64()});
}

struct PointQuery {
    TimeRange range;
    std::int64_t limit = kDefaultPointLimit;
    bool descending = false;
    std::optional<PointPosition> after;
};

Result<PointQuery> readPointQuery(const Request& request) {
    PointQuery query;
    auto range = requestedRange(request, false);
    if (!range) {
        return range.takeError();
    }
    query.range = *range;
    auto limit = integerParam(request, "limit");
    if (!limit) {
        return limit.takeError();
    }
    if (*limit && (**limit < 1 || **limit > kMaxPointLimit)) {
        return invalidParameter("limit", "must be between 1 and " + std::to_string(kMaxPointLimit));
    }
    query.limit = limit->value_or(kDefaultPointLimit);
    std::string ordering = request.queryParam("ordering").value_or("ts");
    if (ordering != "ts" && ordering != "-ts") {
        return invalidParameter("ordering", "one of ts, -ts");
    }
    query.descending = ordering == "-ts";
    auto after = readPointCursor(request, query.descending);
    if (!after) {
        return after.takeError();
    }
    query.after = *after;
    return query;
}

json::object pointJson(const WalkedPoint& point) {
    return json::object{{"ts", pointTime(point.ts)},
                        {"metric", point.series->name},
                        {"unit", point.series->unit},
                        {"value", point.value},
                        {"meta", storedJson(point.meta, nullptr)}};
}

Response listPoints(const ApiContext& context, const Request& request, const Principal& principal) {
    auto device = requestedDevice(context.sql, request, principal, auth::Action::telemetry_read);
    if (!device) {
        return errorResponse(device.error());
    }
    auto query = readPointQuery(request);
    if (!query) {
        return errorResponse(query.error());
    }
    auto series = seriesOf(context.sql, device->id, requestedMetrics(request));
    if (!series) {
        return errorResponse(series.error());
    }
    auto wanted = static_cast<std::size_t>(query->limit) + 1;
    std::size_t page_rows = walkPage(series->size(), wanted);
    PointWalk walk(
        context.sql, std::move(*series),
        PointRange{query->range.start, query->range.end, query->descending, true, query->after},
        page_rows);
    json::array items;
    json::value next = nullptr;
    std::optional<PointPosition> last;
    for (std::size_t taken = 0; taken < wanted; ++taken) {
        auto point = walk.next();
        if (!point) {
            return errorResponse(point.error());
        }
        if (!*point) {
            break;
        }
        if (taken + 1 == wanted) {
            next = json::string(pointCursor(query->descending, *last));
            break;
        }
        items.push_back(pointJson(**point));
        last = PointPosition{(*point)->ts, (*point)->series->id};
    }
    return jsonResponse(200, json::object{{"results", std::move(items)}, {"next", next}});
}

// ---- GET /api/telemetry/buckets

constexpr std::string_view kAggregates[] = {"avg", "min", "max", "sum", "count", "first", "last"};

struct BucketQuery {
    TimeRange range;
    BucketInterval interval;
    std::string agg;
    std::string metric;
};

Result<BucketQuery> readBucketQuery(const Request& request) {
    BucketQuery query;
    auto range = requestedRange(request, true);
    if (!range) {
        return range.takeError();
    }
    query.range = *range;
    auto metric = request.queryParam("metric");
    auto normalized = metric ? ingest::normalizeName(*metric) : std::nullopt;
    if (!normalized || normalized->empty()) {
        return invalidParameter("metric", metric ? "must be a series name" : "required");
    }
    query.metric = std::move(*normalized);
    auto interval = findInterval(request.queryParam("interval").value_or(""));
    if (!interval) {
        return invalidParameter("interval", "one of " + intervalNames());
    }
    query.interval = *interval;
    query.agg = request.queryParam("agg").value_or("avg");
    if (std::find(std::begin(kAggregates), std::end(kAggregates), query.agg) ==
        std::end(kAggregates)) {
        return invalidParameter("agg", "one of avg, min, max, sum, count, first, last");
    }
    return query;
}

// The SQL expression of a point's bucket key: its local time in whole widths, with the
// offset of the segment that holds it.
std::string bucketKeySql(const BucketPlan& plan, store::SqlParams& params) {
    auto keyAt = [&](Micros offset) {
        return "(p.ts + " + addParam(params, offset) + ") / " + addParam(params, plan.width);
    };
    if (plan.segments.size() == 1) {
        return keyAt(plan.segments.front().offset);
    }
    std::string sql = "CASE";
    for (std::size_t i = 0; i + 1 < plan.segments.size(); ++i) {
        sql.append(" WHEN p.ts < ").append(addParam(params, plan.segments[i].until));
        sql.append(" THEN ").append(keyAt(plan.segments[i].offset));
    }
    return sql.append(" ELSE ").append(keyAt(plan.segments.back().offset)).append(" END");
}

// One query: per bucket key, the count and the aggregate. first and last take the value of
// the bucket's earliest or latest point, found through the (series, ts) key.
Result<std::vector<store::SqlRow>> aggregateBuckets(store::SqlSession& sql, const BucketPlan& plan,
                                                    std::int64_t series_id,
                                                    const BucketQuery& query) {
    store::SqlParams params;
    std::string key = bucketKeySql(plan, params);
    std::string from = " FROM points p WHERE p.series_id = " + addParam(params, series_id) +
                       " AND p.ts >= " + addParam(params, query.range.start) + " AND p.ts < " +
                       addParam(params, query.range.end);
    if (query.agg == "first" || query.agg == "last") {
        std::string at = query.agg == "first" ? "min(p.ts)" : "max(p.ts)";
        return sql.query("SELECT b.bucket, b.n, p.value FROM (SELECT " + key +
                             " AS bucket, count(*) AS n, " + at + " AS at" + from +
                             " GROUP BY bucket) b JOIN points p ON p.series_id = " +
                             addParam(params, series_id) + " AND p.ts = b.at",
                         params);
    }
    std::string value = query.agg == "count" ? "count(*)" : query.agg + "(p.value)";
    return sql.query("SELECT " + key + " AS bucket, count(*), " + value + from + " GROUP BY bucket",
                     params);
}

// Seconds-precise bucket times read best without a fraction.
std::string bucketTime(const Zone& zone, Micros at) {
    return zone.format(at, at % 1'000'000 == 0 ? 0 : fractionDigits(at));
}

// An empty bucket has no value; a count is an integer.
json::value bucketValue(const store::SqlRow* row, bool counting) {
    if (row == nullptr) {
        return nullptr;
    }
    return counting ? json::value(row->integer(2)) : realOrNull(*row, 2);
}

json::array bucketsJson(const BucketPlan& plan, const std::vector<store::SqlRow>& rows,
                        const Zone& zone, const BucketQuery& query) {
    std::vector<const store::SqlRow*> by_bucket(plan.buckets.size(), nullptr);
    for (const auto& row : rows) {
        std::int64_t key = row.integer(0);
        auto found = std::lower_bound(plan.buckets.begin(), plan.buckets.end(), key,
                                      [](const Bucket& b, std::int64_t k) { return b.key < k; });
        if (found != plan.buckets.end() && found->key == key) {
            by_bucket[static_cast<std::size_t>(found - plan.buckets.begin())] = &row;
        }
    }
    const TimeRange& range = query.range;
    Micros horizon = std::min(range.end, nowMicros());
    bool counting = query.agg == "count";
    json::array out;
    out.reserve(plan.buckets.size());
    for (std::size_t i = 0; i < plan.buckets.size(); ++i) {
        const Bucket& bucket = plan.buckets[i];
        const store::SqlRow* row = by_bucket[i];
        out.push_back(
            json::object{{"start", bucketTime(zone, bucket.start)},
                         {"end", bucketTime(zone, bucket.end)},
                         {"value", bucketValue(row, counting)},
                         {"count", row != nullptr ? row->integer(1) : 0},
                         {"partial", bucket.start < range.start || bucket.end > horizon}});
    }
    return out;
}

Response listBuckets(const ApiContext& context, const Request& request,
                     const Principal& principal) {
    auto device = requestedDevice(context.sql, request, principal, auth::Action::telemetry_read);
    if (!device) {
        return errorResponse(device.error());
    }
    auto query = readBucketQuery(request);
    if (!query) {
        return errorResponse(query.error());
    }
    auto zone = requestedZone(request);
    if (!zone) {
        return errorResponse(zone.error());
    }
    auto plan =
        planBuckets(*zone, query->interval, query->range.start, query->range.end, kMaxBuckets);
    if (!plan) {
        return errorResponse(plan.error());
    }
    auto series = seriesOf(context.sql, device->id, {query->metric});
    if (!series) {
        return errorResponse(series.error());
    }
    std::vector<store::SqlRow> rows;
    if (!series->empty()) {
        auto found = aggregateBuckets(context.sql, *plan, series->front().id, *query);
        if (!found) {
            return errorResponse(found.error());
        }
        rows = std::move(*found);
    }
    return jsonResponse(200,
                        json::object{{"device_id", device->id},
                                     {"metric", query->metric},
                                     {"unit", series->empty() ? json::value(nullptr)
                                                              : json::value(series->front().unit)},
                                     {"interval", query->interval.name},
                                     {"agg", query->agg},
                                     {"tz", zone->name()},
                                     {"start", bucketTime(*zone, query->range.start)},
                                     {"end", bucketTime(*zone, query->range.end)},
                                     {"buckets", bucketsJson(*plan, rows, *zone, *query)}});
}

// ---- GET /api/telemetry/export

Response exportPoints(const ApiContext& context, const Request& request,
                      const Principal& principal) {
    auto device = requestedDevice(context.sql, request, principal, auth::Action::telemetry_export);
    if (!device) {
        return errorResponse(device.error());
    }
    auto range = requestedRange(request, false);
    if (!range) {
        return errorResponse(range.error());
    }
    std::string format = request.queryParam("format").value_or("csv");
    if (format != "csv" && format != "ndjson") {
        return errorResponse(invalidParameter("format", "one of csv, ndjson"));
    }
    auto zone = requestedZone(request);
    if (!zone) {
        return errorResponse(zone.error());
    }
    auto series = seriesOf(context.sql, device->id, requestedMetrics(request));
    if (!series) {
        return errorResponse(series.error());
    }
    bool csv = format == "csv";
    std::size_t page_rows = walkPage(series->size(), kWalkBudget);
    auto walk = std::make_shared<PointWalk>(
        context.sql, std::move(*series),
        PointRange{range->start, range->end, false, !csv, std::nullopt}, page_rows);
    ExportWriter writer(csv ? ExportFormat::csv : ExportFormat::ndjson, *zone, device->serial);

    Response response;
    response.setHeader("content-type",
                       csv ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8");
    response.setHeader("content-disposition",
                       "attachment; filename=\"telemetry-" + device->id + "." + format + "\"");
    response.producer = exportProducer(std::move(walk), std::move(writer));
    return response;
}

}  // namespace

void addTelemetryRoutes(http::Router& router, const ApiContext& context) {
    using Handler = Response (*)(const ApiContext&, const Request&, const Principal&);
    auto add = [&](const char* pattern, Handler handler) {
        addManaged(router, context.authenticator, "GET", pattern,
                   [&context, handler](const Request& request, const Principal& principal) {
                       return handler(context, request, principal);
                   });
    };
    add("/api/telemetry/series", listSeries);
    add("/api/telemetry/latest", listLatest);
    add("/api/telemetry/points", listPoints);
    add("/api/telemetry/buckets", listBuckets);
    add("/api/telemetry/export", exportPoints);
    addTelemetryLedgerRoutes(router, context);
}

}  // namespace esocore::api
