#include "cli/commands.h"

#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "app/app.h"
#include "auth/device_keys.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/version.h"
#include "ota/firmware.h"

namespace esocore::cli {

namespace {

std::unique_ptr<App> openApp(const std::string& config_file) {
    Config config = loadConfig(config_file);
    log::setup(config.log_level);
    return std::make_unique<App>(std::move(config));
}

std::string baseUrl(const Config& config, unsigned short port) {
    if (!config.public_url.empty()) {
        return config.public_url;
    }
    std::string host = config.listen.substr(0, config.listen.rfind(':'));
    if (host.empty() || host == "0.0.0.0" || host == "[::]") {
        host = "127.0.0.1";
    }
    return "http://" + host + ":" + std::to_string(port);
}

void printBanner(const App& app, unsigned short port,
                 const std::optional<FirstRunCredentials>& first) {
    std::string url = baseUrl(app.config(), port);
    std::cout << "\nEsoCore Cloud " << kVersion << " is serving on " << url << "\n"
              << "  store:     " << app.config().database_url << "\n"
              << "  portal:    " << url << "/\n"
              << "  device API: " << url << "/api/iot/v1/\n"
              << "  health:    " << url << "/healthz   metrics: " << url << "/metrics\n";
    if (first) {
        std::cout << "\nFirst run: sign in as " << first->email << " with password "
                  << first->password << "\n  (also saved in " << first->file
                  << "; change it after signing in)\n";
    }
    std::cout << "\nStart a simulated fleet of 50 devices in another terminal:\n"
              << "  make sim        (or: build/esocore-sim --devices 50 --server " << url << ")\n\n"
              << std::flush;
}

}  // namespace

int serve(const std::string& config_file, const std::string& port_file) {
    auto app = openApp(config_file);
    app->migrate();
    auto first = app->ensureFirstUser();
    unsigned short port = app->bind();
    if (!port_file.empty()) {
        std::ofstream(port_file) << port << "\n";
    }
    log::info("listening", {{"port", port}, {"store", app->store().dialect()}});
    printBanner(*app, port, first);
    app->run(true);
    return 0;
}

int migrate(const std::string& config_file) {
    auto app = openApp(config_file);
    app->migrate();
    auto state = app->store().migrationState();
    std::cout << "schema at version " << (state ? state->current : 0) << "\n";
    return 0;
}

int check(const std::string& config_file) {
    auto app = openApp(config_file);
    auto state = app->store().migrationState();
    if (!app->store().ping() || !state) {
        std::cerr << "store unreachable\n";
        return 1;
    }
    if (state->current != state->latest) {
        std::cerr << "schema at " << state->current << ", latest is " << state->latest
                  << ": run esocore migrate\n";
        return 1;
    }
    std::cout << "ok: store reachable, schema current (" << state->current << ")\n";
    return 0;
}

int createSuperuser(const std::string& config_file, const std::string& email,
                    const std::string& password, const std::string& name) {
    auto app = openApp(config_file);
    app->migrate();
    std::string secret = password.empty() ? randomToken(12) : password;
    store::User user{newUuid(), email, name, hashPassword(secret), true, "UTC", nowMicros()};
    auto created = app->store().createUser(user);
    if (!created) {
        std::cerr << "error: " << created.error().message << "\n";
        return 1;
    }
    auto org = app->store().ensureDefaultOrganization();
    if (!org || !app->store().addMembership(user.id, org->id, "owner")) {
        std::cerr << "error: cannot add the user to the default organization\n";
        return 1;
    }
    std::cout << "superuser " << email << " created";
    if (password.empty()) {
        std::cout << " with password " << secret;
    }
    std::cout << "\n";
    return 0;
}

int createDevices(const std::string& config_file, const DeviceCreateOptions& options) {
    auto app = openApp(config_file);
    app->migrate();
    auto org = app->store().ensureDefaultOrganization();
    if (!org) {
        std::cerr << "error: " << org.error().message << "\n";
        return 1;
    }
    boost::json::array created;
    for (int i = 0; i < options.count; ++i) {
        store::Device device;
        device.id = newUuid();
        device.serial = !options.serial.empty() && options.count == 1
                            ? options.serial
                            : options.serial_prefix + sha256Hex(device.id).substr(0, 8);
        device.name = options.name.empty() ? device.serial : options.name;
        device.model = options.model;
        device.status = options.status;
        device.firmware_channel = options.channel;
        device.asset_id = options.asset;
        device.organization_id = options.status == "unclaimed" ? "" : org->id;
        device.created_at = device.updated_at = nowMicros();
        if (device.status != "unclaimed") {
            device.claimed_at = device.created_at;
        }
        auto key = auth::issueDeviceKey(device.id);
        if (auto ok = app->store().createDevice(device, key.stored); !ok) {
            std::cerr << "error: " << ok.error().message << "\n";
            return 1;
        }
        created.push_back(boost::json::object{{"id", device.id},
                                              {"serial", device.serial},
                                              {"key", key.secret},
                                              {"model", device.model}});
        if (!options.json) {
            std::cout << "device " << device.id << "  serial " << device.serial << "\n"
                      << "  key: " << key.secret << "\n";
        }
    }
    if (options.json) {
        std::cout << boost::json::serialize(created) << "\n";
    } else {
        std::cout << "Keys are shown once; store them on the devices.\n";
    }
    return 0;
}

int addFirmware(const std::string& config_file, const FirmwareAddOptions& options) {
    auto app = openApp(config_file);
    app->migrate();
    ota::NewBundle request{options.file, options.version, options.channel, options.models,
                           options.notes};
    auto bundle = app->firmware().addBundle(request);
    if (!bundle) {
        std::cerr << "error: " << bundle.error().message << "\n";
        return 1;
    }
    std::cout << "firmware " << bundle->version << " (" << bundle->channel << ") added as "
              << bundle->id << "\n  size " << bundle->size << " bytes, sha256 " << bundle->sha256
              << "\n  signature " << bundle->signature << "\n";
    return 0;
}

}  // namespace esocore::cli
