#include "core/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <memory>

#include "core/clock.h"

namespace esocore::log {

namespace {

std::shared_ptr<spdlog::logger>& logger() {
    static std::shared_ptr<spdlog::logger> instance = [] {
        auto made = spdlog::stderr_logger_mt("esocore");
        made->set_pattern("%v");
        made->set_level(spdlog::level::info);
        return made;
    }();
    return instance;
}

spdlog::level::level_enum toSpdlog(Level level) {
    switch (level) {
        case Level::debug:
            return spdlog::level::debug;
        case Level::info:
            return spdlog::level::info;
        case Level::warn:
            return spdlog::level::warn;
        case Level::error:
            return spdlog::level::err;
        case Level::off:
            return spdlog::level::off;
    }
    return spdlog::level::info;
}

const char* levelName(Level level) {
    switch (level) {
        case Level::debug:
            return "debug";
        case Level::info:
            return "info";
        case Level::warn:
            return "warn";
        case Level::error:
            return "error";
        case Level::off:
            return "off";
    }
    return "info";
}

}  // namespace

void setup(std::string_view level) {
    Level parsed = Level::info;
    if (level == "debug") {
        parsed = Level::debug;
    } else if (level == "warn" || level == "warning") {
        parsed = Level::warn;
    } else if (level == "error") {
        parsed = Level::error;
    } else if (level == "off") {
        parsed = Level::off;
    }
    logger()->set_level(toSpdlog(parsed));
    logger()->flush_on(spdlog::level::warn);
}

bool enabled(Level level) {
    return logger()->should_log(toSpdlog(level));
}

void write(Level level, std::string_view message, Fields fields) {
    if (!enabled(level)) {
        return;
    }
    boost::json::object line;
    line.reserve(3 + fields.size());
    line["ts"] = formatRfc3339Micros(nowMicros());
    line["level"] = levelName(level);
    line["msg"] = message;
    for (const auto& field : fields) {
        line[field.key] = field.value;
    }
    logger()->log(toSpdlog(level), boost::json::serialize(line));
}

}  // namespace esocore::log
