#pragma once

#include <mutex>
#include <string>
#include <unordered_set>

#include "api/device_config.h"
#include "api/rate_limiter.h"
#include "auth/device_auth.h"
#include "core/config.h"
#include "http/router.h"
#include "ingest/ingest_queue.h"
#include "live/bus.h"
#include "live/publish.h"
#include "ota/firmware.h"
#include "ota/update_service.h"
#include "store/store.h"

namespace esocore::api {

/// The device API, /api/iot/v1/ (DESIGN §5).
class DeviceApi {
public:
    DeviceApi(const Config& config, store::Store& store, ingest::IngestQueue& queue,
              ota::FirmwareService& firmware, live::Bus& bus);

    void addRoutes(http::Router& router);

private:
    struct Caller {
        store::Device device;
        DeviceConfig config;
    };

    Result<Caller> authenticate(const http::Request& request);
    http::Response handshake(const http::Request& request);
    void batch(const http::RequestPtr& request, http::Respond respond);
    http::Response config(const http::Request& request);
    http::Response heartbeat(const http::Request& request);
    http::Response otaCheck(const http::Request& request);
    http::Response otaDownload(const http::Request& request);
    http::Response otaReport(const http::Request& request);
    http::Response otaPublicKey(const http::Request& request);

    Result<void> checkBatchHeaders(const http::Request& request);
    Result<std::unique_ptr<store::IngestBatch>> readBatch(const http::Request& request,
                                                          const Caller& caller);
    std::optional<http::Response> replayIfKnown(const store::Device& device,
                                                const http::Request& request);
    void finishBatch(const std::string& flight, Result<store::IngestOutcome> outcome,
                     const http::Respond& respond, const std::string& request_id,
                     const std::optional<live::DeviceFacts>& comes_online);
    std::optional<live::DeviceFacts> comesOnline(const Caller& caller, Micros now) const;
    int backoffMillis() const;
    bool enterFlight(const std::string& flight);
    void leaveFlight(const std::string& flight);

    const Config& config_;
    store::Store& store_;
    ingest::IngestQueue& queue_;
    ota::FirmwareService& firmware_;
    live::Bus& bus_;
    ota::UpdateService updates_;
    auth::DeviceAuthenticator authenticator_;
    RateLimiter limiter_;
    std::mutex flights_mutex_;
    std::unordered_set<std::string> flights_;  // device id + idempotency key being applied
};

}  // namespace esocore::api
