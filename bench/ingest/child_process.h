#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace esocore::bench {

/// A process the benchmark started. It is killed and reaped on destruction if still running, so
/// an aborted run never leaves a server behind.
class ChildProcess {
public:
    /// Starts `argv[0]` with exactly `env`; the child's stdout becomes `stdout_fd` when that is
    /// not negative. Throws std::system_error when the program cannot be started.
    static ChildProcess spawn(const std::vector<std::string>& argv,
                              const std::vector<std::string>& env, int stdout_fd);

    ChildProcess(ChildProcess&& other) noexcept;
    ChildProcess& operator=(ChildProcess&&) = delete;
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    ~ChildProcess();

    pid_t pid() const { return pid_; }

    /// The wait status once the child has exited; nullopt while it runs.
    std::optional<int> poll();

    /// Waits up to `timeout` for the child to exit; nullopt if it is still running.
    std::optional<int> waitFor(std::chrono::milliseconds timeout);

    /// Sends `signal_number` if the child has not been reaped yet.
    void signal(int signal_number) const;

private:
    explicit ChildProcess(pid_t pid) : pid_(pid) {}

    pid_t pid_;
    std::optional<int> status_;
};

/// What a finished command left behind.
struct CommandOutput {
    int status;  // wait status
    std::string stdout_text;
};

/// Runs a command to completion, capturing its stdout; stderr stays the benchmark's own.
/// Throws std::runtime_error when it does not finish within `timeout`.
CommandOutput runCommand(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                         std::chrono::milliseconds timeout);

/// "exit 0", "exit 3", "signal 9 (Killed)": a wait status for people.
std::string describeWaitStatus(int status);

/// True for a wait status of a normal exit with code 0.
bool exitedCleanly(int status);

}  // namespace esocore::bench
