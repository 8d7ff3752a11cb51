#pragma once

#include <boost/json/object.hpp>
#include <string>

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

}  // namespace esocore::api
