#include "child_process.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace esocore::bench {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kWaitPollInterval{20};

std::vector<char*> nullTerminated(const std::vector<std::string>& strings) {
    std::vector<char*> pointers;
    pointers.reserve(strings.size() + 1);
    for (const std::string& s : strings) {
        pointers.push_back(const_cast<char*>(s.c_str()));
    }
    pointers.push_back(nullptr);
    return pointers;
}

// Owns one end of a pipe.
class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }

    int get() const { return fd_; }
    void reset() {
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }

private:
    int fd_;
};

// Reads until end of file; false if `deadline` passes first.
bool readUntilEof(int fd, Clock::time_point deadline, std::string& out) {
    char chunk[4096];
    for (;;) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) {
            return false;
        }
        pollfd waiting{.fd = fd, .events = POLLIN, .revents = 0};
        if (::poll(&waiting, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) {
            throw std::system_error(errno, std::generic_category(), "poll");
        }
        const ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n == 0) {
            return true;
        }
        if (n > 0) {
            out.append(chunk, static_cast<std::size_t>(n));
        } else if (errno != EINTR && errno != EAGAIN) {
            throw std::system_error(errno, std::generic_category(), "read");
        }
    }
}

}  // namespace

ChildProcess ChildProcess::spawn(const std::vector<std::string>& argv,
                                 const std::vector<std::string>& env, int stdout_fd) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (stdout_fd >= 0) {
        posix_spawn_file_actions_adddup2(&actions, stdout_fd, STDOUT_FILENO);
    }
    std::vector<char*> args = nullTerminated(argv);
    std::vector<char*> envp = nullTerminated(env);
    pid_t pid = -1;
    const int rc =
        posix_spawn(&pid, argv.front().c_str(), &actions, nullptr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        throw std::system_error(rc, std::generic_category(), "cannot start " + argv.front());
    }
    return ChildProcess{pid};
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(other.pid_), status_(other.status_) {
    other.pid_ = -1;
}

ChildProcess::~ChildProcess() {
    if (pid_ > 0 && !status_) {
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
}

std::optional<int> ChildProcess::poll() {
    if (!status_) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            status_ = status;
        }
    }
    return status_;
}

std::optional<int> ChildProcess::waitFor(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!poll() && Clock::now() < deadline) {
        std::this_thread::sleep_for(kWaitPollInterval);
    }
    return status_;
}

void ChildProcess::signal(int signal_number) const {
    if (pid_ > 0 && !status_) {
        ::kill(pid_, signal_number);
    }
}

CommandOutput runCommand(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                         std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    int ends[2];
    // Close-on-exec keeps the read end out of the child; dup2 clears the flag on its stdout.
    if (::pipe2(ends, O_CLOEXEC) != 0) {
        throw std::system_error(errno, std::generic_category(), "pipe");
    }
    Fd read_end{ends[0]};
    Fd write_end{ends[1]};

    ChildProcess child = ChildProcess::spawn(argv, env, write_end.get());
    write_end.reset();

    CommandOutput output{.status = 0, .stdout_text = {}};
    const bool finished = readUntilEof(read_end.get(), deadline, output.stdout_text);
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    const auto status =
        finished ? child.waitFor(std::max(left, std::chrono::milliseconds{0})) : std::nullopt;
    if (!status) {
        throw std::runtime_error(
            fmt::format("{} did not finish within {} s", fmt::join(argv, " "),
                        std::chrono::duration_cast<std::chrono::seconds>(timeout).count()));
    }
    output.status = *status;
    return output;
}

std::string describeWaitStatus(int status) {
    if (WIFEXITED(status)) {
        return fmt::format("exit {}", WEXITSTATUS(status));
    }
    if (WIFSIGNALED(status)) {
        return fmt::format("signal {} ({})", WTERMSIG(status), ::strsignal(WTERMSIG(status)));
    }
    return fmt::format("wait status {}", status);
}

bool exitedCleanly(int status) {
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace esocore::bench
