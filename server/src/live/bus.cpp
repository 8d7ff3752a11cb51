#include "live/bus.h"

#include <algorithm>
#include <mutex>

#include "core/metrics.h"

namespace esocore::live {

namespace {

metrics::Counter& publishedMessages() {
    static metrics::Counter& counter =
        metrics::Registry::instance().counter("esocore_live_published_total",
                                              "Messages published to live-update channels that had "
                                              "subscribers");
    return counter;
}

}  // namespace

Subscription::Subscription(Subscription&& other) noexcept : bus_(other.bus_), id_(other.id_) {
    other.bus_ = nullptr;
}

Subscription& Subscription::operator=(Subscription&& other) noexcept {
    if (this != &other) {
        reset();
        bus_ = other.bus_;
        id_ = other.id_;
        other.bus_ = nullptr;
    }
    return *this;
}

void Subscription::reset() {
    if (bus_ != nullptr) {
        bus_->unsubscribe(id_);
        bus_ = nullptr;
    }
}

void InProcessBus::publish(std::string_view channel, const Scope& scope, std::string json) {
    std::shared_lock lock(mutex_);
    auto found = channels_.find(channel);
    if (found == channels_.end()) {
        return;
    }
    publishedMessages().add();
    Message message{found->first, scope, std::make_shared<const std::string>(std::move(json))};
    for (const auto& subscriber : found->second) {
        subscriber.receive(message);
    }
}

bool InProcessBus::hasSubscribers(std::string_view channel) const {
    std::shared_lock lock(mutex_);
    return channels_.find(channel) != channels_.end();
}

Subscription InProcessBus::subscribe(std::string channel, Receiver receive) {
    std::unique_lock lock(mutex_);
    std::uint64_t id = next_id_++;
    channel_of_.emplace(id, channel);
    channels_[std::move(channel)].push_back(Subscriber{id, std::move(receive)});
    return Subscription(this, id);
}

// Under the exclusive lock, which waits for publishes in progress: once this returns, the
// receiver is neither running nor called again.
void InProcessBus::unsubscribe(std::uint64_t id) {
    std::unique_lock lock(mutex_);
    auto named = channel_of_.find(id);
    if (named == channel_of_.end()) {
        return;
    }
    auto channel = channels_.find(named->second);
    channel_of_.erase(named);
    if (channel == channels_.end()) {
        return;
    }
    auto& subscribers = channel->second;
    std::erase_if(subscribers, [id](const Subscriber& s) { return s.id == id; });
    if (subscribers.empty()) {
        channels_.erase(channel);
    }
}

}  // namespace esocore::live
