#include "store/postgres/pg_pool.h"

#include <algorithm>
#include <iterator>

namespace esocore::store::postgres {

Pool::Pool(std::string url, std::size_t max_connections, std::chrono::milliseconds wait)
    : url_(std::move(url)), max_connections_(max_connections), wait_(wait) {}

Pool::Lease::~Lease() {
    if (connection_) {
        pool_->release(std::move(connection_));
    }
}

Result<Pool::Lease> Pool::acquire() {
    {
        std::unique_lock lock(mutex_);
        bool available = freed_.wait_for(
            lock, wait_, [this] { return !idle_.empty() || open_ < max_connections_; });
        if (!available) {
            return Error{503, "store_unavailable", "every PostgreSQL connection is busy", {}};
        }
        if (!idle_.empty()) {
            auto connection = std::move(idle_.back());
            idle_.pop_back();
            return Lease(*this, std::move(connection));
        }
        ++open_;
    }
    // Connecting takes a round trip or more; other callers go on meanwhile.
    auto opened = Connection::open(url_);
    if (!opened) {
        std::lock_guard lock(mutex_);
        --open_;
        freed_.notify_one();
        return opened.takeError();
    }
    return Lease(*this, std::move(opened).value());
}

void Pool::release(std::unique_ptr<Connection> connection) {
    bool lost = !connection->usable();
    bool reusable = !lost && !connection->inTransaction();
    std::vector<std::unique_ptr<Connection>> closing;
    {
        std::lock_guard lock(mutex_);
        if (reusable) {
            idle_.push_back(std::move(connection));
        } else {
            closing.push_back(std::move(connection));
        }
        if (lost) {
            // A lost link mostly means the server restarted or failed over: the idle
            // connections are dead too, and each would fail one more request.
            std::move(idle_.begin(), idle_.end(), std::back_inserter(closing));
            idle_.clear();
        }
        open_ -= closing.size();
    }
    freed_.notify_all();
    // Closing talks to the network; nobody waits on the lock for it.
    closing.clear();
}

}  // namespace esocore::store::postgres
