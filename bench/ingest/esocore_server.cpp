#include "esocore_server.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <signal.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>

namespace esocore::bench {

namespace {

using namespace std::chrono_literals;

constexpr auto kMigrateTimeout = 120s;
constexpr auto kProvisionTimeout = 300s;
constexpr auto kListenTimeout = 30s;
constexpr auto kStopTimeout = 20s;
constexpr auto kPortPollInterval = 50ms;

std::vector<std::string> esocoreCommand(const ServerSetup& setup,
                                        std::initializer_list<std::string> args) {
    std::vector<std::string> argv{setup.esocore.string()};
    argv.insert(argv.end(), args);
    return argv;
}

void requireSuccess(const std::vector<std::string>& argv, const CommandOutput& output) {
    if (!exitedCleanly(output.status)) {
        throw std::runtime_error(fmt::format("`esocore {}` failed ({})",
                                             fmt::join(std::next(argv.begin()), argv.end(), " "),
                                             describeWaitStatus(output.status)));
    }
}

std::optional<std::uint16_t> parsePort(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
        text.remove_suffix(1);
    }
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value == 0 || value > 65535) {
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(value);
}

std::optional<std::uint16_t> readPortFile(const std::filesystem::path& path) {
    std::ifstream in{path};
    if (!in) {
        return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    return parsePort(text.str());
}

// The server may still be writing the file, so a port counts only once two reads agree.
std::uint16_t waitForPort(ChildProcess& server, const std::filesystem::path& port_file) {
    const auto deadline = std::chrono::steady_clock::now() + kListenTimeout;
    std::optional<std::uint16_t> previous;
    while (std::chrono::steady_clock::now() < deadline) {
        if (const auto status = server.poll()) {
            throw std::runtime_error(fmt::format("esocore serve exited before listening ({})",
                                                 describeWaitStatus(*status)));
        }
        const auto port = readPortFile(port_file);
        if (port && port == previous) {
            return *port;
        }
        previous = port;
        std::this_thread::sleep_for(kPortPollInterval);
    }
    throw std::runtime_error(fmt::format("esocore serve wrote no port to {} within {} s",
                                         port_file.string(), kListenTimeout.count()));
}

// A size field of /proc/<pid>/status, e.g. "VmHWM:", in KiB.
std::optional<std::uint64_t> statusKib(pid_t pid, std::string_view field) {
    std::ifstream status{fmt::format("/proc/{}/status", pid)};
    std::string line;
    while (std::getline(status, line)) {
        if (line.starts_with(field)) {
            std::uint64_t kib = 0;
            std::istringstream{line.substr(field.size())} >> kib;
            return kib;
        }
    }
    return std::nullopt;
}

DeviceCredential parseCredential(const boost::json::value& entry) {
    const auto* device = entry.if_object();
    const auto* serial = device ? device->if_contains("serial") : nullptr;
    const auto* key = device ? device->if_contains("key") : nullptr;
    const auto* id = device ? device->if_contains("id") : nullptr;
    if (!serial || !serial->is_string() || !key || !key->is_string() || !id || !id->is_string()) {
        throw std::runtime_error("device create: an entry lacks a string id, serial or key");
    }
    return DeviceCredential{.serial = std::string(serial->get_string()),
                            .key = std::string(key->get_string()),
                            .id = std::string(id->get_string())};
}

}  // namespace

std::vector<std::string> esocoreEnvironment(const ServerSetup& setup) {
    std::vector<std::string> env;
    for (char** entry = environ; *entry != nullptr; ++entry) {
        // Inherited settings (a Redis URL, a config file) would change what is measured.
        if (!std::string_view{*entry}.starts_with("ESOCORE_")) {
            env.emplace_back(*entry);
        }
    }
    const std::string database_url = setup.database_url.empty()
                                         ? "sqlite:" + (setup.work_dir / "bench.db").string()
                                         : setup.database_url;
    env.push_back("ESOCORE_DATABASE_URL=" + database_url);
    env.push_back("ESOCORE_LISTEN=127.0.0.1:0");
    env.push_back("ESOCORE_DATA_DIR=" + setup.work_dir.string());
    env.push_back("ESOCORE_LOG_LEVEL=warn");
    return env;
}

EsocoreServer EsocoreServer::start(const ServerSetup& setup) {
    const auto env = esocoreEnvironment(setup);
    const auto migrate = esocoreCommand(setup, {"migrate"});
    requireSuccess(migrate, runCommand(migrate, env, kMigrateTimeout));

    const auto port_file = setup.work_dir / "port";
    // The server's stdout joins its stderr so the benchmark's stdout carries only figures.
    ChildProcess process = ChildProcess::spawn(
        esocoreCommand(setup, {"serve", "--port-file", port_file.string()}), env, STDERR_FILENO);
    const std::uint16_t port = waitForPort(process, port_file);
    return EsocoreServer{std::move(process), port};
}

std::optional<std::uint64_t> EsocoreServer::peakResidentKib() const {
    return statusKib(process_.pid(), "VmHWM:");
}

std::optional<std::uint64_t> EsocoreServer::residentKib() const {
    return statusKib(process_.pid(), "VmRSS:");
}

ServerStop EsocoreServer::stop() {
    process_.signal(SIGTERM);
    if (const auto status = process_.waitFor(kStopTimeout)) {
        return ServerStop{.clean = exitedCleanly(*status),
                          .description = describeWaitStatus(*status)};
    }
    process_.signal(SIGKILL);
    process_.waitFor(kStopTimeout);
    return ServerStop{
        .clean = false,
        .description = fmt::format("still running {} s after SIGTERM", kStopTimeout.count())};
}

std::vector<DeviceCredential> provisionDevices(const ServerSetup& setup, std::uint32_t count) {
    const auto argv = esocoreCommand(setup, {"device", "create", "--count", std::to_string(count),
                                             "--serial-prefix", "BENCH-", "--json"});
    const CommandOutput output = runCommand(argv, esocoreEnvironment(setup), kProvisionTimeout);
    requireSuccess(argv, output);

    boost::system::error_code ec;
    const boost::json::value listing = boost::json::parse(output.stdout_text, ec);
    const auto* devices = ec ? nullptr : listing.if_array();
    if (!devices || devices->size() != count) {
        throw std::runtime_error(
            fmt::format("device create: expected a JSON array of {} devices", count));
    }
    std::vector<DeviceCredential> credentials;
    for (const auto& entry : *devices) {
        credentials.push_back(parseCredential(entry));
    }
    return credentials;
}

}  // namespace esocore::bench
