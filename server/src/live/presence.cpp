#include "live/presence.h"

#include <algorithm>
#include <boost/json.hpp>
#include <map>

#include "live/publish.h"

namespace esocore::live {

namespace json = boost::json;

namespace {

constexpr Micros kSecond = 1'000'000;
// The range devices may configure (device_config.cpp checks offline_timeout_s against it).
constexpr Micros kShortestTimeout = 10 * kSecond;
constexpr Micros kLongestTimeout = 30 * 86'400 * kSecond;

std::optional<Micros> timeoutIn(const json::object& settings) {
    const json::value* value = settings.if_contains("offline_timeout_s");
    if (value != nullptr && value->is_int64() && value->get_int64() > 0) {
        return value->get_int64() * kSecond;
    }
    if (value != nullptr && value->is_uint64() && value->get_uint64() > 0) {
        return static_cast<Micros>(std::min<std::uint64_t>(value->get_uint64(), 1u << 31)) *
               kSecond;
    }
    return std::nullopt;
}

std::optional<Micros> timeoutInText(const std::string& text) {
    json::error_code ec;
    json::value value = json::parse(text, ec);
    return !ec && value.is_object() ? timeoutIn(value.get_object()) : std::nullopt;
}

// Profiles are per organization and model; one check reads each at most once.
class ProfileTimeouts {
public:
    explicit ProfileTimeouts(store::Store& store) : store_(store) {}

    std::optional<Micros> of(const std::string& organization_id, const std::string& model) {
        auto key = std::make_pair(organization_id, model);
        auto found = known_.find(key);
        if (found != known_.end()) {
            return found->second;
        }
        std::optional<Micros> timeout;
        auto profile = store_.configProfile(organization_id, model);
        if (profile && *profile) {
            timeout = timeoutInText((*profile)->settings_json);
        }
        known_.emplace(std::move(key), timeout);
        return timeout;
    }

private:
    store::Store& store_;
    std::map<std::pair<std::string, std::string>, std::optional<Micros>> known_;
};

}  // namespace

Micros offlineTimeout(const json::object& settings, const Config& config) {
    return timeoutIn(settings).value_or(Micros{config.default_offline_timeout_seconds} * kSecond);
}

bool comesOnline(std::optional<Micros> last_seen, Micros offline_timeout, Micros now) {
    return !last_seen || now - *last_seen > offline_timeout;
}

OfflineWatch::OfflineWatch(const Config& config, store::Store& store, Bus& bus)
    : config_(config), store_(store), bus_(bus), checked_until_(nowMicros()) {}

Result<std::int64_t> OfflineWatch::check(Micros now) {
    Micros fallback = Micros{config_.default_offline_timeout_seconds} * kSecond;
    Micros shortest = std::min(kShortestTimeout, fallback);
    Micros longest = std::max(kLongestTimeout, fallback);
    // Devices whose offline moment may lie in (checked_until_, now]: silent for at least the
    // shortest timeout, heard from within the longest one before the previous check.
    auto rows = store_.sql().query(
        "SELECT id, organization_id, site_id, serial, name, status, model, config_overrides, "
        "last_seen FROM devices WHERE organization_id IS NOT NULL AND last_seen > $1 "
        "AND last_seen <= $2",
        {checked_until_ - longest, now - shortest});
    if (!rows) {
        return rows.takeError();
    }
    ProfileTimeouts profiles(store_);
    std::int64_t offline = 0;
    for (const auto& row : *rows) {
        Micros last_seen = row.integer(8);
        std::optional<Micros> own = timeoutInText(row.text(7));
        Micros timeout = own ? *own : profiles.of(row.text(1), row.text(6)).value_or(fallback);
        Micros moment = last_seen + timeout;
        if (moment <= checked_until_ || moment > now) {
            continue;
        }
        DeviceFacts device{row.text(0), row.text(1), row.text(2), row.text(3),
                           row.text(4), row.text(5), last_seen};
        publishDeviceOffline(bus_, device, timeout);
        ++offline;
    }
    checked_until_ = now;
    return offline;
}

}  // namespace esocore::live
