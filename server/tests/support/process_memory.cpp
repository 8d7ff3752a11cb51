#include "support/process_memory.h"

#include <fstream>
#include <string>

namespace esocore::testing {

std::int64_t peakResidentBytes() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmHWM:", 0) == 0) {
            return std::stoll(line.substr(6)) * 1024;
        }
    }
    return 0;
}

bool resetPeakResident() {
    // Writing 5 to clear_refs resets VmHWM to the current RSS (Linux 4.0 and later).
    std::ofstream clear_refs("/proc/self/clear_refs");
    clear_refs << "5";
    clear_refs.close();
    return static_cast<bool>(clear_refs);
}

}  // namespace esocore::testing
