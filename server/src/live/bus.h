#pragma once

// The publish/subscribe bus of live updates. The ingest path, the device API and the
// management API publish JSON messages to named channels; each WebSocket subscription
// receives the messages of its channel. InProcessBus fans out within one process; a bus shared
// by several instances (Redis PUBLISH/SUBSCRIBE) fills the same interface: it forwards each
// publish to Redis and delivers what Redis hands back through a local InProcessBus.

#include <cstdint>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace esocore::live {

/// Where a published object lives: its organization and, when it has them, its site and
/// device. Subscribers filter on it without parsing the message.
struct Scope {
    std::string organization_id;
    std::string site_id;
    std::string device_id;
};

/// One published message as a subscriber receives it. The text is shared by every
/// subscriber, never copied per subscriber.
struct Message {
    std::string_view channel;
    const Scope& scope;
    std::shared_ptr<const std::string> text;
};

/// Receives the messages of one subscription. Runs on the publisher's thread, possibly on
/// several threads at once; it must only queue the message, never block or call the bus.
using Receiver = std::function<void(const Message&)>;

class Bus;

/// A subscription; ends when destroyed or reset. Once reset() returns, its receiver is not
/// running and is never called again.
class Subscription {
public:
    Subscription() = default;
    Subscription(Bus* bus, std::uint64_t id) : bus_(bus), id_(id) {}
    Subscription(Subscription&& other) noexcept;
    Subscription& operator=(Subscription&& other) noexcept;
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;
    ~Subscription() { reset(); }

    void reset();

private:
    Bus* bus_ = nullptr;
    std::uint64_t id_ = 0;
};

class Bus {
public:
    virtual ~Bus() = default;

    /// Delivers `json` to every current subscriber of `channel`, at a cost proportional to
    /// the subscribers of that channel alone.
    virtual void publish(std::string_view channel, const Scope& scope, std::string json) = 0;

    /// Whether `channel` may have subscribers, so that publishers skip building messages
    /// nobody reads. A bus shared across instances answers true when it cannot tell.
    virtual bool hasSubscribers(std::string_view channel) const = 0;

    /// Calls `receive` for each message published to `channel` from now on.
    virtual Subscription subscribe(std::string channel, Receiver receive) = 0;

protected:
    friend class Subscription;
    virtual void unsubscribe(std::uint64_t id) = 0;
};

/// Fan-out within this process: a map from channel to its subscribers, read under a shared
/// lock so that publishers on different threads never wait for each other.
class InProcessBus final : public Bus {
public:
    void publish(std::string_view channel, const Scope& scope, std::string json) override;
    bool hasSubscribers(std::string_view channel) const override;
    Subscription subscribe(std::string channel, Receiver receive) override;

private:
    void unsubscribe(std::uint64_t id) override;

    struct Subscriber {
        std::uint64_t id;
        Receiver receive;
    };
    struct NameHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view name) const {
            return std::hash<std::string_view>{}(name);
        }
    };
    using Channels =
        std::unordered_map<std::string, std::vector<Subscriber>, NameHash, std::equal_to<>>;

    mutable std::shared_mutex mutex_;
    Channels channels_;
    std::unordered_map<std::uint64_t, std::string> channel_of_;
    std::uint64_t next_id_ = 1;
};

}  // namespace esocore::live
