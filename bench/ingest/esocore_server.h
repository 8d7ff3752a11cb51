#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "child_process.h"

namespace esocore::bench {

/// Where the esocore binary is and where its fresh database lives.
struct ServerSetup {
    std::filesystem::path esocore;
    std::filesystem::path work_dir;
    std::string database_url;  // a fresh PostgreSQL database; empty: SQLite in work_dir
};

/// A provisioned device, as `esocore device create --json` reports it.
struct DeviceCredential {
    std::string serial;
    std::string key;
    std::string id;  // the device's UUID
};

/// How the server ended after SIGTERM.
struct ServerStop {
    bool clean = false;       // exited 0 within the grace period
    std::string description;  // "exit 0", "signal 6 (Aborted)", "still running after 20 s"
};

/// The server under test, started on a fresh database: SQLite in the work directory, or the
/// PostgreSQL database of the setup.
class EsocoreServer {
public:
    /// Runs `esocore migrate`, then `esocore serve` on 127.0.0.1 with an ephemeral port, and
    /// waits (bounded) until the port file names the port. Throws if any step fails.
    static EsocoreServer start(const ServerSetup& setup);

    std::uint16_t port() const { return port_; }

    /// Peak resident memory (VmHWM) of the server so far, in KiB.
    std::optional<std::uint64_t> peakResidentKib() const;

    /// Resident memory (VmRSS) of the server now, in KiB.
    std::optional<std::uint64_t> residentKib() const;

    /// Sends SIGTERM and waits, bounded, for the server to exit; kills it if it does not.
    ServerStop stop();

private:
    EsocoreServer(ChildProcess process, std::uint16_t port)
        : process_(std::move(process)), port_(port) {}

    ChildProcess process_;
    std::uint16_t port_;
};

/// The environment every esocore command of the run gets: the caller's environment without
/// any ESOCORE_* setting of its own, plus the database, listen address, data directory and
/// log level of this run.
std::vector<std::string> esocoreEnvironment(const ServerSetup& setup);

/// Creates `count` devices with `esocore device create` and returns their credentials.
std::vector<DeviceCredential> provisionDevices(const ServerSetup& setup, std::uint32_t count);

}  // namespace esocore::bench
