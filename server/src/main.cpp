#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"
#include "core/crypto.h"
#include "core/version.h"

int main(int argc, char** argv) {
    using namespace esocore;
    CLI::App cli{"EsoCore Cloud: the server for EsoCore Edge devices and their portal"};
    cli.require_subcommand(1);
    std::string config_file;
    cli.add_option("-c,--config", config_file, "TOML configuration file")
        ->envname("ESOCORE_CONFIG");

    std::string port_file;
    auto* serve = cli.add_subcommand("serve", "Serve the device API, management API and portal");
    serve->add_option("--port-file", port_file, "Write the bound port to this file");

    auto* migrate = cli.add_subcommand("migrate", "Apply pending database migrations");
    auto* check = cli.add_subcommand("check", "Check configuration, store and schema");
    auto* version = cli.add_subcommand("version", "Print the version");

    std::string email, password, name = "Administrator";
    auto* superuser = cli.add_subcommand("createsuperuser", "Create a platform administrator");
    superuser->add_option("--email", email, "Sign-in email")->required();
    superuser->add_option("--password", password, "Password (generated when omitted)")
        ->envname("ESOCORE_SUPERUSER_PASSWORD");
    superuser->add_option("--name", name, "Display name");

    cli::DeviceCreateOptions device;
    auto* device_cmd = cli.add_subcommand("device", "Manage devices");
    device_cmd->require_subcommand(1);
    auto* create = device_cmd->add_subcommand("create", "Register devices; prints each key once");
    create->add_option("--serial", device.serial, "Serial number (one device)");
    create->add_option("--serial-prefix", device.serial_prefix, "Prefix for generated serials");
    create->add_option("--count", device.count, "How many devices")->check(CLI::Range(1, 100000));
    create->add_option("--model", device.model, "Device model");
    create->add_option("--name", device.name, "Display name");
    create->add_option("--asset", device.asset, "Asset id the device watches, e.g. DOOR_7");
    create->add_option("--status", device.status, "Initial status")
        ->check(CLI::IsMember({"unclaimed", "active", "maintenance", "inactive"}));
    create->add_option("--channel", device.channel, "Firmware channel")
        ->check(CLI::IsMember({"stable", "beta", "dev"}));
    create->add_flag("--json", device.json, "Print the devices as a JSON array");

    cli::FirmwareAddOptions firmware;
    auto* firmware_cmd = cli.add_subcommand("firmware", "Manage firmware bundles");
    firmware_cmd->require_subcommand(1);
    auto* add = firmware_cmd->add_subcommand("add", "Register and sign a firmware image");
    add->add_option("file", firmware.file, "Image file")->required()->check(CLI::ExistingFile);
    add->add_option("--version", firmware.version, "Semantic version")->required();
    add->add_option("--channel", firmware.channel, "stable, beta or dev");
    add->add_option("--model", firmware.models, "Supported models (repeatable)")->required();
    add->add_option("--notes", firmware.notes, "Release notes");

    cli::BackupOptions backup_options;
    auto* backup = cli.add_subcommand("backup", "Copy the SQLite store to FILE while serving");
    backup->add_option("file", backup_options.file, "Backup file to write")->required();
    backup->add_flag("--force", backup_options.force, "Overwrite FILE if it exists");
    cli::BackupOptions restore_options;
    auto* restore = cli.add_subcommand("restore", "Replace the SQLite store with a backup FILE");
    restore->add_option("file", restore_options.file, "Backup file to restore")->required();
    restore->add_flag("--force", restore_options.force, "Replace an existing store");

    CLI11_PARSE(cli, argc, argv);
    try {
        initCrypto();
        if (*serve) {
            return cli::serve(config_file, port_file);
        }
        if (*migrate) {
            return cli::migrate(config_file);
        }
        if (*check) {
            return cli::check(config_file);
        }
        if (*version) {
            std::cout << "esocore " << kVersion << "\n";
            return 0;
        }
        if (*superuser) {
            return cli::createSuperuser(config_file, email, password, name);
        }
        if (*create) {
            return cli::createDevices(config_file, device);
        }
        if (*add) {
            return cli::addFirmware(config_file, firmware);
        }
        if (*backup) {
            return cli::backup(config_file, backup_options);
        }
        if (*restore) {
            return cli::restore(config_file, restore_options);
        }
    } catch (const std::exception& e) {
        std::cerr << "esocore: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
