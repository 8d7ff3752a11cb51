#include "work_dir.h"

#include <fmt/format.h>
#include <stdlib.h>

#include <cerrno>
#include <string>
#include <system_error>

namespace esocore::bench {

WorkDir::WorkDir(bool keep) : keep_(keep) {
    std::string pattern = (std::filesystem::temp_directory_path() / "esocore-bench-XXXXXX");
    if (mkdtemp(pattern.data()) == nullptr) {
        throw std::system_error(errno, std::generic_category(), "cannot create " + pattern);
    }
    path_ = pattern;
}

WorkDir::~WorkDir() {
    if (keep_) {
        fmt::print(stderr, "bench-ingest: kept {}\n", path_.string());
        return;
    }
    // Best effort: a leftover directory under /tmp is not worth failing the run for.
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

}  // namespace esocore::bench
