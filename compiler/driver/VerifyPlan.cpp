//===- VerifyPlan.cpp - the plan verifier: the format, the target, the runtime's loader ---===//
//
// The compiler checks what it can while it builds a plan (sizes, ranks, indices, each kernel
// against the target's capability table); writePlanFile() then checks the complete temporary
// file before it replaces the destination, so `tfc compile` never leaves a plan that does not
// verify:
//  * checkPlanFile(): what needs no runtime backend: the header, the FlatBuffers verifier, every
//    constant, value, kernel and cache slot, and every kernel kind and float dtype against the
//    capability table of the plan's target and precision (tfc/target/Target.h);
//  * then tfc_plan_open and tfc_plan_verify: every check of docs/PLAN_FORMAT.md, the tokenizer
//    built, the checksums,
//    and, when the runtime linked here runs the plan's target (it says so: tfc_backend_count /
//    tfc_backend_name; cpu always, cuda in a runtime built with its CUDA backend), the backend's
//    kernel rules. A plan for a target this runtime does not run (a cuda plan from a CPU-only
//    build) is opened with any_target: the format and the schema's rules, not a backend's.
//
//===----------------------------------------------------------------------===//
#include "tfc/driver/Compiler.h"

#include "tfc/schema/PlanFile.h"
#include "tfc/schema/PlanKernels.h"
#include "tfc/tfc_runtime.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static_assert(tfc::planner::kMaxRank == TFC_MAX_RANK,
              "the compiler's rank limit must be the runtime's");

namespace tfc::driver {

namespace {

namespace fb = tfc::plan;
using tfc::target::DTypeSet;

/// A read-only mapping of a whole file.
class MappedFile {
public:
  ~MappedFile() {
    if (data_ && data_ != MAP_FAILED)
      munmap(data_, size_);
  }
  std::string open(const std::string &path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return "cannot open: " + std::string(std::strerror(errno));
    struct stat st;
    std::string error;
    if (fstat(fd, &st) != 0)
      error = "cannot stat: " + std::string(std::strerror(errno));
    else if ((size_ = size_t(st.st_size)) > 0 &&
             (data_ = mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED)
      error = "cannot map: " + std::string(std::strerror(errno));
    ::close(fd);
    return error;
  }
  const uint8_t *data() const { return static_cast<const uint8_t *>(data_); }
  size_t size() const { return size_; }

private:
  void *data_ = nullptr;
  size_t size_ = 0;
};

bool knownDType(fb::DType d) { return fb::isKnownEnumValue(d); }

std::string checkFunction(const fb::Plan &plan, const fb::Function &f, fb::Target target) {
  std::string where = "function '" + f.name()->str() + "': ";
  const auto &values = *f.values();
  const int64_t n = values.size();
  const uint32_t numConstants = plan.constants() ? plan.constants()->size() : 0;
  const uint32_t numSymbols = plan.symbols() ? plan.symbols()->size() : 0;
  for (uint32_t i = 0; i < values.size(); ++i) {
    const fb::Value *v = values.Get(i);
    std::string name = v->name() ? v->name()->str() : "#" + std::to_string(i);
    if (!fb::isKnownEnumValue(v->kind()) || !knownDType(v->dtype()))
      return where + "value '" + name + "' has an unknown kind or dtype";
    if (v->dims()->size() > uint32_t(planner::kMaxRank))
      return where + "value '" + name + "' has rank " + std::to_string(v->dims()->size());
    for (const fb::Dim *d : *v->dims())
      if (d->symbol() >= int32_t(numSymbols) || d->symbol() < -1 ||
          (d->symbol() == -1 && d->size() < 0))
        return where + "value '" + name + "' has a bad dim";
    if (v->kind() == fb::ValueKind::Constant) {
      if (v->constant() < 0 || uint32_t(v->constant()) >= numConstants)
        return where + "value '" + name + "' refers to no constant";
      if (plan.constants()->Get(uint32_t(v->constant()))->dtype() != v->dtype())
        return where + "value '" + name + "' differs in dtype from its constant";
    }
  }
  for (const fb::Kernel *k : *f.kernels()) {
    std::string kernel = where + "kernel '" + (k->name() ? k->name()->str() : "") + "' (";
    if (!fb::isKnownEnumValue(k->kind()))
      return kernel + "kind " + std::to_string(int(k->kind())) + "): unknown kind";
    kernel += std::string(fb::EnumNameKernelKind(k->kind())) + "): ";
    if (k->options_type() != fb::kernelOptionsOf(k->kind()))
      return kernel + "its options are not its kind's table";
    DTypeSet floats;
    for (const flatbuffers::Vector<int32_t> *list : {k->inputs(), k->outputs()})
      for (uint32_t i = 0; i < list->size(); ++i) {
        int32_t v = list->Get(i);
        if (v < -1 || v >= n || (v == -1 && list == k->outputs()))
          return kernel + "refers to value " + std::to_string(v) + " of " + std::to_string(n);
        if (list == k->inputs() && fb::isWeightOrScaleInput(k->kind(), i))
          continue;
        if (v >= 0 && tfc::target::isFloat(values.Get(uint32_t(v))->dtype()))
          floats.insert(values.Get(uint32_t(v))->dtype());
      }
    if (std::string e = tfc::target::checkKernel(target, k->kind(), floats); !e.empty())
      return kernel + e;
    // Weight inputs (Linear, GatedLinear): the target's weight dtypes; a weight in the plan's
    // weight precision other than F32 is a constant, and an I8 one has its f32 scale [N].
    const fb::WeightInputs weights = fb::weightInputsOf(k->kind());
    for (int j = 0; j < weights.count; ++j) {
      const uint32_t wi = uint32_t(weights.list[j].weight), si = uint32_t(weights.list[j].scale);
      if (wi >= k->inputs()->size() || k->inputs()->Get(wi) < 0)
        continue;
      const fb::Value *w = values.Get(uint32_t(k->inputs()->Get(wi)));
      if (std::string e = tfc::target::checkWeight(target, k->kind(), w->dtype()); !e.empty())
        return kernel + e;
      const std::string wname = "weight '" + (w->name() ? w->name()->str() : "") + "'";
      const bool lowWeight = w->dtype() == fb::DType::I8 ||
                             (w->dtype() == fb::DType::BF16 && plan.precision() != fb::DType::BF16);
      if (lowWeight && w->dtype() != plan.weight_precision())
        return kernel + wname + " is " + planner::dtypeName(w->dtype()) +
               " but the plan's weight precision is " +
               planner::dtypeName(plan.weight_precision());
      if (lowWeight && w->kind() != fb::ValueKind::Constant)
        return kernel + wname + " is " + planner::dtypeName(w->dtype()) + " but not a constant";
      const int32_t sv = si < k->inputs()->size() ? k->inputs()->Get(si) : -1;
      if (w->dtype() != fb::DType::I8) {
        if (sv >= 0)
          return kernel + wname + " is not i8 but has a scale (input " + std::to_string(si) + ")";
        continue;
      }
      if (sv < 0)
        return kernel + wname + " is i8 but has no scale (input " + std::to_string(si) + ")";
      const fb::Value *s = values.Get(uint32_t(sv));
      const std::string sname = "scale '" + (s->name() ? s->name()->str() : "") + "'";
      if (s->dtype() != fb::DType::F32 || s->kind() != fb::ValueKind::Constant)
        return kernel + sname + " of " + wname + " is not an f32 constant";
      if (w->dims()->size() != 2 || s->dims()->size() != 1 ||
          s->dims()->Get(0)->symbol() != -1 || w->dims()->Get(1)->symbol() != -1 ||
          s->dims()->Get(0)->size() != w->dims()->Get(1)->size())
        return kernel + sname + " of " + wname + " is not [N] (one per output column)";
    }
  }
  for (const flatbuffers::Vector<flatbuffers::Offset<fb::Port>> *ports : {f.inputs(), f.outputs()})
    for (const fb::Port *p : *ports)
      if (p->value() < 0 || p->value() >= n)
        return where + "port '" + p->name()->str() + "' refers to no value";
  return "";
}

} // namespace

bool runtimeRunsTarget(tfc::target::Target target) {
  // The runtime linked here says which backends it has (a backend runs the target of its name),
  // so a CUDA-enabled runtime build needs no matching compile-time switch here.
  const std::string name = tfc::target::targetName(target);
  for (size_t i = 0, n = tfc_backend_count(); i < n; ++i)
    if (const char *b = tfc_backend_name(i); b && name == b)
      return true;
  return false;
}

Status checkPlanFile(const std::string &file, bool checksums) {
  MappedFile m;
  if (std::string e = m.open(file); !e.empty())
    return {e};
  const uint64_t size = m.size();
  fb::PlanFileHeader h{};
  if (size < sizeof h || std::memcmp(m.data(), fb::kPlanMagic, sizeof fb::kPlanMagic) != 0)
    return {"not a tfc plan (no header)"};
  std::memcpy(&h, m.data(), sizeof h);
  if (h.formatMajor != fb::kPlanFormatMajor || h.formatMinor > fb::kPlanFormatMinor)
    return {"plan format " + std::to_string(h.formatMajor) + "." + std::to_string(h.formatMinor) +
            " is not this compiler's"};
  if (h.fileSize != size || h.planOffset != sizeof h || h.planSize == 0 ||
      h.planSize > size - h.planOffset || h.weightsOffset % fb::kPlanAlignment != 0 ||
      h.weightsOffset < h.planOffset + h.planSize || h.weightsOffset > size ||
      h.weightsSize > size - h.weightsOffset)
    return {"the header's offsets and sizes do not fit the file"};
  const uint8_t *buf = m.data() + h.planOffset;
  if (h.formatMinor >= fb::kPlanChecksumMinor &&
      fb::fnv1a64(buf, size_t(h.planSize)) != h.planChecksum)
    return {"the FlatBuffer section is corrupted (checksum mismatch)"};
  flatbuffers::Verifier verifier(buf, size_t(h.planSize));
  if (!verifier.VerifyBuffer<fb::Plan>(nullptr) ||
      !flatbuffers::BufferHasIdentifier(buf, fb::PlanIdentifier()))
    return {"the FlatBuffer does not verify"};
  const fb::Plan &plan = *fb::GetPlan(buf);
  if (plan.format_major() != h.formatMajor || plan.format_minor() != h.formatMinor)
    return {"the header's format version is not the FlatBuffer's"};
  if (!fb::isKnownEnumValue(plan.target()))
    return {"unknown target " + std::to_string(int(plan.target()))};
  if (std::string e = tfc::target::checkPlanPrecisions(plan.target(), plan.precision(),
                                                       plan.weight_precision());
      !e.empty())
    return {e};
  const uint8_t *weights = m.data() + h.weightsOffset;
  if (plan.constants())
    for (const fb::Constant *c : *plan.constants()) {
      std::string where = "constant '" + c->name()->str() + "': ";
      if (!knownDType(c->dtype()))
        return {where + "unknown dtype"};
      uint64_t bytes = planner::dtypeSize(c->dtype());
      for (int64_t d : *c->shape())
        if (d < 0 || __builtin_mul_overflow(bytes, uint64_t(d), &bytes))
          return {where + "bad shape"};
      if (c->size() != bytes || c->offset() % fb::kPlanAlignment != 0 ||
          c->offset() > h.weightsSize || c->size() > h.weightsSize - c->offset())
        return {where + "its bytes do not fit its shape or the weight section"};
      if (checksums &&
          fb::constantChecksum(h.formatMinor, weights + c->offset(), size_t(c->size())) !=
              c->checksum())
        return {where + "checksum mismatch"};
    }
  if (plan.caches())
    for (const fb::CacheSlot *c : *plan.caches()) {
      std::string name = c->name() ? c->name()->str() : "";
      if (!knownDType(c->dtype()))
        return {"cache slot '" + name + "': unknown dtype"};
      if (std::string e = tfc::target::checkCacheDtype(plan.target(), c->dtype()); !e.empty())
        return {"cache slot '" + name + "': " + e};
    }
  if (plan.functions())
    for (const fb::Function *f : *plan.functions())
      if (std::string e = checkFunction(plan, *f, plan.target()); !e.empty())
        return {e};
  return {};
}

Status verifyPlanFile(const std::string &file) {
  // The target first (a header the loader would refuse is the loader's to name).
  tfc::target::Target target = tfc::target::Target::Cpu;
  {
    MappedFile m;
    fb::PlanFileHeader h{};
    if (m.open(file).empty() && m.size() >= sizeof h) {
      std::memcpy(&h, m.data(), sizeof h);
      if (h.planOffset == sizeof h && h.planSize && h.planSize <= m.size() - sizeof h) {
        flatbuffers::Verifier v(m.data() + h.planOffset, size_t(h.planSize));
        if (v.VerifyBuffer<fb::Plan>(nullptr))
          target = fb::GetPlan(m.data() + h.planOffset)->target();
      }
    }
  }
  const bool runtime = runtimeRunsTarget(target);
  {
    tfc_plan_options options;
    tfc_plan_options_init(&options);
    options.any_target = runtime ? 0 : 1;
    tfc_plan *plan = nullptr;
    tfc_status *status = tfc_plan_open(file.c_str(), &options, &plan);
    // Opening reads no weights; their checksums are checked on request.
    if (!status)
      status = tfc_plan_verify(plan);
    tfc_plan_release(plan);
    if (status) {
      std::string message = tfc_status_message(status);
      tfc_status_free(status);
      // The loader names the temporary file; the caller names the destination.
      std::string prefix = "plan '" + file + "': ";
      if (message.rfind(prefix, 0) == 0)
        message = message.substr(prefix.size());
      return {"the runtime refuses the plan: " + message};
    }
  }
  // The runtime has checked the checksums (tfc_plan_verify).
  if (Status s = checkPlanFile(file, /*checksums=*/false); !s.ok())
    return {"the plan does not verify: " + s.error};
  return {};
}

} // namespace tfc::driver
