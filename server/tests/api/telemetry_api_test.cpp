// The telemetry queries over real HTTP (DESIGN §6), with every reading uploaded through the
// device API: series, latest values, points with keyset pages, time-zone buckets, the streamed
// CSV and NDJSON export, the ingest ledger and device-computed windows.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <set>
#include <thread>

#include "api/telemetry_export.h"
#include "api/telemetry_time.h"
#include "core/crypto.h"
#include "support/api_fixture.h"
#include "support/device_client.h"

namespace esocore::testing {
namespace {

namespace json = boost::json;

constexpr Micros kSecond = 1'000'000;
constexpr Micros kMinute = 60 * kSecond;
constexpr Micros kHour = 60 * kMinute;
constexpr Micros kDay = 24 * kHour;

Micros at(const char* rfc3339) {
    return *parseRfc3339(rfc3339);
}

// Percent-encodes everything but RFC 3986's unreserved characters.
std::string encode(std::string_view text) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out.append({'%', hex[c >> 4], hex[c & 15]});
        }
    }
    return out;
}

// A path with its query: {{"device_id", id}, {"start", "..."}} → path?device_id=...&start=...
std::string withQuery(const std::string& path,
                      std::initializer_list<std::pair<std::string, std::string>> params) {
    std::string out = path;
    char separator = '?';
    for (const auto& [name, value] : params) {
        out.append(1, separator).append(name).append("=").append(encode(value));
        separator = '&';
    }
    return out;
}

json::object pointRecord(std::string_view series, Micros ts, double value,
                         std::string_view unit = "C", json::value meta = nullptr) {
    json::object record{
        {"ts", formatRfc3339Micros(ts)}, {"series", series}, {"val", value}, {"unit", unit}};
    if (!meta.is_null()) {
        record["meta"] = std::move(meta);
    }
    return record;
}

class TelemetryApiTest : public ApiTest {
protected:
    void SetUp() override {
        ApiTest::SetUp();
        device_ = addDevice(org_);
    }

    // Uploads the records as the device does; every record must be accepted.
    void upload(const TestDevice& device, const json::array& records) {
        DeviceClient client(*server_, device);
        HttpResult result = client.batch(json::serialize(records));
        ASSERT_EQ(200, result.status) << result.body;
        ASSERT_EQ(0, jsonObject(result).at("rejected").as_int64()) << result.body;
    }

    // Buckets of the device's `metric`; the answer must be 200.
    ApiResult buckets(const std::string& metric, const std::string& start, const std::string& end,
                      const std::string& interval, const std::string& agg = "avg",
                      const std::string& tz = "UTC") {
        ApiResult result = get(withQuery("/api/telemetry/buckets", {{"device_id", device_.id},
                                                                    {"metric", metric},
                                                                    {"start", start},
                                                                    {"end", end},
                                                                    {"interval", interval},
                                                                    {"agg", agg},
                                                                    {"tz", tz}}),
                               owner_);
        EXPECT_EQ(200, result.status) << result.raw.body;
        return result;
    }

    ApiResult exportAs(const std::string& format, const std::string& tz = "UTC") {
        return get(withQuery("/api/telemetry/export",
                             {{"device_id", device_.id}, {"format", format}, {"tz", tz}}),
                   owner_);
    }

    TestDevice device_;
};

std::vector<std::string> lines(const std::string& text, const std::string& separator) {
    std::vector<std::string> out;
    std::size_t from = 0;
    for (auto end = text.find(separator); end != std::string::npos;
         end = text.find(separator, from)) {
        out.push_back(text.substr(from, end - from));
        from = end + separator.size();
    }
    if (from < text.size()) {
        out.push_back(text.substr(from));
    }
    return out;
}

// ---- series and latest values

TEST_P(TelemetryApiTest, SeriesListsEachSeriesWithItsFirstAndLastPoint) {
    Micros t = at("2026-11-02T10:00:00Z");
    upload(device_, {pointRecord("temp", t, 20.5), pointRecord("temp", t + kMinute, 21.5),
                     pointRecord("rh", t, 40, "%")});

    ApiResult result = get("/api/telemetry/series?device_id=" + device_.id, owner_);

    ASSERT_EQ(200, result.status) << result.raw.body;
    const json::array& series = result.results();
    ASSERT_EQ(2u, series.size());
    EXPECT_EQ("rh", series[0].at("name"));
    EXPECT_EQ("temp", series[1].at("name"));
    EXPECT_EQ("C", series[1].at("unit"));
    EXPECT_EQ(json::value(device_.id), series[1].at("device_id"));
    EXPECT_EQ("2026-11-02T10:00:00.000Z", series[1].at("first_at"));
    EXPECT_EQ("2026-11-02T10:01:00.000Z", series[1].at("last_at"));
    EXPECT_EQ(21.5, series[1].at("last_value").to_number<double>());
}

TEST_P(TelemetryApiTest, LatestGivesTheNewestPointOfEachSeriesForADeviceOrASite) {
    std::string site = addSite(org_, "North");
    TestDevice at_site = addDevice(org_, site);
    Micros t = at("2026-11-02T10:00:00Z");
    upload(device_, {pointRecord("temp", t, 1), pointRecord("temp", t + kSecond, 2)});
    upload(at_site, {pointRecord("temp", t + 5 * kSecond, 7), pointRecord("temp", t, 6)});

    ApiResult one = get("/api/telemetry/latest?device_id=" + device_.id, owner_);
    ApiResult by_site = get("/api/telemetry/latest?site_id=" + site, owner_);
    ApiResult everything = get("/api/telemetry/latest", owner_);

    ASSERT_EQ(200, one.status) << one.raw.body;
    ASSERT_EQ(1u, one.results().size());
    EXPECT_EQ("2026-11-02T10:00:01.000Z", one.results()[0].at("ts"));
    EXPECT_EQ(2.0, one.results()[0].at("value").to_number<double>());
    ASSERT_EQ(1u, by_site.results().size());
    EXPECT_EQ(json::value(at_site.id), by_site.results()[0].at("device_id"));
    EXPECT_EQ(7.0, by_site.results()[0].at("value").to_number<double>());
    EXPECT_EQ(2u, everything.results().size());
    EXPECT_EQ(0u, get("/api/telemetry/latest", other_owner_).results().size());
}

// ---- points

TEST_P(TelemetryApiTest, PointsOfManySeriesSharingTimesPageThroughEachPointOnce) {
    Micros t = at("2026-11-02T10:00:00Z");
    json::array records;
    for (const char* series : {"a", "b", "c"}) {
        for (int i = 0; i < 10; ++i) {
            records.push_back(pointRecord(series, t + i * kSecond, i));
        }
    }
    upload(device_, records);

    for (std::string ordering : {"ts", "-ts"}) {
        json::array all = listAll(
            "/api/telemetry/points?device_id=" + device_.id + "&limit=4&ordering=" + ordering,
            owner_);

        ASSERT_EQ(30u, all.size()) << ordering;
        std::set<std::string> seen;
        for (std::size_t i = 0; i < all.size(); ++i) {
            std::string ts(all[i].at("ts").as_string());
            seen.insert(ts + "/" + std::string(all[i].at("metric").as_string()));
            if (i > 0) {
                std::string before(all[i - 1].at("ts").as_string());
                EXPECT_TRUE(ordering == "ts" ? before <= ts : before >= ts) << ordering << i;
            }
        }
        EXPECT_EQ(30u, seen.size()) << ordering;
    }
}

TEST_P(TelemetryApiTest, PointsFilterByMetricAndRangeAndCarryMeta) {
    Micros t = at("2026-11-02T10:00:00Z");
    upload(device_, {pointRecord("temp", t, 1, "C", json::object{{"sensor", "SHT40"}}),
                     pointRecord("temp", t + kMinute, 2), pointRecord("temp", t + kHour, 3),
                     pointRecord("rh", t, 50, "%")});

    ApiResult result = get(withQuery("/api/telemetry/points", {{"device_id", device_.id},
                                                               {"metric", "temp"},
                                                               {"start", formatRfc3339Millis(t)},
                                                               {"end", "2026-11-02T10:30:00Z"}}),
                           owner_);

    ASSERT_EQ(200, result.status) << result.raw.body;
    ASSERT_EQ(2u, result.results().size());
    EXPECT_EQ((json::object{{"ts", "2026-11-02T10:00:00.000Z"},
                            {"metric", "temp"},
                            {"unit", "C"},
                            {"value", 1.0},
                            {"meta", json::object{{"sensor", "SHT40"}}}}),
              result.results()[0]);
    EXPECT_TRUE(result.results()[1].at("meta").is_null());
    EXPECT_TRUE(result["next"].is_null());
}

TEST_P(TelemetryApiTest, PointsRefuseABadLimitCursorOrRange) {
    std::string path = "/api/telemetry/points?device_id=" + device_.id;

    EXPECT_EQ("invalid_parameter", get(path + "&limit=10001", owner_).errorCode());
    EXPECT_EQ(200, get(path + "&limit=10000", owner_).status);
    EXPECT_EQ("invalid_cursor", get(path + "&cursor=bm9wZQ", owner_).errorCode());
    EXPECT_EQ("invalid_parameter", get(path + "&ordering=value", owner_).errorCode());
    ApiResult backwards =
        get(path + "&start=2026-11-02T10:00:00Z&end=2026-11-02T09:00:00Z", owner_);
    EXPECT_EQ(400, backwards.status);
    EXPECT_EQ("invalid_parameter", backwards.errorCode());
    EXPECT_EQ("invalid_parameter", get("/api/telemetry/points?metric=temp", owner_).errorCode());
}

// ---- buckets

TEST_P(TelemetryApiTest, DailyBucketsInBerlinSpanTheDstDaysOf23And25Hours) {
    upload(device_, {pointRecord("temp", at("2026-03-28T23:30:00+01:00"), 1),
                     pointRecord("temp", at("2026-03-29T00:30:00+01:00"), 2),
                     pointRecord("temp", at("2026-03-29T23:30:00+02:00"), 4),
                     pointRecord("temp", at("2026-03-30T00:00:00+02:00"), 8),
                     pointRecord("temp", at("2026-10-25T23:30:00+01:00"), 16)});

    ApiResult spring = buckets("temp", "2026-03-28T00:00:00+01:00", "2026-03-31T00:00:00+02:00",
                               "1d", "sum", "Europe/Berlin");
    ApiResult autumn = buckets("temp", "2026-10-24T00:00:00+02:00", "2026-10-27T00:00:00+01:00",
                               "1d", "sum", "Europe/Berlin");

    const json::array& march = spring["buckets"].as_array();
    ASSERT_EQ(3u, march.size()) << spring.raw.body;
    EXPECT_EQ("2026-03-28T00:00:00+01:00", march[0].at("start"));
    EXPECT_EQ("2026-03-29T00:00:00+01:00", march[1].at("start"));
    EXPECT_EQ("2026-03-30T00:00:00+02:00", march[1].at("end"));
    EXPECT_EQ(23 * kHour, at("2026-03-30T00:00:00+02:00") - at("2026-03-29T00:00:00+01:00"));
    EXPECT_EQ("2026-03-30T00:00:00+02:00", march[2].at("start"));
    EXPECT_EQ(1.0, march[0].at("value").to_number<double>());
    EXPECT_EQ(6.0, march[1].at("value").to_number<double>());
    EXPECT_EQ(2, march[1].at("count").as_int64());
    EXPECT_EQ(8.0, march[2].at("value").to_number<double>());

    const json::array& october = autumn["buckets"].as_array();
    ASSERT_EQ(3u, october.size()) << autumn.raw.body;
    EXPECT_EQ("2026-10-25T00:00:00+02:00", october[1].at("start"));
    EXPECT_EQ("2026-10-26T00:00:00+01:00", october[1].at("end"));
    EXPECT_EQ(25 * kHour, at("2026-10-26T00:00:00+01:00") - at("2026-10-25T00:00:00+02:00"));
    EXPECT_EQ(16.0, october[1].at("value").to_number<double>());
    EXPECT_EQ("Europe/Berlin", autumn["tz"]);
}

TEST_P(TelemetryApiTest, HourlyBucketsOfADstDayStayUniformInUtc) {
    upload(device_, {pointRecord("temp", at("2026-10-25T02:30:00+02:00"), 1),
                     pointRecord("temp", at("2026-10-25T02:30:00+01:00"), 2)});

    ApiResult result = buckets("temp", "2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00",
                               "1h", "max", "Europe/Berlin");

    const json::array& hours = result["buckets"].as_array();
    ASSERT_EQ(25u, hours.size());
    EXPECT_EQ("2026-10-25T02:00:00+02:00", hours[2].at("start"));
    EXPECT_EQ("2026-10-25T02:00:00+01:00", hours[3].at("start"));
    EXPECT_EQ(1.0, hours[2].at("value").to_number<double>());
    EXPECT_EQ(2.0, hours[3].at("value").to_number<double>());
}

TEST_P(TelemetryApiTest, EmptyBucketsArePresentWithNullValueAndZeroCount) {
    Micros t = at("2026-11-02T10:00:00Z");
    upload(device_, {pointRecord("temp", t + 10 * kMinute, 5),
                     pointRecord("temp", t + 3 * kHour + kMinute, 9)});

    ApiResult result = buckets("temp", "2026-11-02T10:00:00Z", "2026-11-02T15:00:00Z", "1h");

    const json::array& hours = result["buckets"].as_array();
    ASSERT_EQ(5u, hours.size());
    for (std::size_t i : {1u, 2u, 4u}) {
        EXPECT_TRUE(hours[i].at("value").is_null()) << i;
        EXPECT_EQ(0, hours[i].at("count").as_int64()) << i;
        EXPECT_FALSE(hours[i].at("partial").as_bool()) << i;
    }
    EXPECT_EQ(5.0, hours[0].at("value").to_number<double>());
    EXPECT_EQ(9.0, hours[3].at("value").to_number<double>());
    EXPECT_EQ("2026-11-02T13:00:00Z", hours[3].at("start"));
}

TEST_P(TelemetryApiTest, TheBucketHoldingNowIsPartial) {
    if (kHour - nowMicros() % kHour < 10 * kSecond) {
        std::this_thread::sleep_for(std::chrono::seconds(11));  // not across the hour's end
    }
    Micros hour = nowMicros() / kHour * kHour;
    upload(device_, {pointRecord("temp", hour - kHour + kMinute, 1),
                     pointRecord("temp", std::max(hour, nowMicros() - kSecond), 2)});

    ApiResult result = buckets("temp", formatRfc3339Millis(hour - 2 * kHour),
                               formatRfc3339Millis(hour + kHour), "1h", "count");

    const json::array& hours = result["buckets"].as_array();
    ASSERT_EQ(3u, hours.size());
    EXPECT_FALSE(hours[0].at("partial").as_bool());
    EXPECT_FALSE(hours[1].at("partial").as_bool());
    EXPECT_TRUE(hours[2].at("partial").as_bool());
    EXPECT_EQ(1, hours[2].at("count").as_int64());
}

TEST_P(TelemetryApiTest, EachAggregateOverOneBucket) {
    Micros t = at("2026-11-02T10:00:00Z");
    // In time order: 3, 1, 4, 2 — uploaded out of order.
    upload(device_, {pointRecord("temp", t + 3 * kMinute, 2), pointRecord("temp", t, 3),
                     pointRecord("temp", t + 2 * kMinute, 4), pointRecord("temp", t + kMinute, 1)});
    std::vector<std::pair<std::string, double>> expected{
        {"avg", 2.5}, {"min", 1}, {"max", 4}, {"sum", 10}, {"count", 4}, {"first", 3}, {"last", 2}};

    for (const auto& [agg, value] : expected) {
        ApiResult result =
            buckets("temp", "2026-11-02T10:00:00Z", "2026-11-02T10:15:00Z", "15m", agg);

        const json::array& one = result["buckets"].as_array();
        ASSERT_EQ(1u, one.size()) << agg;
        EXPECT_EQ(value, one[0].at("value").to_number<double>()) << agg;
        EXPECT_EQ(4, one[0].at("count").as_int64()) << agg;
    }
}

TEST_P(TelemetryApiTest, BucketsRefuseBadParametersAndTooManyBuckets) {
    std::string base = "/api/telemetry/buckets?device_id=" + device_.id +
                       "&metric=temp&start=2026-01-01T00:00:00Z&end=2026-02-01T00:00:00Z";

    ApiResult too_many = get(base + "&interval=1m", owner_);
    EXPECT_EQ(400, too_many.status);
    EXPECT_EQ("too_many_buckets", too_many.errorCode());
    EXPECT_EQ("invalid_parameter", get(base + "&interval=2h", owner_).errorCode());
    EXPECT_EQ("invalid_parameter", get(base + "&interval=1h&agg=median", owner_).errorCode());
    EXPECT_EQ("invalid_parameter", get(base + "&interval=1h&tz=Mars/Olympus", owner_).errorCode());
    EXPECT_EQ(
        "invalid_parameter",
        get("/api/telemetry/buckets?device_id=" + device_.id + "&metric=temp&interval=1h", owner_)
            .errorCode());
}

// ---- export

TEST_P(TelemetryApiTest, CsvExportQuotesAndNeutralizesTextCellsButNotNumbers) {
    Micros t = at("2026-11-02T10:00:00Z");
    upload(device_,
           {pointRecord("=SUM(A1)", t, 1.5), pointRecord("say \"hi\"", t + kSecond, -5, "-dB"),
            pointRecord("a,b", t + 2 * kSecond, 0, "=1,2"),
            pointRecord("line\nbreak", t + 3 * kSecond, 2.25, "@x"),
            pointRecord("\tx", t + 4 * kSecond, 1e21, "+")});

    ApiResult result = exportAs("csv");

    ASSERT_EQ(200, result.status) << result.raw.body;
    EXPECT_EQ("text/csv; charset=utf-8", result.raw.header("content-type"));
    EXPECT_EQ("attachment; filename=\"telemetry-" + device_.id + ".csv\"",
              result.raw.header("content-disposition"));
    std::string serial = device_.serial;
    EXPECT_EQ(
        "timestamp,device,metric,value,unit\r\n"
        "2026-11-02T10:00:00.000Z," +
            serial +
            ",'=SUM(A1),1.5,C\r\n"
            "2026-11-02T10:00:01.000Z," +
            serial +
            ",\"say \"\"hi\"\"\",-5,'-dB\r\n"
            "2026-11-02T10:00:02.000Z," +
            serial +
            ",\"a,b\",0,\"'=1,2\"\r\n"
            "2026-11-02T10:00:03.000Z," +
            serial +
            ",\"line\nbreak\",2.25,'@x\r\n"
            "2026-11-02T10:00:04.000Z," +
            serial + ",'\tx,1e+21,'+\r\n",
        result.raw.body);
}

TEST_P(TelemetryApiTest, ExportTimestampsCarryTheOffsetOfTheTimeZone) {
    upload(device_, {pointRecord("temp", at("2026-03-29T00:30:00Z"), 1),
                     pointRecord("temp", at("2026-03-29T01:30:00.000250Z"), 2)});

    ApiResult result = exportAs("csv", "Europe/Berlin");

    std::vector<std::string> rows = lines(result.raw.body, "\r\n");
    ASSERT_EQ(3u, rows.size()) << result.raw.body;
    EXPECT_EQ(0u, rows[1].rfind("2026-03-29T01:30:00.000+01:00,", 0)) << rows[1];
    EXPECT_EQ(0u, rows[2].rfind("2026-03-29T03:30:00.000250+02:00,", 0)) << rows[2];
}

TEST_P(TelemetryApiTest, NdjsonExportIsOneObjectPerLine) {
    Micros t = at("2026-11-02T10:00:00Z");
    upload(device_, {pointRecord("temp", t, 21.5, "C", json::object{{"sensor", "a\nb"}}),
                     pointRecord("line\nbreak", t + kSecond, -1)});

    ApiResult result = exportAs("ndjson");

    ASSERT_EQ(200, result.status) << result.raw.body;
    EXPECT_EQ("application/x-ndjson; charset=utf-8", result.raw.header("content-type"));
    std::vector<std::string> objects = lines(result.raw.body, "\n");
    ASSERT_EQ(2u, objects.size()) << result.raw.body;
    EXPECT_EQ((json::object{{"timestamp", "2026-11-02T10:00:00.000Z"},
                            {"device", device_.serial},
                            {"metric", "temp"},
                            {"value", 21.5},
                            {"unit", "C"},
                            {"meta", json::object{{"sensor", "a\nb"}}}}),
              json::parse(objects[0]));
    EXPECT_EQ("line\nbreak", json::parse(objects[1]).at("metric"));
}

TEST_P(TelemetryApiTest, ExportIsStreamedInChunksInTimeOrderAcrossSeries) {
    Micros t = at("2026-11-02T00:00:00Z");
    json::array records;
    for (int i = 0; i < 3000; ++i) {
        records.push_back(pointRecord(i % 2 == 0 ? "even" : "odd", t + i * kSecond, i));
    }
    upload(device_, records);

    ApiResult result = get(withQuery("/api/telemetry/export", {{"device_id", device_.id},
                                                               {"metric", "even,odd"},
                                                               {"start", formatRfc3339Millis(t)}}),
                           owner_);

    ASSERT_EQ(200, result.status);
    EXPECT_EQ("chunked", result.raw.header("transfer-encoding"));
    EXPECT_TRUE(result.raw.header("content-length").empty());
    std::vector<std::string> rows = lines(result.raw.body, "\r\n");
    ASSERT_EQ(3001u, rows.size());
    for (int i = 0; i < 3000; ++i) {
        ASSERT_EQ(formatRfc3339Millis(t + i * kSecond) + "," + device_.serial + "," +
                      (i % 2 == 0 ? "even" : "odd") + "," + std::to_string(i) + ",C",
                  rows[static_cast<std::size_t>(i) + 1]);
    }
}

TEST_P(TelemetryApiTest, ExportNeedsTheExportPermission) {
    ApiUser viewer = addUser(org_, auth::Role::viewer);

    ApiResult refused = get("/api/telemetry/export?device_id=" + device_.id, viewer);

    EXPECT_EQ(403, refused.status);
    EXPECT_EQ("permission_denied", refused.errorCode());
    EXPECT_EQ(200, get("/api/telemetry/points?device_id=" + device_.id, viewer).status);
    EXPECT_EQ(
        "invalid_parameter",
        get("/api/telemetry/export?device_id=" + device_.id + "&format=xlsx", owner_).errorCode());
}

// ---- another organization

TEST_P(TelemetryApiTest, AnotherOrganizationsDeviceIsNotFoundLikeAMissingOne) {
    upload(device_, {pointRecord("temp", at("2026-11-02T10:00:00Z"), 1)});
    std::string range = "&metric=temp&start=2026-11-02T00:00:00Z&end=2026-11-03T00:00:00Z";

    for (std::string route :
         {"series", "points", "latest", "buckets", "export", "packets", "windows"}) {
        std::string path = "/api/telemetry/" + route + "?interval=1h" + range + "&device_id=";

        ApiResult theirs = get(path + device_.id, other_owner_);
        ApiResult missing = get(path + newUuid(), other_owner_);
        ApiResult malformed = get(path + "not-a-uuid", other_owner_);

        EXPECT_EQ(404, theirs.status) << route;
        EXPECT_EQ("not_found", theirs.errorCode()) << route;
        EXPECT_EQ(missing.raw.body, theirs.raw.body) << route;
        EXPECT_EQ(missing.raw.body, malformed.raw.body) << route;
        EXPECT_EQ(200, get(path + device_.id, owner_).status) << route;
    }
}

// ---- the ingest ledger

TEST_P(TelemetryApiTest, PacketsListTheLedgerOfVisibleDevicesAndOneByItsId) {
    upload(device_, {pointRecord("temp", at("2026-11-02T10:00:00Z"), 1)});
    TestDevice theirs = addDevice(other_org_);
    upload(theirs, {pointRecord("temp", at("2026-11-02T10:00:00Z"), 1)});

    ApiResult mine = get("/api/telemetry/packets?device_id=" + device_.id, owner_);
    ApiResult all = get("/api/telemetry/packets", owner_);

    ASSERT_EQ(200, mine.status) << mine.raw.body;
    ASSERT_EQ(1u, mine.results().size());
    ASSERT_EQ(1u, all.results().size());
    const json::value& packet = mine.results()[0];
    EXPECT_EQ(json::value(device_.id), packet.at("device_id"));
    EXPECT_EQ(1, packet.at("accepted").as_int64());
    EXPECT_EQ(1, packet.at("points").as_int64());
    EXPECT_EQ(json::array(), packet.at("errors"));
    std::string id(packet.at("id").as_string());
    ApiResult one = get("/api/telemetry/packets/" + id, owner_);
    EXPECT_EQ(200, one.status);
    EXPECT_EQ(packet, one.json);

    ApiResult other = get("/api/telemetry/packets/" + id, other_owner_);
    ApiResult missing = get("/api/telemetry/packets/987654321", other_owner_);
    ApiResult malformed = get("/api/telemetry/packets/x1", other_owner_);
    EXPECT_EQ(404, other.status);
    EXPECT_EQ("not_found", other.errorCode());
    EXPECT_EQ(missing.raw.body, other.raw.body);
    EXPECT_EQ(missing.raw.body, malformed.raw.body);
}

TEST_P(TelemetryApiTest, PacketsPageWithoutSkippingOrRepeating) {
    for (int i = 0; i < 7; ++i) {
        upload(device_, {pointRecord("temp", at("2026-11-02T10:00:00Z") + i * kSecond, i)});
    }
    std::set<std::string> ids;

    json::array all = listAll("/api/telemetry/packets?limit=2", owner_);

    for (const auto& packet : all) {
        ids.insert(std::string(packet.at("id").as_string()));
    }
    EXPECT_EQ(7u, all.size());
    EXPECT_EQ(7u, ids.size());
}

// ---- windows

TEST_P(TelemetryApiTest, WindowsOfBatchRecordsAreStoredAndReplacedBySameStart) {
    Micros start = at("2026-11-02T10:00:00Z");
    auto window = [&](double rms) {
        return json::object{
            {"window",
             json::object{{"start", formatRfc3339Millis(start)},
                          {"end", formatRfc3339Millis(start + kMinute)},
                          {"stats", json::object{{"rms", rms},
                                                 {"max", 1.25},
                                                 {"std", 0.5},
                                                 {"bands", json::object{{"0-100Hz", 0.25}}}}}}}};
    };
    upload(device_, {pointRecord("vibration", start + kMinute, 0.5, "g", window(0.5))});
    upload(device_, {pointRecord("vibration", start + kMinute, 0.75, "g", window(0.75))});

    ApiResult result = get("/api/telemetry/windows?device_id=" + device_.id, owner_);

    ASSERT_EQ(200, result.status) << result.raw.body;
    ASSERT_EQ(1u, result.results().size());
    const json::value& stored = result.results()[0];
    EXPECT_EQ("vibration", stored.at("name"));
    EXPECT_EQ("2026-11-02T10:00:00.000Z", stored.at("start"));
    EXPECT_EQ("2026-11-02T10:01:00.000Z", stored.at("end"));
    EXPECT_EQ(0.75, stored.at("stats").at("rms").to_number<double>());
    EXPECT_EQ(0.25, stored.at("stats").at("bands").at("0-100Hz").to_number<double>());
    EXPECT_EQ(1u, get("/api/telemetry/points?device_id=" + device_.id, owner_).results().size());
    EXPECT_EQ(0u, get("/api/telemetry/windows?name=other", owner_).results().size());
    EXPECT_EQ(0u, get("/api/telemetry/windows", other_owner_).results().size());
}

TEST_P(TelemetryApiTest, ARecordWithABadWindowIsRejectedWhole) {
    Micros t = at("2026-11-02T10:00:00Z");
    json::object backwards{{"start", formatRfc3339Millis(t + kMinute)},
                           {"end", formatRfc3339Millis(t)},
                           {"stats", json::object()}};
    json::array records{
        pointRecord("vibration", t, 1, "g", json::object{{"window", backwards}}),
        pointRecord("vibration", t + kSecond, 1, "g", json::object{{"window", "soon"}}),
        pointRecord("vibration", t + 2 * kSecond, 1, "g",
                    json::object{{"window", json::object{{"start", formatRfc3339Millis(t)},
                                                         {"end", formatRfc3339Millis(t)}}}})};
    DeviceClient client(*server_, device_);

    HttpResult result = client.batch(json::serialize(records));

    ASSERT_EQ(200, result.status) << result.body;
    json::object answer = jsonObject(result);
    EXPECT_EQ(3, answer.at("rejected").as_int64());
    EXPECT_EQ("invalid_window", answer.at("errors").at(0).at("code"));
    EXPECT_EQ("invalid_window", answer.at("errors").at(1).at("code"));
    EXPECT_EQ("invalid_window", answer.at("errors").at(2).at("code"));
    EXPECT_EQ(0u, get("/api/telemetry/windows", owner_).results().size());
    EXPECT_EQ(0u, get("/api/telemetry/points?device_id=" + device_.id, owner_).results().size());
}

INSTANTIATE_TEST_SUITE_P(Stores, TelemetryApiTest, ::testing::ValuesIn(storeKinds()));

// ---- the time and CSV rules themselves, without a server

TEST(TelemetryTimeTest, SubHourBucketsFollowTheHalfHourOffsetOfKolkata) {
    auto zone = api::Zone::find("Asia/Kolkata");
    auto hour = api::findInterval("1h");

    auto plan = api::planBuckets(*zone, *hour, at("2026-11-02T10:10:00+05:30"),
                                 at("2026-11-02T12:00:00+05:30"), 100);

    ASSERT_TRUE(plan);
    ASSERT_EQ(2u, plan->buckets.size());
    EXPECT_EQ("2026-11-02T10:00:00.000+05:30", zone->format(plan->buckets[0].start, 3));
    EXPECT_EQ(kHour, plan->buckets[0].end - plan->buckets[0].start);
}

TEST(TelemetryTimeTest, ADaySkippedByTheZoneHasNoBucket) {
    auto zone = api::Zone::find("Pacific/Apia");
    auto day = api::findInterval("1d");

    auto plan = api::planBuckets(*zone, *day, at("2011-12-29T00:00:00-10:00"),
                                 at("2011-12-31T12:00:00+14:00"), 100);

    ASSERT_TRUE(plan);
    ASSERT_EQ(2u, plan->buckets.size());
    EXPECT_EQ("2011-12-31T00:00:00+14:00", zone->format(plan->buckets[1].start, 0));
    EXPECT_EQ(kDay, plan->buckets[0].end - plan->buckets[0].start);
}

TEST(TelemetryTimeTest, UtcItselfIsWrittenWithZ) {
    EXPECT_EQ("2026-11-02T10:00:00.000Z",
              api::Zone::find("UTC")->format(at("2026-11-02T10:00:00Z"), 3));
    EXPECT_EQ("2026-11-02T10:00:00.000+00:00",
              api::Zone::find("Europe/London")->format(at("2026-11-02T10:00:00Z"), 3));
    EXPECT_FALSE(api::Zone::find("Mars/Olympus"));
}

TEST(CsvCellTest, NeutralizesFormulasAndQuotesSeparators) {
    EXPECT_EQ("plain", api::csvCell("plain"));
    EXPECT_EQ("'=1+2", api::csvCell("=1+2"));
    EXPECT_EQ("'+", api::csvCell("+"));
    EXPECT_EQ("'@SUM", api::csvCell("@SUM"));
    EXPECT_EQ("\"'\rx\"", api::csvCell("\rx"));
    EXPECT_EQ("\"a\"\"b\"", api::csvCell("a\"b"));
    EXPECT_EQ("", api::csvCell(""));
    EXPECT_EQ("-5", api::exportNumber(-5));
}

}  // namespace
}  // namespace esocore::testing
