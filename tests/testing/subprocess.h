// Running the project's binaries from tests, as a user would.
//
//   RunResult r = RunCommand({AGENCY_NODE_BIN, "keygen", "--out", path});
//   EXPECT_EQ(r.exit_code, 0) << r.err;
//   Background server({AGGREGATOR_BIN, "serve", "--config", cfg}, log_path);
//   ...                                   // killed (SIGTERM, then SIGKILL) when destroyed
#ifndef SAMENZICHT_TESTS_TESTING_SUBPROCESS_H_
#define SAMENZICHT_TESTS_TESTING_SUBPROCESS_H_

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace samenzicht::testing {

struct RunResult {
  int exit_code = -1;
  std::string out, err;
};

namespace internal {
inline std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline pid_t Spawn(const std::vector<std::string>& argv, const std::string& out_path,
                   const std::string& err_path) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}
}  // namespace internal

// Runs `argv` to completion (argv[0] is a path) and captures its output.
inline RunResult RunCommand(const std::vector<std::string>& argv) {
  static int counter = 0;
  std::string base = ::testing::TempDir() + "/run." + std::to_string(::getpid()) + "." +
                     std::to_string(counter++);
  pid_t pid = internal::Spawn(argv, base + ".out", base + ".err");
  RunResult r;
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = internal::Slurp(base + ".out");
  r.err = internal::Slurp(base + ".err");
  ::unlink((base + ".out").c_str());
  ::unlink((base + ".err").c_str());
  return r;
}

// Same as RunCommand; inside a TEST body bring it in with `using samenzicht::testing::Run;`
// (gtest's own Test::Run would otherwise hide it).
inline RunResult Run(const std::vector<std::string>& argv) { return RunCommand(argv); }

// A process running in the background for the lifetime of this object.
class Background {
 public:
  Background(const std::vector<std::string>& argv, const std::string& log_path)
      : log_path_(log_path) {
    pid_ = internal::Spawn(argv, log_path, log_path + ".err");
  }
  ~Background() { Stop(); }
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  // SIGTERM, wait up to 10 s, then SIGKILL. Returns the exit code (128+signal if killed).
  int Stop() {
    if (pid_ <= 0) return exit_code_;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        pid_ = -1;
        return exit_code_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    Kill();
    return exit_code_;
  }
  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    exit_code_ = 128 + SIGKILL;
    pid_ = -1;
  }
  bool running() const { return pid_ > 0 && ::kill(pid_, 0) == 0; }
  std::string log() const { return internal::Slurp(log_path_) + internal::Slurp(log_path_ + ".err"); }

 private:
  std::string log_path_;
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

// Waits up to `timeout` for `path` to be non-empty and stable for 50 ms; returns its
// contents, or "" on time-out.
inline std::string WaitForFile(const std::string& path,
                               std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string last;
  while (std::chrono::steady_clock::now() < deadline) {
    std::string s = internal::Slurp(path);
    if (!s.empty() && s == last) return s;
    last = s;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return "";
}

}  // namespace samenzicht::testing

#endif  // SAMENZICHT_TESTS_TESTING_SUBPROCESS_H_
