#include "api/ops_api.h"

#include <boost/json.hpp>
#include <fstream>
#include <string>

#include "core/metrics.h"
#include "core/version.h"
#include "http/response.h"

namespace esocore::api {

namespace json = boost::json;

namespace {

// Resident memory of this process in bytes, from /proc.
std::int64_t residentBytes() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
            return std::stoll(line.substr(6)) * 1024;
        }
    }
    return 0;
}

}  // namespace

void addOpsRoutes(http::Router& router, store::Store& store, ingest::IngestQueue& queue) {
    router.add(
        "GET", "/healthz", http::SyncHandler([](const http::Request&) {
            return http::jsonResponse(200, json::object{{"status", "ok"}, {"version", kVersion}});
        }));
    router.add("GET", "/readyz", http::SyncHandler([&store](const http::Request&) {
                   auto state = store.migrationState();
                   bool reachable = store.ping() && state.ok();
                   bool current = reachable && state->current == state->latest;
                   json::object body{{"store", reachable ? "ok" : "unreachable"},
                                     {"migrations", current ? "current" : "pending"}};
                   if (state) {
                       body["schema_version"] = state->current;
                       body["latest_schema_version"] = state->latest;
                   }
                   body["status"] = reachable && current ? "ready" : "not_ready";
                   return http::jsonResponse(reachable && current ? 200 : 503, body);
               }));
    router.add("GET", "/metrics", http::SyncHandler([&queue](const http::Request&) {
                   auto& registry = metrics::Registry::instance();
                   registry.gauge("esocore_ingest_queue_capacity", "Ingest queue capacity")
                       .set(static_cast<std::int64_t>(queue.capacity()));
                   registry.gauge("esocore_process_resident_bytes", "Resident memory")
                       .set(residentBytes());
                   http::Response response;
                   response.body = registry.render();
                   response.setHeader("content-type", "text/plain; version=0.0.4; charset=utf-8");
                   return response;
               }));
}

}  // namespace esocore::api
