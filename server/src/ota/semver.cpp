#include "ota/semver.h"

#include <charconv>

namespace esocore::ota {

namespace {

bool isNumeric(std::string_view s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

std::optional<unsigned long long> readNumber(std::string_view s) {
    if (!isNumeric(s) || (s.size() > 1 && s.front() == '0')) {
        return std::nullopt;
    }
    unsigned long long value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || end != s.data() + s.size()) {
        return std::nullopt;
    }
    return value;
}

std::vector<std::string_view> split(std::string_view s, char separator) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    for (;;) {
        std::size_t at = s.find(separator, start);
        parts.push_back(s.substr(start, at == std::string_view::npos ? at : at - start));
        if (at == std::string_view::npos) {
            return parts;
        }
        start = at + 1;
    }
}

bool validIdentifier(std::string_view s) {
    return !s.empty() && s.find_first_not_of(
                             "0123456789abcdefghijklmnopqrstuvwxyz"
                             "ABCDEFGHIJKLMNOPQRSTUVWXYZ-") == std::string_view::npos;
}

int compareIdentifiers(const std::string& a, const std::string& b) {
    bool a_num = isNumeric(a);
    bool b_num = isNumeric(b);
    if (a_num && b_num) {
        if (a.size() != b.size()) {
            return a.size() < b.size() ? -1 : 1;
        }
        return a.compare(b);
    }
    if (a_num != b_num) {
        return a_num ? -1 : 1;  // numeric identifiers order below alphanumeric ones
    }
    return a.compare(b);
}

}  // namespace

std::optional<Version> parseVersion(std::string_view text) {
    if (!text.empty() && (text.front() == 'v' || text.front() == 'V')) {
        text.remove_prefix(1);
    }
    Version v;
    if (auto plus = text.find('+'); plus != std::string_view::npos) {
        v.build = std::string(text.substr(plus + 1));
        for (auto part : split(v.build, '.')) {
            if (!validIdentifier(part)) {
                return std::nullopt;
            }
        }
        text = text.substr(0, plus);
    }
    if (auto dash = text.find('-'); dash != std::string_view::npos) {
        for (auto part : split(text.substr(dash + 1), '.')) {
            if (!validIdentifier(part) || (isNumeric(part) && part.size() > 1 && part[0] == '0')) {
                return std::nullopt;
            }
            v.prerelease.emplace_back(part);
        }
        text = text.substr(0, dash);
    }
    auto core = split(text, '.');
    if (core.size() != 3) {
        return std::nullopt;
    }
    auto major = readNumber(core[0]);
    auto minor = readNumber(core[1]);
    auto patch = readNumber(core[2]);
    if (!major || !minor || !patch) {
        return std::nullopt;
    }
    v.major = *major;
    v.minor = *minor;
    v.patch = *patch;
    return v;
}

int compareVersions(const Version& a, const Version& b) {
    for (auto [x, y] : {std::pair{a.major, b.major}, {a.minor, b.minor}, {a.patch, b.patch}}) {
        if (x != y) {
            return x < y ? -1 : 1;
        }
    }
    if (a.prerelease.empty() || b.prerelease.empty()) {
        // A release orders above its pre-releases.
        return a.prerelease.empty() == b.prerelease.empty() ? 0 : (a.prerelease.empty() ? 1 : -1);
    }
    for (std::size_t i = 0; i < a.prerelease.size() && i < b.prerelease.size(); ++i) {
        if (int c = compareIdentifiers(a.prerelease[i], b.prerelease[i]); c != 0) {
            return c;
        }
    }
    if (a.prerelease.size() == b.prerelease.size()) {
        return 0;
    }
    return a.prerelease.size() < b.prerelease.size() ? -1 : 1;
}

}  // namespace esocore::ota
