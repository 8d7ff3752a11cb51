#include "core/metrics.h"

#include <fmt/format.h>

#include <stdexcept>

namespace esocore::metrics {

namespace {

std::string escapeLabel(const std::string& value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        if (c == '\\' || c == '"') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

std::string withLabels(const std::string& name, const std::string& labels) {
    return labels.empty() ? name : name + "{" + labels + "}";
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size())) {
    for (std::size_t i = 0; i < bounds_.size(); ++i) {
        buckets_[i].store(0);
    }
}

void Histogram::observe(double seconds) {
    for (std::size_t i = 0; i < bounds_.size(); ++i) {
        if (seconds <= bounds_[i]) {
            buckets_[i].fetch_add(1, std::memory_order_relaxed);
            break;
        }
    }
    count_.fetch_add(1, std::memory_order_relaxed);
    sum_micros_.fetch_add(static_cast<std::uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

std::string Histogram::render(const std::string& name, const std::string& labels) const {
    std::string out;
    std::string prefix = labels.empty() ? "" : labels + ",";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < bounds_.size(); ++i) {
        cumulative += buckets_[i].load(std::memory_order_relaxed);
        out += fmt::format("{}_bucket{{{}le=\"{}\"}} {}\n", name, prefix, bounds_[i], cumulative);
    }
    std::uint64_t count = count_.load(std::memory_order_relaxed);
    out += fmt::format("{}_bucket{{{}le=\"+Inf\"}} {}\n", name, prefix, count);
    out += fmt::format("{} {}\n", withLabels(name + "_sum", labels),
                       static_cast<double>(sum_micros_.load()) / 1e6);
    out += fmt::format("{} {}\n", withLabels(name + "_count", labels), count);
    return out;
}

std::string labels(std::initializer_list<std::pair<const char*, std::string>> pairs) {
    std::string out;
    for (const auto& [key, value] : pairs) {
        if (!out.empty()) {
            out += ',';
        }
        out += fmt::format("{}=\"{}\"", key, escapeLabel(value));
    }
    return out;
}

Registry& Registry::instance() {
    static Registry registry;
    return registry;
}

Registry::Family& Registry::family(const std::string& name, const std::string& help,
                                   const char* type) {
    Family& f = families_[name];
    if (f.type.empty()) {
        f.type = type;
        f.help = help;
    } else if (f.type != type) {
        throw std::logic_error("metric " + name + " registered with two types");
    }
    return f;
}

Counter& Registry::counter(const std::string& name, const std::string& help,
                           const std::string& labels) {
    std::lock_guard lock(mutex_);
    auto& slot = family(name, help, "counter").counters[labels];
    if (!slot) {
        slot = std::make_unique<Counter>();
    }
    return *slot;
}

Gauge& Registry::gauge(const std::string& name, const std::string& help,
                       const std::string& labels) {
    std::lock_guard lock(mutex_);
    auto& slot = family(name, help, "gauge").gauges[labels];
    if (!slot) {
        slot = std::make_unique<Gauge>();
    }
    return *slot;
}

Histogram& Registry::histogram(const std::string& name, const std::string& help,
                               const std::string& labels) {
    std::lock_guard lock(mutex_);
    auto& slot = family(name, help, "histogram").histograms[labels];
    if (!slot) {
        slot = std::make_unique<Histogram>(std::vector<double>{
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
    }
    return *slot;
}

std::string Registry::render() const {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const auto& [name, f] : families_) {
        out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, f.help, name, f.type);
        for (const auto& [labels, c] : f.counters) {
            out += fmt::format("{} {}\n", withLabels(name, labels), c->value());
        }
        for (const auto& [labels, g] : f.gauges) {
            out += fmt::format("{} {}\n", withLabels(name, labels), g->value());
        }
        for (const auto& [labels, h] : f.histograms) {
            out += h->render(name, labels);
        }
    }
    return out;
}

}  // namespace esocore::metrics
