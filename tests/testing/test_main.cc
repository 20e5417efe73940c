// The main of every test binary: gives each test process its own temporary folder, so that
// tests of one binary run in parallel by ctest never share files, and removes it at the end
// (set SAMENZICHT_KEEP_TEST_TMP=1 to keep it for inspection).
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

int main(int argc, char** argv) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/samenzicht-test.XXXXXX";
  std::string dir;
  if (char* made = ::mkdtemp(tmpl.data()); made != nullptr) {
    dir = made;
    ::setenv("TEST_TMPDIR", dir.c_str(), 1);
  }
  ::testing::InitGoogleMock(&argc, argv);
  int rc = RUN_ALL_TESTS();
  const char* keep = std::getenv("SAMENZICHT_KEEP_TEST_TMP");
  if (!dir.empty() && (keep == nullptr || std::string(keep) != "1")) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  return rc;
}
