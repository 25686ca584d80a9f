// Replays fuzz inputs through the fuzz target without libFuzzer, so that the
// seed corpus and every crash-regression input run in the normal test suite
// with the default toolchain.
//
// Usage: task_service_fuzz_replay FILE_OR_DIRECTORY...
// Runs every file (directories: every regular file in them, in name order).
// A broken invariant aborts with its report. Exits 1 when no input was found.
// When XML_OUTPUT_FILE is set (bazel test), writes one JUnit test case per
// input there.

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz/task_service_fuzz_target.h"

namespace {

std::vector<std::string> InputFiles(const std::string& path) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    std::exit(1);
  }
  if (!S_ISDIR(info.st_mode)) return {path};
  std::vector<std::string> files;
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) return files;
  while (const dirent* entry = readdir(dir)) {
    const std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    std::vector<std::string> inner = InputFiles(path + "/" + name);
    files.insert(files.end(), inner.begin(), inner.end());
  }
  closedir(dir);
  std::sort(files.begin(), files.end());
  return files;
}

std::string XmlEscaped(const std::string& text) {
  std::string escaped;
  for (char c : text) {
    switch (c) {
      case '&':
        escaped += "&amp;";
        break;
      case '<':
        escaped += "&lt;";
        break;
      case '>':
        escaped += "&gt;";
        break;
      case '"':
        escaped += "&quot;";
        break;
      default:
        escaped += c;
    }
  }
  return escaped;
}

void WriteJUnit(const char* path, const std::vector<std::string>& files) {
  std::ofstream xml(path);
  xml << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"
      << "<testsuite name=\"TaskServiceFuzzReplay\" tests=\"" << files.size()
      << "\" failures=\"0\">\n";
  for (const std::string& file : files) {
    xml << "<testcase classname=\"TaskServiceFuzzReplay\" name=\""
        << XmlEscaped(file) << "\"/>\n";
  }
  xml << "</testsuite>\n</testsuites>\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    if (argv[i][0] == '\0') continue;  // an empty file group's expansion
    std::vector<std::string> found = InputFiles(argv[i]);
    files.insert(files.end(), found.begin(), found.end());
  }
  if (files.empty()) {
    std::fprintf(stderr, "no fuzz inputs given\n");
    return 1;
  }
  for (const std::string& file : files) {
    std::ifstream in(file, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)),
                            std::istreambuf_iterator<char>());
    std::fprintf(stderr, "replaying %s (%zu bytes)\n", file.c_str(),
                 bytes.size());
    tasks::fuzz::RunInput(reinterpret_cast<const uint8_t*>(bytes.data()),
                          bytes.size());
  }
  std::fprintf(stderr, "replayed %zu inputs: every invariant held\n",
               files.size());
  if (const char* xml = std::getenv("XML_OUTPUT_FILE")) WriteJUnit(xml, files);
  return 0;
}
