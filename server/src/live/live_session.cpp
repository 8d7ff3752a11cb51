#include "live/live_session.h"

#include <algorithm>
#include <boost/json.hpp>

#include "api/management.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/metrics.h"

namespace esocore::live {

namespace json = boost::json;

namespace {

metrics::Gauge& subscriptionGauge() {
    static metrics::Gauge& gauge = metrics::Registry::instance().gauge(
        "esocore_ws_subscriptions", "Live-update subscriptions of open WebSocket connections");
    return gauge;
}

// Whether any of the principal's memberships allows `action` somewhere: enough to subscribe
// to a channel that spans organizations, whose messages are then filtered one by one.
bool allowedAnywhere(const api::Principal& principal, auth::Action action) {
    if (principal.user.is_staff) {
        return true;
    }
    return std::any_of(
        principal.memberships.begin(), principal.memberships.end(),
        [action](const accounts::Membership& m) { return auth::allowed(m.role, m.scope, action); });
}

auth::Action actionOf(ChannelKind kind) {
    switch (kind) {
        case ChannelKind::devices:
        case ChannelKind::device:
            return auth::Action::device_read;
        case ChannelKind::telemetry:
            return auth::Action::telemetry_read;
        case ChannelKind::events:
        case ChannelKind::alerts:
            return auth::Action::event_read;
    }
    return auth::Action::device_read;
}

// The device's place, or 404 when there is no such device (a malformed id included).
Result<api::Target> deviceTarget(store::SqlSession& sql, const std::string& device_id) {
    if (!isUuid(device_id)) {
        return api::notFound("device");
    }
    auto rows =
        sql.query("SELECT organization_id, site_id FROM devices WHERE id = $1", {device_id});
    if (!rows) {
        return rows.takeError();
    }
    if (rows->empty()) {
        return api::notFound("device");
    }
    return api::Target{rows->front().text(0), rows->front().text(1), device_id};
}

}  // namespace

bool LiveSession::Filter::operator==(const Filter& other) const {
    auto same = [](const std::optional<api::Target>& a, const std::optional<api::Target>& b) {
        return a.has_value() == b.has_value() &&
               (!a || (a->organization_id == b->organization_id && a->site_id == b->site_id &&
                       a->device_id == b->device_id));
    };
    return action == other.action && same(target, other.target);
}

LiveSession::LiveSession(store::SqlSession& sql, Bus& bus, api::Principal principal,
                         LiveCredential credential, std::string request_id)
    : sql_(sql),
      bus_(bus),
      credential_(std::move(credential)),
      request_id_(std::move(request_id)),
      principal_(std::make_shared<const api::Principal>(std::move(principal))) {
    subscriptionGauge();
}

LiveSession::~LiveSession() {
    dropAll();
}

void LiveSession::onOpen(std::shared_ptr<http::WebSocket> socket) {
    socket_ = std::move(socket);
}

void LiveSession::onText(std::string_view text) {
    json::error_code ec;
    json::value parsed = json::parse(text, ec);
    if (ec || !parsed.is_object()) {
        return refuse("invalid_message", "a message is a JSON object with a type", {}, nullptr);
    }
    const json::object& request = parsed.get_object();
    const json::value* id = request.if_contains("id");
    const json::value* type = request.if_contains("type");
    bool subscribing = type != nullptr && type->is_string() && type->get_string() == "subscribe";
    bool leaving = type != nullptr && type->is_string() && type->get_string() == "unsubscribe";
    if (!subscribing && !leaving) {
        return refuse("invalid_message", "type must be subscribe or unsubscribe", {}, id);
    }
    const json::value* name = request.if_contains("channel");
    std::string_view given;
    if (name != nullptr && name->is_string()) {
        given = name->get_string();
    }
    auto channel = parseChannel(given);
    if (!channel) {
        return refuse("invalid_channel",
                      "channel must be devices, device:<id>, telemetry:<device>[:<metric>], "
                      "events or alerts",
                      given, id);
    }
    if (subscribing) {
        subscribe(*channel, id);
    } else {
        unsubscribe(*channel, id);
    }
}

void LiveSession::subscribe(const Channel& channel, const json::value* id) {
    auto filter = authorize(channel, *principal());
    if (!filter) {
        if (filter.error().status >= 500) {
            log::warn("live: subscription check failed",
                      {{"request_id", request_id_}, {"error", filter.error().message}});
        }
        return refuse(filter.error().code, filter.error().message, channel.name, id);
    }
    if (!subscriptions_.contains(channel.name)) {
        if (subscriptions_.size() >= kMaxSubscriptions) {
            return refuse(
                "too_many_subscriptions",
                "at most " + std::to_string(kMaxSubscriptions) + " subscriptions per connection",
                channel.name, id);
        }
        subscriptions_.emplace(channel.name, Entry{*filter, listen(channel.name, *filter)});
        subscriptionGauge().add(1);
    }
    reply(json::object{{"type", "subscribed"}, {"channel", channel.name}}, id);
}

void LiveSession::unsubscribe(const Channel& channel, const json::value* id) {
    if (subscriptions_.erase(channel.name) > 0) {
        subscriptionGauge().add(-1);
    }
    reply(json::object{{"type", "unsubscribed"}, {"channel", channel.name}}, id);
}

Result<LiveSession::Filter> LiveSession::authorize(const Channel& channel,
                                                   const api::Principal& principal) {
    auth::Action action = actionOf(channel.kind);
    if (!channel.aboutOneDevice()) {
        if (!allowedAnywhere(principal, action)) {
            return api::permissionDenied();
        }
        return Filter{action, std::nullopt};
    }
    auto target = deviceTarget(sql_, channel.device_id);
    if (!target) {
        return target.takeError();
    }
    if (auto allowed = api::require(principal, action, *target, "device"); !allowed) {
        return allowed.takeError();
    }
    return Filter{action, *target};
}

// The receiver runs on publishers' threads; it reads only the filter it owns and the
// principal under its lock.
Subscription LiveSession::listen(const std::string& channel, const Filter& filter) {
    return bus_.subscribe(channel,
                          [this, filter](const Message& message) { deliver(filter, message); });
}

void LiveSession::deliver(const Filter& filter, const Message& message) {
    const api::Target target = filter.target
                                   ? *filter.target
                                   : api::Target{message.scope.organization_id,
                                                 message.scope.site_id, message.scope.device_id};
    if (api::mayPerform(*principal(), filter.action, target)) {
        socket_->send(message.text);
    }
}

std::optional<http::CloseReason> LiveSession::onPing() {
    auto refreshed = principalOf(sql_, credential_, nowMicros());
    if (!refreshed) {
        // The store is unreachable: keep serving on what was last known rather than drop
        // every connection at once.
        log::warn("live: cannot re-check a login",
                  {{"request_id", request_id_}, {"error", refreshed.error().message}});
        return std::nullopt;
    }
    if (!*refreshed) {
        return http::CloseReason{http::close_code::unauthorized, "login expired"};
    }
    auto principal = std::make_shared<const api::Principal>(std::move(**refreshed));
    {
        std::lock_guard lock(principal_mutex_);
        principal_ = principal;
    }
    recheck(*principal);
    return std::nullopt;
}

// A subscription whose device moved or that the principal may no longer see: the first is
// renewed with the device's new place, the second ends with an error message.
void LiveSession::recheck(const api::Principal& principal) {
    for (auto it = subscriptions_.begin(); it != subscriptions_.end();) {
        auto channel = parseChannel(it->first);
        auto filter = authorize(*channel, principal);
        if (!filter && filter.error().status >= 500) {
            ++it;
            continue;
        }
        if (!filter) {
            std::string name = it->first;
            it = subscriptions_.erase(it);
            subscriptionGauge().add(-1);
            refuse(filter.error().code, "subscription ended: " + filter.error().message, name,
                   nullptr);
            continue;
        }
        if (!(*filter == it->second.filter)) {
            it->second.subscription.reset();
            it->second = Entry{*filter, listen(it->first, *filter)};
        }
        ++it;
    }
}

void LiveSession::onClose() {
    dropAll();
}

void LiveSession::dropAll() {
    subscriptionGauge().add(-static_cast<std::int64_t>(subscriptions_.size()));
    subscriptions_.clear();
}

void LiveSession::reply(json::object message, const json::value* id) {
    if (id != nullptr) {
        message["id"] = *id;
    }
    socket_->send(std::make_shared<const std::string>(json::serialize(message)));
}

void LiveSession::refuse(std::string_view code, std::string text, std::string_view channel,
                         const json::value* id) {
    json::object message{{"type", "error"}, {"code", code}, {"message", std::move(text)}};
    message["channel"] = channel.empty() ? json::value(nullptr) : json::value(channel);
    reply(std::move(message), id);
}

std::shared_ptr<const api::Principal> LiveSession::principal() const {
    std::lock_guard lock(principal_mutex_);
    return principal_;
}

}  // namespace esocore::live
