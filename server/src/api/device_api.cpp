#include "api/device_api.h"

#include <boost/json.hpp>
#include <charconv>
#include <fstream>
#include <memory>

#include "core/crypto.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/version.h"
#include "http/response.h"
#include "ingest/decode.h"
#include "ingest/json_reader.h"
#include "ingest/records.h"
#include "live/presence.h"
#include "ota/semver.h"

namespace esocore::api {

namespace json = boost::json;
using http::errorResponse;
using http::jsonResponse;
using http::Request;
using http::Response;

namespace {

constexpr std::size_t kJsonDepth = 16;

struct IngestMetrics {
    metrics::Registry& r = metrics::Registry::instance();
    metrics::Counter& points =
        r.counter("esocore_ingest_points_total", "Points stored (new or replaced)");
    metrics::Counter& events = r.counter("esocore_ingest_events_total", "Events stored");
    metrics::Counter& duplicates =
        r.counter("esocore_ingest_duplicates_total", "Records that were already stored");
    metrics::Counter& rejected =
        r.counter("esocore_ingest_rejected_total", "Records rejected by validation");
    metrics::Counter& applied =
        r.counter("esocore_ingest_batches_total", "Batches by outcome", "outcome=\"applied\"");
    metrics::Counter& replayed =
        r.counter("esocore_ingest_batches_total", "Batches by outcome", "outcome=\"replayed\"");
    metrics::Counter& conflicts =
        r.counter("esocore_ingest_batches_total", "Batches by outcome", "outcome=\"conflict\"");
};

IngestMetrics& ingestMetrics() {
    static IngestMetrics m;
    return m;
}

Response withRetryAfter(Response response, int seconds) {
    response.setHeader("retry-after", std::to_string(seconds));
    return response;
}

json::object packetBody(const store::Packet& packet) {
    json::object body{{"accepted", packet.counts.accepted},
                      {"duplicates", packet.counts.duplicates},
                      {"rejected", packet.counts.rejected},
                      {"points", packet.counts.points},
                      {"events", packet.counts.events}};
    json::error_code ec;
    json::value errors = json::parse(packet.errors_json, ec);
    body["errors"] = ec ? json::value(json::array{}) : std::move(errors);
    return body;
}

Result<json::object> parseJsonObject(const std::string& body) {
    if (body.empty()) {
        return json::object{};
    }
    json::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec || !v.is_object()) {
        return Error{400, "invalid_json", "body must be a JSON object", {}};
    }
    return std::move(v.as_object());
}

std::string stringField(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

// True when an If-None-Match value names `etag`: `*`, or a list of entity tags compared
// weakly, so `W/"v"` matches `"v"` (RFC 9110 §13.1.2).
bool noneMatchNames(std::string_view header, std::string_view etag) {
    while (!header.empty()) {
        std::size_t comma = header.find(',');
        std::string_view tag = header.substr(0, comma);
        header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
        while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) {
            tag.remove_prefix(1);
        }
        while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) {
            tag.remove_suffix(1);
        }
        if (tag.substr(0, 2) == "W/") {
            tag.remove_prefix(2);
        }
        if (tag == "*" || tag == etag) {
            return true;
        }
    }
    return false;
}

// Downloads up to this size are answered whole, with a Content-Length; larger ones stream.
constexpr std::int64_t kWholeDownload = 1024 * 1024;

// The next `length` bytes of the image, read piece by piece as the answer is sent: a fleet
// downloading a large image at once never holds copies of it in memory.
http::BodyProducer imagePieces(std::shared_ptr<std::ifstream> in, std::int64_t length) {
    auto left = std::make_shared<std::int64_t>(length);
    return [in = std::move(in), left]() -> Result<std::string> {
        std::string piece(static_cast<std::size_t>(std::min<std::int64_t>(*left, 64 * 1024)), '\0');
        if (piece.empty()) {
            return piece;
        }
        in->read(piece.data(), static_cast<std::streamsize>(piece.size()));
        if (!*in) {
            return Error{500, "firmware_unreadable", "the firmware image cannot be read", {}};
        }
        *left -= static_cast<std::int64_t>(piece.size());
        return piece;
    };
}

// Parses `bytes=a-b`, `bytes=a-` or `bytes=-n` against `size`; nothing when unsatisfiable.
std::optional<std::pair<std::int64_t, std::int64_t>> parseRange(std::string_view header,
                                                                std::int64_t size) {
    constexpr std::string_view unit = "bytes=";
    if (header.substr(0, unit.size()) != unit || header.find(',') != std::string_view::npos) {
        return std::nullopt;
    }
    header.remove_prefix(unit.size());
    auto dash = header.find('-');
    if (dash == std::string_view::npos) {
        return std::nullopt;
    }
    auto number = [](std::string_view s) -> std::optional<std::int64_t> {
        std::int64_t v = 0;
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v < 0) {
            return std::nullopt;
        }
        return v;
    };
    auto first = number(header.substr(0, dash));
    auto last = number(header.substr(dash + 1));
    if (!first && last) {
        std::int64_t length = std::min(*last, size);
        return length > 0 ? std::optional(std::pair{size - length, size - 1}) : std::nullopt;
    }
    if (!first || *first >= size) {
        return std::nullopt;
    }
    std::int64_t end = last ? std::min(*last, size - 1) : size - 1;
    if (end < *first) {
        return std::nullopt;
    }
    return std::pair{*first, end};
}

}  // namespace

DeviceApi::DeviceApi(const Config& config, store::Store& store, ingest::IngestQueue& queue,
                     ota::FirmwareService& firmware, live::Bus& bus)
    : config_(config),
      store_(store),
      queue_(queue),
      firmware_(firmware),
      bus_(bus),
      updates_(store.sql(), bus),
      authenticator_(store),
      limiter_(config.device_rate_per_second, config.device_rate_burst) {
    // Registered now so that /metrics shows the counters at zero before the first batch.
    ingestMetrics();
}

void DeviceApi::addRoutes(http::Router& router) {
    const std::string base = "/api/iot/v1/";
    auto guard = [this](http::SyncHandler handler) {
        return http::SyncHandler([this, handler](const Request& request) {
            if (config_.maintenance) {
                return withRetryAfter(
                    errorResponse(503, "maintenance", "the server is in maintenance mode"),
                    config_.maintenance_retry_after);
            }
            return handler(request);
        });
    };
    router.add("POST", base + "auth/handshake",
               guard([this](const Request& r) { return handshake(r); }));
    router.add("POST", base + "telemetry/batch",
               http::Handler([this](const http::RequestPtr& request, http::Respond respond) {
                   if (config_.maintenance) {
                       return respond(withRetryAfter(
                           errorResponse(503, "maintenance", "the server is in maintenance mode"),
                           config_.maintenance_retry_after));
                   }
                   batch(request, std::move(respond));
               }),
               http::RouteOptions{config_.max_body_bytes});
    router.add("GET", base + "config", guard([this](const Request& r) { return config(r); }));
    router.add("POST", base + "heartbeat", guard([this](const Request& r) { return heartbeat(r); }),
               http::RouteOptions{64 * 1024});
    router.add("GET", base + "ota/check", guard([this](const Request& r) { return otaCheck(r); }));
    router.add("GET", base + "ota/download/{token}",
               guard([this](const Request& r) { return otaDownload(r); }));
    router.add("POST", base + "ota/report",
               guard([this](const Request& r) { return otaReport(r); }));
    router.add("GET", base + "ota/public-key",
               guard([this](const Request& r) { return otaPublicKey(r); }));
}

Result<DeviceApi::Caller> DeviceApi::authenticate(const Request& request) {
    auto device = authenticator_.authenticate(request);
    if (!device) {
        return device.takeError();
    }
    auto settings = deviceConfig(config_, store_, *device);
    if (!settings) {
        return settings.takeError();
    }
    const json::value* signing = settings->settings.if_contains("signing_required");
    if (signing != nullptr && signing->is_bool() && signing->get_bool()) {
        if (auto ok = authenticator_.verifySignature(request, nowMicros()); !ok) {
            return ok.takeError();
        }
    }
    return Caller{std::move(*device), std::move(*settings)};
}

Response DeviceApi::handshake(const Request& request) {
    auto body = parseJsonObject(request.body);
    if (!body) {
        return errorResponse(body.error());
    }
    json::object answer{{"nonce", randomToken(16)},
                        {"server_time", formatRfc3339Millis(nowMicros())},
                        {"version", kVersion}};
    if (request.header("x-device-id").empty()) {
        return jsonResponse(200, answer);
    }
    auto caller = authenticate(request);
    if (!caller) {
        return errorResponse(caller.error());
    }
    auto offer = updates_.findOffer(caller->device, caller->device.firmware_version);
    answer["device_id"] = caller->device.id;
    answer["status"] = caller->device.status;
    answer["config_version"] = caller->config.version;
    answer["update_available"] = offer && offer->has_value();
    answer["ota_public_key"] = firmware_.publicKey();
    return jsonResponse(200, answer);
}

Response DeviceApi::config(const Request& request) {
    auto caller = authenticate(request);
    if (!caller) {
        return errorResponse(caller.error());
    }
    std::string etag = "\"" + caller->config.version + "\"";
    if (noneMatchNames(request.header("if-none-match"), etag)) {
        Response not_modified;
        not_modified.status = 304;
        not_modified.setHeader("etag", etag);
        return not_modified;
    }
    json::object body = caller->config.settings;
    body["config_version"] = caller->config.version;
    Response response = jsonResponse(200, body);
    response.setHeader("etag", etag);
    response.setHeader("cache-control", "no-cache");
    return response;
}

Response DeviceApi::heartbeat(const Request& request) {
    auto caller = authenticate(request);
    if (!caller) {
        return errorResponse(caller.error());
    }
    auto body = parseJsonObject(request.body);
    if (!body) {
        return errorResponse(body.error());
    }
    std::string health = json::serialize(*body);
    if (health.size() > 16 * 1024) {
        return errorResponse(413, "body_too_large", "heartbeat larger than 16 KiB");
    }
    Micros now = nowMicros();
    if (auto ok = store_.recordHeartbeat(caller->device.id, now, health,
                                         stringField(*body, "firmware_version"));
        !ok) {
        return errorResponse(ok.error());
    }
    if (auto online = comesOnline(*caller, now)) {
        live::publishDeviceOnline(bus_, *online);
    }
    return jsonResponse(200, json::object{{"status", "ok"},
                                          {"server_time", formatRfc3339Millis(now)},
                                          {"config_version", caller->config.version}});
}

Result<void> DeviceApi::checkBatchHeaders(const Request& request) {
    auto key = request.header("idempotency-key");
    if (key.empty()) {
        return Error{400, "missing_idempotency_key", "Idempotency-Key (a UUID) is required", {}};
    }
    if (!isUuid(key)) {
        return Error{400, "invalid_idempotency_key", "Idempotency-Key must be a UUID", {}};
    }
    if (!ingest::parseEncoding(request.header("content-encoding"))) {
        return Error{415, "unsupported_encoding", "Content-Encoding must be gzip or zstd", {}};
    }
    auto claimed = request.header("content-sha256");
    if (!claimed.empty()) {
        std::string lower(claimed);
        for (auto& c : lower) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        if (lower != sha256Hex(request.body)) {
            return Error{
                400, "checksum_mismatch", "Content-SHA256 does not match the body as sent", {}};
        }
    }
    return {};
}

std::optional<Response> DeviceApi::replayIfKnown(const store::Device& device,
                                                 const Request& request) {
    auto packet = store_.findPacket(device.id, std::string(request.header("idempotency-key")));
    if (!packet) {
        return errorResponse(packet.error());
    }
    if (!*packet) {
        return std::nullopt;
    }
    if ((*packet)->body_sha256 != sha256Hex(request.body)) {
        ingestMetrics().conflicts.add();
        return errorResponse(422, "idempotency_key_reused",
                             "this Idempotency-Key was used for a different body");
    }
    ingestMetrics().replayed.add();
    json::object body = packetBody(**packet);
    body["error"] = http::errorBody(
        Error{409, "duplicate_batch", "this batch was already applied", {}})["error"];
    return jsonResponse(409, body);
}

Result<std::unique_ptr<store::IngestBatch>> DeviceApi::readBatch(const Request& request,
                                                                 const Caller& caller) {
    auto encoding = ingest::parseEncoding(request.header("content-encoding"));
    auto decoded = ingest::decodeBody(request.body, *encoding,
                                      static_cast<std::size_t>(config_.max_decoded_bytes));
    if (!decoded) {
        return decoded.takeError();
    }
    auto parsed =
        ingest::parseBatchJson(*decoded, kJsonDepth, static_cast<std::size_t>(config_.max_records));
    if (!parsed) {
        return parsed.takeError();
    }
    if (!parsed->is_array()) {
        return Error{400, "not_an_array", "body must be a JSON array of records", {}};
    }
    const json::array& records = parsed->get_array();
    auto batch = std::make_unique<store::IngestBatch>();
    batch->device_id = caller.device.id;
    batch->organization_id = caller.device.organization_id;
    batch->site_id = caller.device.site_id;
    batch->idempotency_key = std::string(request.header("idempotency-key"));
    batch->body_sha256 = sha256Hex(request.body);
    batch->received_at = nowMicros();
    ingest::RecordRules rules;
    rules.now = batch->received_at;
    rules.max_skew = Micros{config_.time_skew_seconds} * 1'000'000;
    const json::value* restamp = caller.config.settings.if_contains("restamp_future");
    rules.restamp_future = (restamp != nullptr && restamp->is_bool() && restamp->get_bool()) ||
                           request.header("x-restamp") == "1";
    rules.device_id = caller.device.id;
    rules.device_serial = caller.device.serial;
    rules.device_asset = caller.device.asset_id;
    ingest::readRecords(records, rules, *batch);
    return batch;
}

bool DeviceApi::enterFlight(const std::string& flight) {
    std::lock_guard lock(flights_mutex_);
    return flights_.insert(flight).second;
}

void DeviceApi::leaveFlight(const std::string& flight) {
    std::lock_guard lock(flights_mutex_);
    flights_.erase(flight);
}

int DeviceApi::backoffMillis() const {
    std::size_t depth = queue_.depth();
    std::size_t half = queue_.capacity() / 2;
    if (half == 0 || depth < half) {
        return 0;
    }
    return static_cast<int>(250 + 4750 * (depth - half) / half);
}

void DeviceApi::batch(const http::RequestPtr& request, http::Respond respond) {
    auto caller = authenticate(*request);
    if (!caller) {
        return respond(errorResponse(caller.error()));
    }
    if (auto ok = checkBatchHeaders(*request); !ok) {
        return respond(errorResponse(ok.error()));
    }
    if (int wait = limiter_.take(caller->device.id, nowMicros()); wait > 0) {
        return respond(withRetryAfter(
            errorResponse(429, "rate_limited", "too many requests from this device"), wait));
    }
    std::string flight = caller->device.id + "/" + std::string(request->header("idempotency-key"));
    if (!enterFlight(flight)) {
        return respond(withRetryAfter(
            errorResponse(409, "in_progress", "a batch with this Idempotency-Key is being applied"),
            1));
    }
    if (auto replay = replayIfKnown(caller->device, *request)) {
        leaveFlight(flight);
        return respond(std::move(*replay));
    }
    auto batch = readBatch(*request, *caller);
    if (!batch) {
        leaveFlight(flight);
        return respond(errorResponse(batch.error()));
    }
    auto online = comesOnline(*caller, (*batch)->received_at);
    bool queued =
        queue_.submit(std::move(*batch), [this, flight, respond, request_id = request->request_id,
                                          online](Result<store::IngestOutcome> outcome) {
            finishBatch(flight, std::move(outcome), respond, request_id, online);
        });
    if (!queued) {
        leaveFlight(flight);
        respond(withRetryAfter(errorResponse(429, "server_busy", "the ingest queue is full"), 2));
    }
}

// The device's last contact before this one was longer ago than its offline timeout: this
// contact brings it online.
std::optional<live::DeviceFacts> DeviceApi::comesOnline(const Caller& caller, Micros now) const {
    Micros timeout = live::offlineTimeout(caller.config.settings, config_);
    if (!live::comesOnline(caller.device.last_seen, timeout, now)) {
        return std::nullopt;
    }
    live::DeviceFacts facts = live::factsOf(caller.device);
    facts.last_seen = now;
    return facts;
}

void DeviceApi::finishBatch(const std::string& flight, Result<store::IngestOutcome> outcome,
                            const http::Respond& respond, const std::string& request_id,
                            const std::optional<live::DeviceFacts>& comes_online) {
    leaveFlight(flight);
    if (!outcome) {
        log::warn("batch not stored",
                  {{"request_id", request_id}, {"error", outcome.error().message}});
        return respond(withRetryAfter(errorResponse(outcome.error()), 5));
    }
    const store::Packet& packet = outcome->packet;
    switch (outcome->kind) {
        case store::IngestOutcome::Kind::conflict:
            ingestMetrics().conflicts.add();
            return respond(errorResponse(422, "idempotency_key_reused",
                                         "this Idempotency-Key was used for a different body"));
        case store::IngestOutcome::Kind::replayed: {
            ingestMetrics().replayed.add();
            json::object body = packetBody(packet);
            body["error"] = http::errorBody(
                Error{409, "duplicate_batch", "this batch was already applied", {}})["error"];
            return respond(jsonResponse(409, body));
        }
        case store::IngestOutcome::Kind::applied:
            break;
    }
    auto& m = ingestMetrics();
    m.applied.add();
    m.points.add(static_cast<std::uint64_t>(packet.counts.points));
    m.events.add(static_cast<std::uint64_t>(packet.counts.events));
    m.duplicates.add(static_cast<std::uint64_t>(packet.counts.duplicates));
    m.rejected.add(static_cast<std::uint64_t>(packet.counts.rejected));
    json::object body = packetBody(packet);
    if (int backoff = backoffMillis(); backoff > 0) {
        body["backoff_ms"] = backoff;
        body["next_hint"] = "backoff_ms: " + std::to_string(backoff);
    }
    respond(jsonResponse(200, body));
    if (comes_online) {
        live::publishDeviceOnline(bus_, *comes_online);
    }
}

Response DeviceApi::otaCheck(const Request& request) {
    auto caller = authenticate(request);
    if (!caller) {
        return errorResponse(caller.error());
    }
    const store::Device& device = caller->device;
    auto asked = request.queryParam("version");
    if (asked && !ota::parseVersion(*asked)) {
        return errorResponse(400, "invalid_version",
                             "version must be a semantic version such as 1.10.0");
    }
    std::string running = asked.value_or(device.firmware_version);
    auto offer = updates_.offer(device, running);
    if (!offer) {
        return errorResponse(offer.error());
    }
    if (!*offer) {
        return jsonResponse(
            200, json::object{{"update_available", false}, {"current_version", running}});
    }
    const store::FirmwareBundle& bundle = (*offer)->bundle;
    Micros expires = nowMicros() + Micros{config_.ota_link_seconds} * 1'000'000;
    std::string url = config_.public_url + "/api/iot/v1/ota/download/" +
                      firmware_.downloadToken(bundle.id, device.id, expires);
    return jsonResponse(200, json::object{{"update_available", true},
                                          {"current_version", running},
                                          {"version", bundle.version},
                                          {"channel", bundle.channel},
                                          {"size", bundle.size},
                                          {"sha256", bundle.sha256},
                                          {"signature", bundle.signature},
                                          {"signature_algorithm", "ed25519"},
                                          {"public_key", firmware_.publicKey()},
                                          {"release_notes", bundle.release_notes},
                                          {"rollout_id", (*offer)->rollout_id},
                                          {"url", url},
                                          {"expires_at", formatRfc3339Millis(expires)}});
}

Response DeviceApi::otaDownload(const Request& request) {
    auto claims = firmware_.checkToken(request.param("token"), nowMicros());
    if (!claims) {
        return errorResponse(claims.error());
    }
    auto bundle = store_.findFirmwareBundle(claims->bundle_id);
    if (!bundle) {
        return errorResponse(bundle.error());
    }
    if (!*bundle) {
        return errorResponse(404, "not_found", "this firmware bundle no longer exists");
    }
    std::int64_t size = (*bundle)->size;
    std::int64_t first = 0;
    std::int64_t last = size - 1;
    Response response;
    response.status = 200;
    if (auto range_header = request.header("range"); !range_header.empty()) {
        auto range = parseRange(range_header, size);
        if (!range) {
            Response refused = errorResponse(416, "range_not_satisfiable",
                                             "the requested range is outside the image");
            refused.setHeader("content-range", "bytes */" + std::to_string(size));
            return refused;
        }
        std::tie(first, last) = *range;
        response.status = 206;
        response.setHeader("content-range", "bytes " + std::to_string(first) + "-" +
                                                std::to_string(last) + "/" + std::to_string(size));
    }
    std::int64_t length = std::max<std::int64_t>(0, last - first + 1);
    auto in = std::make_shared<std::ifstream>((*bundle)->path, std::ios::binary);
    in->seekg(first);
    if (length > kWholeDownload) {
        response.producer = imagePieces(in, length);
    } else {
        response.body.resize(static_cast<std::size_t>(length));
        in->read(response.body.data(), static_cast<std::streamsize>(length));
    }
    if (!*in) {
        return errorResponse(500, "firmware_unreadable", "the firmware image cannot be read");
    }
    response.setHeader("content-type", "application/octet-stream");
    response.setHeader("accept-ranges", "bytes");
    response.setHeader("etag", "\"" + (*bundle)->sha256 + "\"");
    return response;
}

Response DeviceApi::otaReport(const Request& request) {
    auto caller = authenticate(request);
    if (!caller) {
        return errorResponse(caller.error());
    }
    auto body = parseJsonObject(request.body);
    if (!body) {
        return errorResponse(body.error());
    }
    ota::UpdateReport report{stringField(*body, "status"), stringField(*body, "version"),
                             stringField(*body, "error")};
    static const std::vector<std::string> statuses = {"downloading", "installing", "completed",
                                                      "failed", "rolled_back"};
    if (std::find(statuses.begin(), statuses.end(), report.status) == statuses.end()) {
        Error error{422,
                    "invalid_status",
                    "status must be one of downloading, installing, "
                    "completed, failed, rolled_back",
                    {{"status", "unknown value"}}};
        return errorResponse(error);
    }
    constexpr std::size_t kMaxError = 2000;
    if (report.error.size() > kMaxError) {
        std::size_t end = kMaxError;
        while (end > 0 && (static_cast<unsigned char>(report.error[end]) & 0xC0) == 0x80) {
            --end;  // never cut a UTF-8 sequence in two
        }
        report.error.resize(end);
    }
    auto update = updates_.report(caller->device, report);
    if (!update) {
        return errorResponse(update.error());
    }
    return jsonResponse(200,
                        json::object{{"status", update->status}, {"version", update->to_version}});
}

// The key that signs firmware images, for devices that verify before they ask for an update.
Response DeviceApi::otaPublicKey(const Request&) {
    Response response = jsonResponse(
        200, json::object{{"public_key", firmware_.publicKey()}, {"algorithm", "ed25519"}});
    response.setHeader("cache-control", "public, max-age=3600");
    return response;
}

}  // namespace esocore::api
