// /healthz, /readyz and /metrics.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <sstream>
#include <thread>

#include "core/crypto.h"
#include "core/version.h"
#include "support/device_test.h"

namespace esocore {
namespace {

using testing::HttpClient;
using testing::HttpResult;

class OpsApiTest : public testing::DeviceTest {
protected:
    // The value of the sample `series` (a metric name with its labels, as rendered), or -1.
    double metric(const std::string& series) {
        HttpResult result = HttpClient(server_->baseUrl()).get("/metrics");
        EXPECT_EQ(200, result.status);
        std::istringstream lines(result.body);
        std::string line;
        while (std::getline(lines, line)) {
            if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
                line[series.size()] == ' ') {
                return std::stod(line.substr(series.size() + 1));
            }
        }
        return -1;
    }
};

TEST_P(OpsApiTest, HealthzAnswersOk) {
    HttpResult result = HttpClient(server_->baseUrl()).get("/healthz");

    ASSERT_EQ(200, result.status);
    boost::json::object body = testing::jsonObject(result);
    EXPECT_EQ("ok", body.at("status").as_string());
    EXPECT_EQ(kVersion, body.at("version").as_string());
}

TEST_P(OpsApiTest, ReadyzAnswersReadyWithTheSchemaCurrent) {
    HttpResult result = HttpClient(server_->baseUrl()).get("/readyz");

    ASSERT_EQ(200, result.status) << result.body;
    boost::json::object body = testing::jsonObject(result);
    EXPECT_EQ("ready", body.at("status").as_string());
    EXPECT_EQ("ok", body.at("store").as_string());
    EXPECT_EQ("current", body.at("migrations").as_string());
    EXPECT_EQ(body.at("latest_schema_version"), body.at("schema_version"));
}

TEST_P(OpsApiTest, MetricsAreInThePrometheusTextFormat) {
    HttpResult result = HttpClient(server_->baseUrl()).get("/metrics");

    ASSERT_EQ(200, result.status);
    EXPECT_EQ("text/plain; version=0.0.4; charset=utf-8", result.header("content-type"));
    for (const char* family :
         {"esocore_ingest_points_total counter", "esocore_ingest_batches_total counter",
          "esocore_ingest_queue_depth gauge", "esocore_ingest_commit_seconds histogram"}) {
        EXPECT_NE(std::string::npos, result.body.find(std::string("# TYPE ") + family)) << family;
    }
    EXPECT_LT(0, metric("esocore_process_resident_bytes"));
}

TEST_P(OpsApiTest, IngestCountersMoveAfterABatch) {
    double points = metric("esocore_ingest_points_total");
    double events = metric("esocore_ingest_events_total");
    double rejected = metric("esocore_ingest_rejected_total");
    double applied = metric(R"(esocore_ingest_batches_total{outcome="applied"})");
    std::string records = R"([{"series":"rh","val":1,"ts":"2026-03-02T07:15:00Z"},
                              {"series":"rh","val":2,"ts":"2026-03-02T07:15:01Z"},
                              {"series":"rh","val":"x"},
                              {"series":"sd_error","ts":"2026-03-02T07:15:02Z"}])";

    ASSERT_EQ(200, device_->batch(records).status);

    EXPECT_EQ(points + 2, metric("esocore_ingest_points_total"));
    EXPECT_EQ(events + 1, metric("esocore_ingest_events_total"));
    EXPECT_EQ(rejected + 1, metric("esocore_ingest_rejected_total"));
    EXPECT_EQ(applied + 1, metric(R"(esocore_ingest_batches_total{outcome="applied"})"));
}

TEST_P(OpsApiTest, ReplaysAndConflictsAreCounted) {
    testing::BatchOptions options;
    options.idempotency_key = newUuid();
    ASSERT_EQ(200, device_->batch(testing::makePoints(2), options).status);
    double replayed = metric(R"(esocore_ingest_batches_total{outcome="replayed"})");
    double conflicts = metric(R"(esocore_ingest_batches_total{outcome="conflict"})");

    ASSERT_EQ(409, device_->batch(testing::makePoints(2), options).status);
    ASSERT_EQ(422, device_->batch(testing::makePoints(3), options).status);

    EXPECT_EQ(replayed + 1, metric(R"(esocore_ingest_batches_total{outcome="replayed"})"));
    EXPECT_EQ(conflicts + 1, metric(R"(esocore_ingest_batches_total{outcome="conflict"})"));
}

TEST_P(OpsApiTest, RequestsAreCountedByRouteAndStatus) {
    std::string series =
        R"(esocore_http_requests_total{route="/healthz",method="GET",status="200"})";
    double before = metric(series);
    before = before < 0 ? 0 : before;

    HttpClient(server_->baseUrl()).get("/healthz");

    // A request is counted once its answer is written, so the client may ask before that.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (metric(series) < before + 1 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_LE(before + 1, metric(series));
}

INSTANTIATE_TEST_SUITE_P(Stores, OpsApiTest, ::testing::ValuesIn(testing::storeKinds()));

}  // namespace
}  // namespace esocore
