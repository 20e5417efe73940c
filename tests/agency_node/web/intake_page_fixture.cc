// For the intake page's browser test: a complete agency node in WORK_DIR with the page on
// 127.0.0.1 (any free port), the account juf.anna and the operator beheer.eva. Writes WORK_DIR/ready.json
// ({"port": N, "log": PATH}) when the page listens; stops when standard input closes. The
// node's log goes to WORK_DIR/node.log, for the test to check it holds no typed value.
//   intake_page_fixture WORK_DIR
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>

#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "model/config.h"
#include "tests/agency_node/web/intake_fixture.h"

int main(int argc, char** argv) {
  namespace sz = samenzicht;
  if (argc != 2) {
    std::cerr << "usage: intake_page_fixture WORK_DIR\n";
    return 2;
  }
  const std::string work = argv[1];
  auto config_path = sz::testing::MakeIntakeNode(work + "/node");
  if (!config_path.ok()) {
    std::cerr << config_path.status() << "\n";
    return 1;
  }
  if (auto s = sz::testing::AddAccount(*config_path, "juf.anna", "professional",
                                       "correct horse battery");
      !s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }
  if (auto s = sz::testing::AddAccount(*config_path, "beheer.eva", "operator",
                                       "correct horse battery");
      !s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }
  auto config = sz::model::LoadNodeConfig(*config_path);
  if (!config.ok()) {
    std::cerr << config.status() << "\n";
    return 1;
  }
  const std::string log_path = work + "/node.log";
  auto log = spdlog::basic_logger_mt("node", log_path, true);
  log->flush_on(spdlog::level::info);
  auto page = sz::agency_node::web::IntakePage::Start(*config, *log);
  if (!page.ok()) {
    std::cerr << page.status() << "\n";
    return 1;
  }
  auto w = sz::files::WriteFileAtomic(
      work + "/ready.json",
      absl::StrCat("{\"port\": ", (*page)->port(), ", \"log\": \"", log_path, "\", \"state\": \"",
                   config->state_dir(), "\"}\n"),
      0600);
  if (!w.ok()) {
    std::cerr << w << "\n";
    return 1;
  }
  std::string line;
  while (std::getline(std::cin, line)) {
  }
  (*page)->Stop();
  return 0;
}
