#pragma once

#include <string>
#include <vector>

namespace esocore::cli {

struct DeviceCreateOptions {
    std::string serial;
    std::string serial_prefix = "EDGE-";
    std::string model = "esocore-edge";
    std::string name;
    std::string status = "active";
    std::string channel = "stable";
    std::string asset;
    int count = 1;
    bool json = false;
};

struct FirmwareAddOptions {
    std::string file;
    std::string version;
    std::string channel = "stable";
    std::vector<std::string> models{"esocore-edge"};
    std::string notes;
};

int serve(const std::string& config_file, const std::string& port_file);
int migrate(const std::string& config_file);
int check(const std::string& config_file);
int createSuperuser(const std::string& config_file, const std::string& email,
                    const std::string& password, const std::string& name);
int createDevices(const std::string& config_file, const DeviceCreateOptions& options);
int addFirmware(const std::string& config_file, const FirmwareAddOptions& options);

}  // namespace esocore::cli
