#include "ota/rollout_rules.h"

#include <algorithm>
#include <cmath>

#include "core/crypto.h"

namespace esocore::ota {

namespace {

bool contains(const std::vector<std::string>& list, std::string_view value) {
    return std::find(list.begin(), list.end(), value) != list.end();
}

std::string lowercase(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

int channelRank(std::string_view channel) {
    if (channel == "stable") {
        return 0;
    }
    if (channel == "beta") {
        return 1;
    }
    return channel == "dev" ? 2 : -1;
}

}  // namespace

std::int64_t bucketOf(std::string_view device_id) {
    Sha256 digest = sha256(lowercase(device_id));
    std::uint64_t prefix = 0;
    for (std::size_t i = 0; i < 8; ++i) {
        prefix = (prefix << 8) | digest[i];
    }
    return static_cast<std::int64_t>(prefix % static_cast<std::uint64_t>(kBuckets));
}

bool channelAdmits(std::string_view device_channel, std::string_view bundle_channel) {
    int device = channelRank(device_channel);
    int bundle = channelRank(bundle_channel);
    return device >= 0 && bundle >= 0 && bundle <= device;
}

std::vector<std::string> channelsFor(std::string_view device_channel) {
    std::vector<std::string> channels;
    for (const char* channel : {"stable", "beta", "dev"}) {
        if (channelAdmits(device_channel, channel)) {
            channels.emplace_back(channel);
        }
    }
    return channels;
}

bool reaches(const RolloutTarget& target, const DeviceFacts& device) {
    if (!contains(target.bundle_models, device.model) ||
        !channelAdmits(device.channel, target.bundle_channel)) {
        return false;
    }
    if (target.kind == "immediate") {
        return true;
    }
    if (target.kind == "staged") {
        return bucketOf(device.id) < target.percentage_bp;
    }
    if (target.kind == "manual") {
        return contains(target.device_ids, lowercase(device.id)) ||
               (!target.tag.empty() && contains(device.tags, target.tag));
    }
    return false;
}

bool transitionAllowed(std::string_view from, std::string_view to) {
    struct Rule {
        std::string_view from;
        std::initializer_list<std::string_view> to;
    };
    static const Rule rules[] = {
        {"offered", {"downloading", "installing", "completed", "failed"}},
        {"downloading", {"downloading", "installing", "completed", "failed"}},
        {"installing", {"installing", "completed", "failed", "rolled_back"}},
        {"completed", {"completed", "rolled_back"}},
        {"failed", {"failed", "downloading"}},
        {"rolled_back", {"rolled_back"}},
    };
    for (const Rule& rule : rules) {
        if (rule.from == from) {
            return std::find(rule.to.begin(), rule.to.end(), to) != rule.to.end();
        }
    }
    return false;
}

bool isFinished(std::string_view state) {
    return state == "completed" || state == "failed" || state == "rolled_back";
}

bool reachesThreshold(const FailureCount& count, std::int64_t threshold_bp, std::int64_t minimum) {
    if (count.failures < minimum || count.finished <= 0) {
        return false;
    }
    return count.failures * kBuckets >= threshold_bp * count.finished;
}

std::string percentText(std::int64_t basis_points) {
    std::string text = std::to_string(basis_points / 100);
    std::int64_t hundredths = basis_points % 100;
    if (hundredths != 0) {
        text.append(".").append(std::to_string(hundredths / 10));
        if (hundredths % 10 != 0) {
            text.append(std::to_string(hundredths % 10));
        }
    }
    return text;
}

std::optional<std::int64_t> basisPoints(double percent) {
    if (!std::isfinite(percent) || percent < 0 || percent > 100) {
        return std::nullopt;
    }
    double scaled = percent * 100.0;
    double rounded = std::round(scaled);
    if (std::abs(scaled - rounded) > 1e-6) {
        return std::nullopt;
    }
    return static_cast<std::int64_t>(rounded);
}

}  // namespace esocore::ota
