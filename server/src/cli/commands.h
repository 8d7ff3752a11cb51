#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "core/config.h"

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

/// `esocore backup FILE` and `esocore restore FILE`.
struct BackupOptions {
    std::string file;
    bool force = false;  // overwrite an existing file (backup) or database (restore)
};

int serve(const std::string& config_file, const std::string& port_file);
int migrate(const std::string& config_file);
int check(const std::string& config_file);
int createSuperuser(const std::string& config_file, const std::string& email,
                    const std::string& password, const std::string& name);
int createDevices(const std::string& config_file, const DeviceCreateOptions& options);
int addFirmware(const std::string& config_file, const FirmwareAddOptions& options);

/// Copies the SQLite store to `options.file` while the server may be serving (SQLite's
/// online backup from one read snapshot), then checks the copy: integrity and the row count
/// of every table. 0 on success, 1 on failure, 2 for a PostgreSQL store (pg_dump's job).
int backup(const std::string& config_file, const BackupOptions& options);
int backupDatabase(const Config& config, const BackupOptions& options, std::ostream& out,
                   std::ostream& err);

/// Replaces the SQLite store with the backup `options.file` after checking that it is an
/// intact database of this server's schema. An existing store is replaced only with
/// `force`, and never while another process (a running server) has it open. The copy is
/// written beside the store and renamed over it, then checked again. Exit codes as backup.
int restore(const std::string& config_file, const BackupOptions& options);
int restoreDatabase(const Config& config, const BackupOptions& options, std::ostream& out,
                    std::ostream& err);

}  // namespace esocore::cli
