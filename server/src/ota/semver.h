#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace esocore::ota {

/// A semantic version (semver.org 2.0.0). Build metadata is kept but never ordered.
struct Version {
    unsigned long long major = 0;
    unsigned long long minor = 0;
    unsigned long long patch = 0;
    std::vector<std::string> prerelease;
    std::string build;
};

/// Parses `1.10.0`, `2.0.0-rc.1`, `1.0.0+build.5`; a leading `v` is allowed.
std::optional<Version> parseVersion(std::string_view text);

/// Semantic version precedence: negative, zero or positive like strcmp.
int compareVersions(const Version& a, const Version& b);

}  // namespace esocore::ota
