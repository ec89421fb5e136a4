// Test support: temporary file paths private to one test process.
// ctest runs every test as its own process, several at once; a fixed name
// under /tmp would be shared by two tests, one removing the file while the
// other reads it. The process id keeps each test's files its own.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace aigc {

inline std::string test_temp_path(const std::string& name) {
  return (std::filesystem::path(::testing::TempDir()) / ("aigc_" + std::to_string(::getpid()) + "_" + name)).string();
}

}  // namespace aigc
