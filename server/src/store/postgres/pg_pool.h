#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/result.h"
#include "store/postgres/pg_connection.h"

namespace esocore::store::postgres {

/// A bounded, thread-safe pool of connections to one database. Connections open on demand up
/// to the bound; a caller waits for a free one at most `wait`, then gets store_unavailable.
class Pool {
public:
    Pool(std::string url, std::size_t max_connections, std::chrono::milliseconds wait);
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    /// A connection lent to one caller, handed back when the lease ends. A connection that
    /// lost its server or was left inside a transaction is closed instead of reused.
    class Lease {
    public:
        Lease(Pool& pool, std::unique_ptr<Connection> connection)
            : pool_(&pool), connection_(std::move(connection)) {}
        Lease(Lease&& other) noexcept = default;
        Lease& operator=(Lease&&) = delete;
        ~Lease();
        Connection* operator->() { return connection_.get(); }
        Connection& operator*() { return *connection_; }

    private:
        Pool* pool_;
        std::unique_ptr<Connection> connection_;
    };

    Result<Lease> acquire();
    std::size_t maxConnections() const { return max_connections_; }

private:
    void release(std::unique_ptr<Connection> connection);

    const std::string url_;
    const std::size_t max_connections_;
    const std::chrono::milliseconds wait_;
    std::mutex mutex_;
    std::condition_variable freed_;
    std::vector<std::unique_ptr<Connection>> idle_;
    std::size_t open_ = 0;  // idle plus lent
};

}  // namespace esocore::store::postgres
