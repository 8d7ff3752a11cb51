#include "fleet.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace esocore::sim {
namespace {

constexpr std::size_t kDefaultFleetSize = 10;

std::string requiredString(const boost::json::object& entry, std::string_view name) {
    const auto* field = entry.if_contains(name);
    if (field == nullptr || !field->is_string() || field->as_string().empty()) {
        throw std::runtime_error(fmt::format("device entry without a \"{}\" string", name));
    }
    return std::string(field->as_string());
}

DeviceCredentials credentialsFrom(const boost::json::value& entry) {
    if (!entry.is_object()) {
        throw std::runtime_error("device entry is not an object");
    }
    const auto& object = entry.as_object();
    DeviceCredentials device;
    device.id = requiredString(object, "id");
    device.serial = requiredString(object, "serial");
    device.key = requiredString(object, "key");
    if (const auto* model = object.if_contains("model"); model && model->is_string()) {
        device.model = std::string(model->as_string());
    }
    return device;
}

std::vector<DeviceCredentials> credentialsFrom(const boost::json::array& entries) {
    std::vector<DeviceCredentials> devices;
    devices.reserve(entries.size());
    for (const auto& entry : entries) {
        devices.push_back(credentialsFrom(entry));
    }
    return devices;
}

boost::json::value parseJson(std::string_view text, std::string_view what) {
    boost::system::error_code error;
    boost::json::value value = boost::json::parse(text, error);
    if (error) {
        throw std::runtime_error(fmt::format("{} is not JSON: {}", what, error.message()));
    }
    return value;
}

// The device array in what `device create --json` printed. The array is the contract, but a
// log line printed before it must not make provisioning fail.
std::string_view deviceArrayText(std::string_view printed) {
    for (std::size_t line = 0; line < printed.size();) {
        const std::size_t start = printed.find_first_not_of(" \t", line);
        if (start != std::string_view::npos && printed[start] == '[') {
            return printed.substr(start);
        }
        const std::size_t end = printed.find('\n', line);
        line = end == std::string_view::npos ? printed.size() : end + 1;
    }
    return printed;
}

struct CommandOutput {
    int exit_status = -1;
    std::string stdout_text;
};

// Runs `program` with this process's environment, stdin and stderr, capturing its stdout.
// posix_spawn reports a program that cannot start as an error instead of a forked child.
CommandOutput runCommand(const std::filesystem::path& program,
                         const std::vector<std::string>& arguments) {
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
        throw std::runtime_error(fmt::format("pipe: {}", std::strerror(errno)));
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
    std::vector<char*> argv{const_cast<char*>(program.c_str())};
    for (const auto& argument : arguments) {
        argv.push_back(const_cast<char*>(argument.c_str()));
    }
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int spawn_error =
        posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(pipe_fds[1]);
    CommandOutput output;
    if (spawn_error != 0) {
        close(pipe_fds[0]);
        throw std::runtime_error(
            fmt::format("cannot run {}: {}; build the server or pass --esocore", program.string(),
                        std::strerror(spawn_error)));
    }
    char chunk[4096];
    for (ssize_t got = 0; (got = read(pipe_fds[0], chunk, sizeof(chunk))) != 0;) {
        if (got > 0) {
            output.stdout_text.append(chunk, static_cast<std::size_t>(got));
        } else if (errno != EINTR) {
            break;
        }
    }
    close(pipe_fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    output.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return output;
}

}  // namespace

std::vector<DeviceCredentials> parseDeviceArray(std::string_view json) {
    const boost::json::value value = parseJson(json, "device list");
    if (!value.is_array()) {
        throw std::runtime_error("device list is not a JSON array");
    }
    return credentialsFrom(value.as_array());
}

std::vector<DeviceCredentials> loadFleet(const std::filesystem::path& file) {
    std::ifstream input(file, std::ios::binary);
    if (!input) {
        return {};
    }
    std::stringstream text;
    text << input.rdbuf();
    const boost::json::value value =
        parseJson(text.str(), fmt::format("fleet file {}", file.string()));
    const auto* devices = value.is_object() ? value.as_object().if_contains("devices") : nullptr;
    if (devices == nullptr || !devices->is_array()) {
        throw std::runtime_error(
            fmt::format("fleet file {} has no \"devices\" array", file.string()));
    }
    return credentialsFrom(devices->as_array());
}

void saveFleet(const std::filesystem::path& file, const std::vector<DeviceCredentials>& devices) {
    boost::json::array entries;
    for (const auto& device : devices) {
        entries.push_back(boost::json::object{{"id", device.id},
                                              {"serial", device.serial},
                                              {"key", device.key},
                                              {"model", device.model}});
    }
    if (file.has_parent_path()) {
        std::filesystem::create_directories(file.parent_path());
    }
    std::filesystem::path staging = file;
    staging += ".tmp";
    {
        std::ofstream output(staging, std::ios::binary | std::ios::trunc);
        output << boost::json::serialize(boost::json::object{{"devices", std::move(entries)}})
               << '\n';
        if (!output) {
            throw std::runtime_error(fmt::format("cannot write fleet file {}", staging.string()));
        }
    }
    std::filesystem::rename(staging, file);
}

std::vector<DeviceCredentials> provisionDevices(const std::filesystem::path& esocore,
                                                std::size_t count) {
    const std::vector<std::string> arguments{
        "device", "create", "--count", std::to_string(count), "--serial-prefix", "SIM-", "--json"};
    const CommandOutput output = runCommand(esocore, arguments);
    if (output.exit_status != 0) {
        throw std::runtime_error(fmt::format("{} device create exited with status {}",
                                             esocore.string(), output.exit_status));
    }
    return parseDeviceArray(deviceArrayText(output.stdout_text));
}

std::filesystem::path defaultEsocorePath() {
    std::error_code error;
    const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
    return error ? std::filesystem::path("esocore") : self.parent_path() / "esocore";
}

std::vector<DeviceCredentials> prepareFleet(const std::filesystem::path& file,
                                            std::optional<std::size_t> wanted,
                                            const std::filesystem::path& esocore) {
    std::vector<DeviceCredentials> devices = loadFleet(file);
    const std::size_t count = wanted.value_or(devices.empty() ? kDefaultFleetSize : devices.size());
    if (devices.size() < count) {
        const std::size_t missing = count - devices.size();
        spdlog::info("fleet file {} holds {} devices; provisioning {} more with {}", file.string(),
                     devices.size(), missing, esocore.string());
        std::vector<DeviceCredentials> created = provisionDevices(esocore, missing);
        if (created.size() < missing) {
            throw std::runtime_error(fmt::format("device create returned {} devices, asked for {}",
                                                 created.size(), missing));
        }
        devices.insert(devices.end(), created.begin(), created.end());
        saveFleet(file, devices);
    }
    devices.resize(count);
    return devices;
}

}  // namespace esocore::sim
