#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace esocore::sim {

/// What a device needs to authenticate against the device API.
struct DeviceCredentials {
    std::string id;  // UUID
    std::string serial;
    std::string key;
    std::string model = "esocore-edge";
};

/// Reads a fleet file `{"devices": [...]}`. A missing file is an empty fleet; a malformed one
/// throws std::runtime_error.
std::vector<DeviceCredentials> loadFleet(const std::filesystem::path& file);

/// Writes a fleet file, creating its directory. The old file is replaced in one rename so an
/// interrupted run never leaves half a fleet file behind.
void saveFleet(const std::filesystem::path& file, const std::vector<DeviceCredentials>& devices);

/// Parses a JSON array of devices, as `esocore device create --json` prints it. Throws
/// std::runtime_error when an entry lacks id, serial or key.
std::vector<DeviceCredentials> parseDeviceArray(std::string_view json);

/// Registers `count` new devices by running `<esocore> device create --count <count>
/// --serial-prefix SIM- --json` with this process's environment. Throws std::runtime_error
/// when the command cannot run, fails, or prints something else than a device array.
std::vector<DeviceCredentials> provisionDevices(const std::filesystem::path& esocore,
                                                std::size_t count);

/// The server binary `esocore` next to the running executable.
std::filesystem::path defaultEsocorePath();

/// The first `wanted` devices of the fleet file (all of them when not given, 10 for an empty
/// file), provisioning and appending the missing ones first.
std::vector<DeviceCredentials> prepareFleet(const std::filesystem::path& file,
                                            std::optional<std::size_t> wanted,
                                            const std::filesystem::path& esocore);

}  // namespace esocore::sim
