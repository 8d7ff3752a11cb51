#pragma once

// One live-update connection: the subscribe/unsubscribe protocol of DESIGN §6, the permission
// check of each subscription and of each message, and the periodic re-check of the login.
//
// Client -> server: {"type": "subscribe" | "unsubscribe", "channel": "...", "id": optional}
// Server -> client: {"type": "subscribed" | "unsubscribed", "channel", "id"},
//                   {"type": "error", "code", "message", "channel", "id"},
//                   and the published messages {"type", "channel", "data"} (live/publish.h).

#include <boost/json/fwd.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "api/principal.h"
#include "auth/permissions.h"
#include "http/websocket.h"
#include "live/bus.h"
#include "live/channels.h"
#include "live/credential.h"
#include "store/sql.h"

namespace esocore::live {

/// Subscriptions one connection may hold at once.
inline constexpr std::size_t kMaxSubscriptions = 100;

class LiveSession final : public http::WebSocketSession {
public:
    LiveSession(store::SqlSession& sql, Bus& bus, api::Principal principal,
                LiveCredential credential, std::string request_id);
    ~LiveSession() override;

    void onOpen(std::shared_ptr<http::WebSocket> socket) override;
    void onText(std::string_view text) override;
    /// Reads the login again: 4401 when it has ended; subscriptions the principal may no
    /// longer see end with an error message.
    std::optional<http::CloseReason> onPing() override;
    void onClose() override;

private:
    // What each message of a subscription is checked against: the action, and for channels
    // about one device that device's place (org-wide channels use the message's scope).
    struct Filter {
        auth::Action action = auth::Action::device_read;
        std::optional<api::Target> target;
        bool operator==(const Filter& other) const;
    };
    struct Entry {
        Filter filter;
        Subscription subscription;
    };

    void subscribe(const Channel& channel, const boost::json::value* id);
    void unsubscribe(const Channel& channel, const boost::json::value* id);
    void recheck(const api::Principal& principal);
    Result<Filter> authorize(const Channel& channel, const api::Principal& principal);
    Subscription listen(const std::string& channel, const Filter& filter);
    void deliver(const Filter& filter, const Message& message);
    void reply(boost::json::object message, const boost::json::value* id);
    void refuse(std::string_view code, std::string text, std::string_view channel,
                const boost::json::value* id);
    std::shared_ptr<const api::Principal> principal() const;
    void dropAll();

    store::SqlSession& sql_;
    Bus& bus_;
    LiveCredential credential_;
    std::string request_id_;
    mutable std::mutex principal_mutex_;
    std::shared_ptr<const api::Principal> principal_;
    std::shared_ptr<http::WebSocket> socket_;
    std::map<std::string, Entry> subscriptions_;  // by channel name; touched by the server's calls
};

}  // namespace esocore::live
