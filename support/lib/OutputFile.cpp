//===- OutputFile.cpp - temp file + rename, links, modes, same-file checks -===//
#include "tfc/support/OutputFile.h"

#include "TempFileRegistry.h"

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

namespace tfc::support {
namespace {

std::string quoted(const std::string &s) { return "'" + s + "'"; }

/// The process umask, read without changing it (Linux >= 4.7), else by setting and restoring.
mode_t currentUmask() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("Umask:", 0) == 0)
      return static_cast<mode_t>(std::strtoul(line.c_str() + 6, nullptr, 8));
  mode_t mask = ::umask(0);
  ::umask(mask);
  return mask;
}

std::string dirName(const std::string &path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos)
    return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string baseName(const std::string &path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

/// Identity of a path for comparisons: device:inode when it exists, else the canonical
/// directory plus the name.
std::string identity(const std::string &path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0)
    return "inode:" + std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  char *dir = ::realpath(dirName(path).c_str(), nullptr);
  std::string key = "path:" + (dir ? std::string(dir) : dirName(path)) + "/" + baseName(path);
  std::free(dir);
  return key;
}

} // namespace

OutputFile::OutputFile(OutputFile &&other) noexcept { *this = std::move(other); }

OutputFile &OutputFile::operator=(OutputFile &&other) noexcept {
  if (this != &other) {
    discard();
    fd_ = other.fd_;
    direct_ = other.direct_;
    existed_ = other.existed_;
    mode_ = other.mode_;
    uid_ = other.uid_;
    gid_ = other.gid_;
    slot_ = other.slot_;
    path_ = std::move(other.path_);
    target_ = std::move(other.target_);
    temp_ = std::move(other.temp_);
    other.fd_ = -1;
    other.slot_ = -1;
    other.temp_.clear();
  }
  return *this;
}

OutputFile::~OutputFile() { discard(); }

std::string OutputFile::fail(const std::string &what, int err) {
  std::string message = quoted(path_) + ": " + what;
  if (err)
    message += std::string(": ") + std::strerror(err);
  return message;
}

std::string OutputFile::open(const std::string &path) {
  discard();
  path_ = path;
  target_ = path;
  existed_ = direct_ = false;
  if (path.empty())
    return "the output path is empty";

  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
    // Write through the link to the file it names; the link itself stays.
    char *resolved = ::realpath(path.c_str(), nullptr);
    if (!resolved)
      return fail("is a symbolic link whose target cannot be resolved (refusing to replace the "
                  "link)", errno);
    target_ = resolved;
    std::free(resolved);
  }
  if (::stat(target_.c_str(), &st) == 0) {
    if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) {
      // /dev/null, a pipe: write into it, never replace it.
      fd_ = ::open(target_.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd_ < 0)
        return fail("cannot open for writing", errno);
      direct_ = true;
      return {};
    }
    if (S_ISDIR(st.st_mode))
      return fail("is a directory", 0);
    if (!S_ISREG(st.st_mode))
      return fail("is not a regular file (a socket or block device); refusing to replace it", 0);
    existed_ = true;
    mode_ = st.st_mode & 07777;
    uid_ = st.st_uid;
    gid_ = st.st_gid;
  } else if (errno != ENOENT) {
    return fail("cannot inspect", errno);
  }

  temp_ = dirName(target_) + "/." + baseName(target_) + ".tmp.XXXXXX";
  fd_ = ::mkostemp(temp_.data(), O_CLOEXEC);
  if (fd_ < 0) {
    int err = errno;
    temp_.clear();
    return fail("cannot create a temporary file in " + quoted(dirName(target_)), err);
  }
  slot_ = detail::registerTempFile(temp_.c_str());
  return {};
}

std::string OutputFile::write(const void *data, size_t size) {
  if (fd_ < 0)
    return fail("not open for writing", 0);
  const char *p = static_cast<const char *>(data);
  while (size > 0) {
    ssize_t n = ::write(fd_, p, size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return fail("write failed", n < 0 ? errno : EIO);
    p += n;
    size -= static_cast<size_t>(n);
  }
  return {};
}

std::string OutputFile::commit() {
  if (fd_ < 0)
    return fail("not open for writing", 0);
  if (direct_) {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc == 0 ? std::string() : fail("write failed", errno);
  }
  mode_t mode = existed_ ? static_cast<mode_t>(mode_) : (0666 & ~currentUmask());
  if (existed_ && ::geteuid() == 0)
    (void)::fchown(fd_, uid_, gid_);  // keep the owner; only root may, and failing is harmless
  if (::fchmod(fd_, mode) != 0 || ::fsync(fd_) != 0) {
    std::string message = fail("write failed", errno);
    discard();
    return message;
  }
  int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) {
    std::string message = fail("write failed", errno);
    discard();
    return message;
  }
  if (std::rename(temp_.c_str(), target_.c_str()) != 0) {
    std::string message = fail("cannot replace the file", errno);
    discard();
    return message;
  }
  detail::unregisterTempFile(slot_);
  slot_ = -1;
  temp_.clear();
  return {};
}

void OutputFile::discard() {
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = -1;
  if (!temp_.empty())
    ::unlink(temp_.c_str());
  temp_.clear();
  detail::unregisterTempFile(slot_);
  slot_ = -1;
}

std::string writeFileAtomically(const std::string &path, const void *data, size_t size) {
  OutputFile file;
  if (std::string e = file.open(path); !e.empty())
    return e;
  if (std::string e = file.write(data, size); !e.empty())
    return e;
  return file.commit();
}

std::string checkOutputPaths(const std::vector<NamedPath> &inputs,
                             const std::vector<NamedPath> &outputs) {
  std::vector<std::string> inputIds, outputIds;
  for (const NamedPath &in : inputs) {
    struct stat st {};
    // Only existing inputs matter (a missing one fails later with its own message).
    inputIds.push_back(::stat(in.path.c_str(), &st) == 0 ? identity(in.path) : std::string());
  }
  for (size_t o = 0; o < outputs.size(); ++o) {
    const NamedPath &out = outputs[o];
    std::string id = identity(out.path);
    for (size_t i = 0; i < inputs.size(); ++i)
      if (!inputIds[i].empty() && id == inputIds[i])
        return out.role + " " + quoted(out.path) + " is the same file as " + inputs[i].role +
               " " + quoted(inputs[i].path) + ": refusing to overwrite an input";
    for (size_t p = 0; p < o; ++p)
      if (id == outputIds[p])
        return outputs[p].role + " " + quoted(outputs[p].path) + " and " + out.role + " " +
               quoted(out.path) + " name the same file: give each output its own path";
    outputIds.push_back(id);
  }
  return {};
}

} // namespace tfc::support
