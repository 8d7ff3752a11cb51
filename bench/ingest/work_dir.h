#pragma once

#include <filesystem>

namespace esocore::bench {

/// A private temporary directory for one run: the server database, its port file and the raw
/// table all live here, on one disk. Removed on destruction unless kept.
class WorkDir {
public:
    /// Creates `esocore-bench-XXXXXX` under the system temporary directory (honours TMPDIR).
    explicit WorkDir(bool keep);
    ~WorkDir();

    WorkDir(const WorkDir&) = delete;
    WorkDir& operator=(const WorkDir&) = delete;

    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
    bool keep_;
};

}  // namespace esocore::bench
