//===- Plan.cpp - lookups on a loaded plan, the weights' checksums ----------------------------===//
#include "Plan.h"

#include "Error.h"
#include "tfc/schema/PlanFile.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tfc::rt {

Mapping::Mapping(void *base, size_t size, int fd, const struct stat &st)
    : base_(base), size_(size), fd_(fd), dev_(uint64_t(st.st_dev)), ino_(uint64_t(st.st_ino)),
      mtimeSec_(int64_t(st.st_mtim.tv_sec)), mtimeNsec_(int64_t(st.st_mtim.tv_nsec)) {}

Mapping::~Mapping() {
  if (base_ && size_)
    munmap(base_, size_);
  if (fd_ >= 0)
    close(fd_);
}

std::string Mapping::changed() const {
  struct stat st;
  if (fd_ < 0)
    return "";
  if (fstat(fd_, &st) != 0)
    return format("cannot stat it: %s", std::strerror(errno));
  if (uint64_t(st.st_size) != size_)
    return format("its size is now %llu bytes, was %llu when opened (truncated or rewritten in "
                  "place)", (unsigned long long)st.st_size, (unsigned long long)size_);
  if (uint64_t(st.st_dev) != dev_ || uint64_t(st.st_ino) != ino_ ||
      int64_t(st.st_mtim.tv_sec) != mtimeSec_ || int64_t(st.st_mtim.tv_nsec) != mtimeNsec_)
    return "it was modified in place since it was opened";
  return "";
}

void Mapping::dropPages(const void *p, size_t n) const {
  const uintptr_t base = reinterpret_cast<uintptr_t>(base_), start = reinterpret_cast<uintptr_t>(p);
  if (!base_ || start < base || n > size_ || start - base > size_ - n)
    return;
  const uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
  const uintptr_t lo = (start + page - 1) / page * page, hi = (start + n) / page * page;
  if (hi > lo) // a read-only private file mapping: the pages come back from the file
    (void)madvise(reinterpret_cast<void *>(lo), hi - lo, MADV_DONTNEED);
}

void Plan::checkFileUnchanged() const {
  if (!mapping)
    return;
  if (std::string what = mapping->changed(); !what.empty())
    throw Error(TFC_IO_ERROR, format("plan '%s': the file changed while in use: %s; open it "
                                     "again (write plans to a new file and rename it over the "
                                     "old one: mapped readers keep the old file)",
                                     path.c_str(), what.c_str()));
}

const FunctionDesc *Plan::findFunction(const char *name) const {
  if (!name)
    return nullptr;
  for (const FunctionDesc &f : functions)
    if (f.name == name)
      return &f;
  return nullptr;
}

uint64_t Plan::maxArenaSize() const {
  uint64_t m = 0;
  for (const FunctionDesc &f : functions)
    m = std::max(m, f.arenaSize);
  return m;
}

const std::string &Plan::weightsProblem() const {
  // call_once: exactly one thread reads the weights (the others block until it is done), and
  // the answer, a failure included, is kept: a plan's bytes are read-only and never change.
  // (Should the lambda throw, std::bad_alloc from format, the flag stays unset and the next
  // caller tries again.)
  // Each large constant's pages are given back once read (Mapping::dropPages): the pass would
  // otherwise leave the whole plan resident, on top of the packed copies the kernels make next
  // (and read instead); a kernel that reads the plan's bytes maps them again from the page cache.
  std::call_once(weightsOnce_, [this] {
    ++weightsReads_;
    for (const ConstantDesc &c : constants) {
      if (tfc::plan::constantChecksum(formatMinor, c.data, size_t(c.size)) != c.checksum) {
        weightsProblem_ =
            format("plan '%s': constant '%s': checksum mismatch (the weight bytes are corrupted)",
                   path.c_str(), c.name.c_str());
        return;
      }
      if (mapping && c.size >= kDropPagesMinBytes)
        mapping->dropPages(c.data, size_t(c.size));
    }
  });
  return weightsProblem_;
}

void Plan::checkWeightsForSession() const {
  checkFileUnchanged();
  if (!verifyChecksums)
    return;
  const std::string &problem = weightsProblem();
  if (!problem.empty())
    throw Error(TFC_INVALID_PLAN, problem);
}

} // namespace tfc::rt
