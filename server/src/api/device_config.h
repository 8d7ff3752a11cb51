#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <string_view>

#include "core/config.h"
#include "core/result.h"
#include "store/store.h"

namespace esocore::api {

/// A device's effective configuration and its version tag.
struct DeviceConfig {
    boost::json::object settings;
    std::string version;  // also the ETag, without quotes
};

/// Built-in defaults, then the model's profile for the organization, then the device's own
/// overrides; objects merge key by key.
Result<DeviceConfig> deviceConfig(const Config& config, store::Store& store,
                                  const store::Device& device);

/// Merges `over` into `base`, recursing into objects.
void mergeInto(boost::json::object& base, const boost::json::object& over);

/// Checks settings that a profile or a device's overrides bring to the merge: any subset of
/// the built-in keys, each of the type and range the device expects. Ok, or 400
/// validation_failed naming every problem as `<field>.<key>` (e.g.
/// `overrides.sampling_ms.rh`).
Result<void> checkSettings(const boost::json::object& settings, const Config& config,
                           const std::string& field);

/// Whether `model` can name a device model (the key of a config profile): 1 to 64 ASCII
/// letters, digits, `.`, `_` or `-`.
bool isModelName(std::string_view model);

}  // namespace esocore::api
