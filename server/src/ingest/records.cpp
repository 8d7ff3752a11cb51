#include "ingest/records.h"

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <memory>

#include "core/clock.h"

namespace esocore::ingest {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxSeriesBytes = 255;
constexpr std::size_t kMaxMetaBytes = 4096;
constexpr std::size_t kMaxListedErrors = 100;
constexpr std::size_t kMaxUnitBytes = 32;
// Numbers below this look like seconds, not milliseconds: 1973-03-03 in milliseconds.
constexpr double kMinMillis = 1e11;
// 9999-12-31 in milliseconds.
constexpr double kMaxMillis = 253402300799999.0;

// A known event: its category and the severity it has when the device sends none.
struct EventKind {
    const char* type;
    const char* category;
    const char* severity;
};

constexpr std::array<EventKind, 20> kEventKinds{{
    {"connectivity_lost", "connectivity", "medium"},
    {"connectivity_restored", "connectivity", "info"},
    {"power_outage", "power", "critical"},
    {"power_restored", "power", "info"},
    {"safe_shutdown_initiated", "power", "critical"},
    {"low_battery", "power", "medium"},
    {"emergency_stop_activated", "safety", "critical"},
    {"emergency_stop_released", "safety", "info"},
    {"sd_error", "system", "medium"},
    {"sd_full", "system", "high"},
    {"watchdog_reset", "system", "medium"},
    {"reboot", "system", "low"},
    {"time_sync_failed", "system", "low"},
    {"tamper_detected", "security", "high"},
    {"auth_failure", "security", "medium"},
    {"cycle_open", "asset", "info"},
    {"cycle_close", "asset", "info"},
    {"door_blocked", "asset", "high"},
    {"ota_failed", "ota", "high"},
    {"ota_rolled_back", "ota", "high"},
}};

constexpr std::array<const char*, 7> kCategories{"connectivity", "power", "safety", "system",
                                                 "security",     "asset", "ota"};

const EventKind* findEventKind(std::string_view type) {
    for (const auto& kind : kEventKinds) {
        if (type == kind.type) {
            return &kind;
        }
    }
    return nullptr;
}

// Maps the device's words to the five stored severities; nothing for unknown words.
std::optional<std::string> severityFrom(std::string_view word) {
    if (word == "info" || word == "low" || word == "medium" || word == "high" ||
        word == "critical") {
        return std::string(word);
    }
    if (word == "warning" || word == "warn") {
        return "medium";
    }
    if (word == "error") {
        return "high";
    }
    if (word == "debug" || word == "notice") {
        return "info";
    }
    return std::nullopt;
}

const json::value* field(const json::object& record, std::string_view name,
                         std::string_view old_name = {}) {
    if (const json::value* v = record.if_contains(name)) {
        return v;
    }
    if (!old_name.empty()) {
        return record.if_contains(old_name);
    }
    return nullptr;
}

// The record's time, or the error code that rejects it.
std::variant<Micros, const char*> readTimestamp(const json::value* ts, const RecordRules& rules) {
    Micros at = rules.now;
    if (ts != nullptr && !ts->is_null()) {
        if (ts->is_string()) {
            auto parsed = parseRfc3339(std::string_view(ts->get_string()));
            if (!parsed) {
                return "invalid_timestamp";
            }
            at = *parsed;
        } else if (ts->is_number()) {
            double millis = ts->to_number<double>();
            if (!std::isfinite(millis) || millis < kMinMillis || millis > kMaxMillis) {
                return "invalid_timestamp";
            }
            at = ts->is_double() ? static_cast<Micros>(std::llround(millis * 1000.0))
                                 : ts->to_number<Micros>() * 1000;
        } else {
            return "invalid_timestamp";
        }
    }
    if (at > rules.now + rules.max_skew) {
        if (!rules.restamp_future) {
            return "future_timestamp";
        }
        at = rules.now;
    }
    return at;
}

// The reading as a double, or the error code that rejects it.
std::variant<double, const char*> readValue(const json::value& v) {
    switch (v.kind()) {
        case json::kind::bool_:
            return v.get_bool() ? 1.0 : 0.0;
        case json::kind::int64:
            return static_cast<double>(v.get_int64());
        case json::kind::uint64:
            return static_cast<double>(v.get_uint64());
        case json::kind::double_: {
            double d = v.get_double();
            if (std::isnan(d)) {
                return "inexact_value";
            }
            if (!std::isfinite(d)) {
                return "value_out_of_range";
            }
            return d;
        }
        case json::kind::null:
            return "missing_value";
        default:
            return "invalid_value";
    }
}

// A duration in whole milliseconds (a fraction is rounded); nothing when `v` is not a finite,
// non-negative number that fits.
std::optional<std::int64_t> readDuration(const json::value& v) {
    if (!v.is_number()) {
        return std::nullopt;
    }
    double ms = v.to_number<double>();
    if (!std::isfinite(ms) || ms < 0 || ms >= 9.2e18) {
        return std::nullopt;
    }
    return std::llround(ms);
}

// A point record's `meta.window` {"start", "end", "stats": {...}}: statistics the device
// computed over that window of the series. Its times take the forms of `ts`; a window that
// is not such an object rejects the whole record.
std::variant<store::WindowRow, const char*> readWindow(const json::value& window,
                                                       const std::string& series,
                                                       const RecordRules& rules) {
    const json::object* fields = window.if_object();
    if (fields == nullptr) {
        return "invalid_window";
    }
    const json::value* start = fields->if_contains("start");
    const json::value* end = fields->if_contains("end");
    const json::value* stats = fields->if_contains("stats");
    if (start == nullptr || start->is_null() || end == nullptr || end->is_null() ||
        stats == nullptr || !stats->is_object()) {
        return "invalid_window";
    }
    RecordRules exact = rules;
    exact.restamp_future = false;
    auto from = readTimestamp(start, exact);
    auto to = readTimestamp(end, exact);
    if (!std::holds_alternative<Micros>(from) || !std::holds_alternative<Micros>(to) ||
        std::get<Micros>(to) < std::get<Micros>(from)) {
        return "invalid_window";
    }
    return store::WindowRow{series, std::get<Micros>(from), std::get<Micros>(to),
                            json::serialize(*stats)};
}

// UUIDs compare without regard to case (RFC 4122 §3).
bool sameUuid(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

std::optional<std::string> readString(const json::object& record, std::string_view name) {
    const json::value* v = record.if_contains(name);
    if (v != nullptr && v->is_string()) {
        return std::string(v->get_string());
    }
    return std::nullopt;
}

class RecordReader {
public:
    RecordReader(const RecordRules& rules, store::IngestBatch& batch)
        : rules_(rules), batch_(batch) {}

    void read(const json::value& record, int index);

private:
    void reject(int index, const char* code);
    const char* readEvent(const json::object& record, std::string series, Micros ts,
                          const json::object* meta, std::string meta_text);
    const char* readCycle(const json::object& record, const json::object& meta,
                          store::EventRow& event);

    const RecordRules& rules_;
    store::IngestBatch& batch_;
};

void RecordReader::reject(int index, const char* code) {
    ++batch_.rejected;
    if (batch_.errors.size() < kMaxListedErrors) {
        batch_.errors.push_back({index, code});
    }
}

const char* RecordReader::readCycle(const json::object& record, const json::object& meta,
                                    store::EventRow& event) {
    const json::value* cycle_id = meta.if_contains("cycle_id");
    constexpr std::uint64_t kLargest = std::numeric_limits<std::int64_t>::max();
    if (cycle_id == nullptr ||
        !(cycle_id->is_int64() || (cycle_id->is_uint64() && cycle_id->get_uint64() <= kLargest))) {
        return "invalid_cycle";
    }
    store::CycleMark mark;
    mark.cycle_id = cycle_id->to_number<std::int64_t>();
    mark.opens = event.type == "cycle_open";
    mark.asset_ref = readString(record, "asset_id").value_or(rules_.device_asset);
    if (mark.asset_ref.empty()) {
        return "missing_asset";
    }
    mark.duration_ms = event.duration_ms;
    event.cycle = std::move(mark);
    return nullptr;
}

const char* RecordReader::readEvent(const json::object& record, std::string series, Micros ts,
                                    const json::object* meta, std::string meta_text) {
    store::EventRow event;
    event.type = std::move(series);
    event.ts = ts;
    event.meta_json = meta_text.empty() ? "{}" : std::move(meta_text);
    const EventKind* kind = findEventKind(event.type);
    event.category = kind != nullptr ? kind->category : "system";
    event.severity = kind != nullptr ? kind->severity : "medium";
    event.asset_ref = readString(record, "asset_id").value_or("");
    event.site_ref = readString(record, "site_id").value_or("");
    if (meta != nullptr) {
        if (auto category = readString(*meta, "event_type")) {
            for (const char* known : kCategories) {
                if (*category == known) {
                    event.category = known;
                }
            }
        }
        if (const json::value* severity = meta->if_contains("severity")) {
            auto mapped =
                severity->is_string() ? severityFrom(severity->get_string()) : std::nullopt;
            if (!mapped) {
                return "invalid_severity";
            }
            event.severity = *mapped;
        }
        event.description = readString(*meta, "description").value_or("");
        if (const json::value* d = meta->if_contains("duration_ms"); d && !d->is_null()) {
            event.duration_ms = readDuration(*d);
            if (!event.duration_ms) {
                return "invalid_duration";
            }
        }
    }
    if (event.type == "cycle_open" || event.type == "cycle_close") {
        static const json::object empty;
        if (const char* code = readCycle(record, meta != nullptr ? *meta : empty, event)) {
            return code;
        }
    }
    batch_.events.push_back(std::move(event));
    return nullptr;
}

void RecordReader::read(const json::value& value, int index) {
    if (!value.is_object()) {
        return reject(index, "invalid_record");
    }
    const json::object& record = value.get_object();
    if (const json::value* claimed = record.if_contains("device_id");
        claimed && !claimed->is_null()) {
        if (!claimed->is_string() || (!sameUuid(claimed->get_string(), rules_.device_id) &&
                                      claimed->get_string() != rules_.device_serial)) {
            return reject(index, "device_mismatch");
        }
    }
    for (std::string_view name : {"asset_id", "site_id"}) {
        const json::value* ref = record.if_contains(name);
        if (ref != nullptr && ref->is_string() &&
            std::string_view(ref->get_string()).find('\0') != std::string_view::npos) {
            return reject(index, "invalid_record");
        }
    }
    auto ts = readTimestamp(field(record, "ts", "timestamp"), rules_);
    if (auto* code = std::get_if<const char*>(&ts)) {
        return reject(index, *code);
    }
    const json::value* series_value = field(record, "series", "metric");
    if (series_value == nullptr || series_value->is_null()) {
        return reject(index, "missing_series");
    }
    if (!series_value->is_string() || series_value->get_string().empty() ||
        series_value->get_string().size() > kMaxSeriesBytes) {
        return reject(index, "invalid_series");
    }
    auto series = normalizeName(series_value->get_string());
    if (!series || series->size() > kMaxSeriesBytes) {
        return reject(index, "invalid_series");
    }
    const json::value* meta_value = record.if_contains("meta");
    const json::object* meta = nullptr;
    std::string meta_text;
    if (meta_value != nullptr && !meta_value->is_null()) {
        if (!meta_value->is_object()) {
            return reject(index, "invalid_meta");
        }
        meta = &meta_value->get_object();
        meta_text = json::serialize(*meta);
        if (meta_text.size() > kMaxMetaBytes) {
            return reject(index, "meta_too_large");
        }
        // PostgreSQL's text and jsonb cannot hold NUL; both stores refuse it alike.
        if (meta_text.find("\\u0000") != std::string::npos) {
            return reject(index, "invalid_meta");
        }
    }
    const json::value* val = field(record, "val", "value");
    bool no_value = val == nullptr || val->is_null();
    bool event_meta =
        meta != nullptr && (meta->contains("event_type") || meta->contains("severity"));
    if (no_value && (event_meta || isKnownEventName(*series))) {
        if (const char* code = readEvent(record, std::move(*series), std::get<Micros>(ts), meta,
                                         std::move(meta_text))) {
            reject(index, code);
        }
        return;
    }
    auto reading = readValue(val == nullptr ? json::value() : *val);
    if (auto* code = std::get_if<const char*>(&reading)) {
        return reject(index, *code);
    }
    std::string unit;
    if (const json::value* u = record.if_contains("unit"); u && !u->is_null()) {
        if (!u->is_string() || u->get_string().size() > kMaxUnitBytes ||
            std::string_view(u->get_string()).find('\0') != std::string_view::npos) {
            return reject(index, "invalid_unit");
        }
        unit = std::string(u->get_string());
    }
    if (const json::value* window = meta != nullptr ? meta->if_contains("window") : nullptr) {
        auto stats = readWindow(*window, *series, rules_);
        if (auto* code = std::get_if<const char*>(&stats)) {
            return reject(index, *code);
        }
        batch_.windows.push_back(std::move(std::get<store::WindowRow>(stats)));
    }
    batch_.points.push_back(store::PointRow{std::move(*series), std::move(unit),
                                            std::get<Micros>(ts), std::get<double>(reading),
                                            std::move(meta_text)});
}

}  // namespace

std::optional<std::string> normalizeName(std::string_view name) {
    bool ascii = true;
    for (char c : name) {
        if (static_cast<unsigned char>(c) >= 0x80 || c == '\0') {
            ascii = false;
            break;
        }
    }
    if (ascii) {
        return std::string(name);
    }
    utf8proc_uint8_t* normalized = nullptr;
    utf8proc_ssize_t length =
        utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(name.data()),
                     static_cast<utf8proc_ssize_t>(name.size()), &normalized,
                     static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
    if (length < 0) {
        return std::nullopt;
    }
    std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> guard(normalized, std::free);
    std::string out(reinterpret_cast<const char*>(normalized), static_cast<std::size_t>(length));
    if (out.find('\0') != std::string::npos) {
        return std::nullopt;
    }
    return out;
}

bool isKnownEventName(std::string_view series) {
    return findEventKind(series) != nullptr;
}

void readRecords(const json::array& records, const RecordRules& rules, store::IngestBatch& batch) {
    RecordReader reader(rules, batch);
    batch.points.reserve(records.size());
    for (std::size_t i = 0; i < records.size(); ++i) {
        reader.read(records[i], static_cast<int>(i));
    }
}

}  // namespace esocore::ingest
