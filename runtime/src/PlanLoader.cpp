//===- PlanLoader.cpp - open, map and check a plan file ---------------------------------------===//
//
// Maps the file read-only (MAP_PRIVATE), then runs every check of docs/PLAN_FORMAT.md ("What the
// loader checks") before decoding the FlatBuffer into the flat tables of Plan.h: header (magic,
// version, offsets and sizes against the real file size), the FlatBuffers Verifier and the
// "TFCP" identifier, every constant (dtype, shape, size, alignment, range), every
// function (value indices, symbols, ports, constants, arena bounds) and every kernel (known kind,
// operand counts, its kind's options table, option values, dtypes; cpu/KernelTable.cpp). A
// failed check throws Error with a message naming the file, the function, the kernel or value,
// and the problem. Nothing here trusts a byte of the file before it has been checked.
//
// Nothing here reads the weight section: the constants' checksums are checked once per plan
// when the first session is created on it, or on request (Plan::weightsProblem,
// tfc_plan_verify), so opening costs the FlatBuffer's size, not the weights'. The mapping is
// not prefaulted (no MAP_POPULATE) for the same reason.
//
//===----------------------------------------------------------------------------------------===//
#include "Plan.h"

#include "Backend.h"
#include "Error.h"
#include "tfc/support/SymbolNames.h"
#include "InputRules.h"
#include "cpu/Kernel.h"
#include "tfc/schema/PlanFile.h"
#include "tfc/schema/PlanKernels.h"
#include "tfc/schema/plan_generated.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tfc::rt {
namespace {

namespace fb = tfc::plan;

/// Owns a file descriptor.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0)
      close(fd);
  }
};

/// a * b, or false on overflow.
bool mulOk(uint64_t a, uint64_t b, uint64_t *out) { return !__builtin_mul_overflow(a, b, out); }
/// a + b <= limit without overflow.
bool fits(uint64_t a, uint64_t b, uint64_t limit) {
  uint64_t s;
  return !__builtin_add_overflow(a, b, &s) && s <= limit;
}

// The C API's dtypes are numbered as the schema's: a value's dtype is used as a tfc_dtype.
static_assert(int(fb::DType::F32) == TFC_F32 && int(fb::DType::F16) == TFC_F16 &&
                  int(fb::DType::BF16) == TFC_BF16 && int(fb::DType::I32) == TFC_I32 &&
                  int(fb::DType::I64) == TFC_I64 && int(fb::DType::I8) == TFC_I8 &&
                  int(fb::DType::Bool) == TFC_BOOL && int(fb::DType::MAX) == TFC_BOOL,
              "tfc_dtype (tfc_runtime.h) and plan.fbs DType number the dtypes alike");

static_assert(TFC_RUNTIME_PLAN_FORMAT_MAJOR == fb::kPlanFormatMajor &&
                  TFC_RUNTIME_PLAN_FORMAT_MINOR == fb::kPlanFormatMinor,
              "tfc_runtime.h states the plan format version this runtime reads (PlanFile.h)");

bool knownDtype(int32_t d) { return fb::isKnownEnumValue(fb::DType(d)); }

/// Whether a vector of 64-bit values or of structs holding them (fb::Dim) starts 8-byte aligned
/// (an absent or empty one counts as aligned: nothing is read, and FlatBuffers does not align the
/// data of an empty vector of structs, e.g. a scalar value's dims). The FlatBuffers
/// Verifier (2.0) checks a vector's length prefix to 4 bytes only, so a corrupted offset can
/// leave 8-byte elements misaligned: reading them is undefined behaviour (UBSan, fuzz_plan_loader).
template <typename T> bool aligned8(const flatbuffers::Vector<T> *v) {
  return !v || v->size() == 0 || reinterpret_cast<uintptr_t>(v->Data()) % 8 == 0;
}

/// The first option field of kernel `k` holding misaligned 64-bit values, or null.
const char *misalignedLongs(const fb::Kernel *k) {
  if (const auto *o = k->options_as_SliceOptions())
    return aligned8(o->steps()) ? nullptr : "steps";
  if (const auto *o = k->options_as_TileOptions())
    return aligned8(o->repeats()) ? nullptr : "repeats";
  if (const auto *o = k->options_as_ConvOptions()) {
    if (!aligned8(o->strides()))
      return "strides";
    if (!aligned8(o->pads()))
      return "pads";
    return aligned8(o->dilations()) ? nullptr : "dilations";
  }
  return nullptr;
}

class Loader {
public:
  Loader(const char *path, bool verifyChecksums, bool anyTarget)
      : path_(path), anyTarget_(anyTarget), plan_(std::make_shared<Plan>()) {
    plan_->path = path;
    plan_->verifyChecksums = verifyChecksums;
  }

  std::shared_ptr<const Plan> load() {
    mapFile();
    checkHeader();
    verifyFlatBuffer();
    decodeMetadata();
    decodeConstants();
    decodeGeneration();
    for (flatbuffers::uoffset_t i = 0; fbPlan_->functions() && i < fbPlan_->functions()->size();
         ++i)
      decodeFunction(fbPlan_->functions()->Get(i));
    return plan_;
  }

private:
  std::string path_;
  bool anyTarget_;
  std::shared_ptr<Plan> plan_;
  const uint8_t *base_ = nullptr;
  uint64_t fileSize_ = 0;
  fb::PlanFileHeader header_{};
  const fb::Plan *fbPlan_ = nullptr;

  [[noreturn]] void bad(tfc_code code, const std::string &what) const {
    throw Error(code, format("plan '%s': %s", path_.c_str(), what.c_str()));
  }

  void mapFile() {
    Fd f{open(path_.c_str(), O_RDONLY | O_CLOEXEC)};
    if (f.fd < 0)
      bad(errno == ENOENT ? TFC_NOT_FOUND : TFC_IO_ERROR,
          format("cannot open: %s", std::strerror(errno)));
    struct stat st;
    if (fstat(f.fd, &st) != 0)
      bad(TFC_IO_ERROR, format("cannot stat: %s", std::strerror(errno)));
    if (!S_ISREG(st.st_mode))
      bad(TFC_IO_ERROR, "not a regular file");
    fileSize_ = uint64_t(st.st_size);
    if (fileSize_ == 0)
      bad(TFC_INVALID_PLAN, "the file is empty (truncated: a plan starts with a 64-byte header)");
    void *p = mmap(nullptr, fileSize_, PROT_READ, MAP_PRIVATE, f.fd, 0);
    if (p == MAP_FAILED)
      bad(TFC_IO_ERROR, format("cannot map %llu bytes: %s", (unsigned long long)fileSize_,
                               std::strerror(errno)));
    plan_->mapping = std::make_unique<Mapping>(p, fileSize_, f.fd, st);
    f.fd = -1; // the mapping keeps it, to notice a file truncated under it (Plan::checkFileUnchanged)
    base_ = static_cast<const uint8_t *>(p);
  }

  void checkHeader() {
    size_t magicBytes = fileSize_ < 8 ? size_t(fileSize_) : 8;
    if (std::memcmp(base_, fb::kPlanMagic, magicBytes) != 0)
      bad(TFC_INVALID_PLAN, "not a tfc plan (bad magic)");
    if (fileSize_ < sizeof(fb::PlanFileHeader))
      bad(TFC_INVALID_PLAN, format("truncated: %llu bytes, smaller than the 64-byte header",
                                   (unsigned long long)fileSize_));
    std::memcpy(&header_, base_, sizeof header_);
    const fb::PlanFileHeader &h = header_;
    if (h.formatMajor != fb::kPlanFormatMajor)
      bad(TFC_VERSION_MISMATCH,
          format("plan format %u.%u is not supported by this runtime (reads %u.x); recompile it "
                 "with tfc compile", h.formatMajor, h.formatMinor, fb::kPlanFormatMajor));
    if (h.formatMinor > fb::kPlanFormatMinor)
      bad(TFC_VERSION_MISMATCH,
          format("plan format %u.%u is not supported by this runtime (reads up to %u.%u); "
                 "recompile it with this release's tfc compile", h.formatMajor, h.formatMinor,
                 fb::kPlanFormatMajor, fb::kPlanFormatMinor));
    if (h.fileSize != fileSize_)
      bad(TFC_INVALID_PLAN,
          format("%s: the header says the file has %llu bytes but it has %llu",
                 h.fileSize > fileSize_ ? "truncated" : "bad file size",
                 (unsigned long long)h.fileSize, (unsigned long long)fileSize_));
    if (h.planOffset != sizeof(fb::PlanFileHeader))
      bad(TFC_INVALID_PLAN, format("plan_offset is %llu, expected 64",
                                   (unsigned long long)h.planOffset));
    if (h.planSize == 0 || !fits(h.planOffset, h.planSize, fileSize_))
      bad(TFC_INVALID_PLAN,
          format("plan_size %llu at offset %llu is outside the file (%llu bytes)",
                 (unsigned long long)h.planSize, (unsigned long long)h.planOffset,
                 (unsigned long long)fileSize_));
    if (h.planSize > uint64_t(FLATBUFFERS_MAX_BUFFER_SIZE))
      bad(TFC_INVALID_PLAN, format("plan_size %llu is above the FlatBuffers limit of 2 GiB",
                                   (unsigned long long)h.planSize));
    if (h.weightsOffset % fb::kPlanAlignment != 0)
      bad(TFC_INVALID_PLAN, format("weights_offset %llu is not a multiple of 64",
                                   (unsigned long long)h.weightsOffset));
    if (h.weightsOffset < h.planOffset + h.planSize)
      bad(TFC_INVALID_PLAN, format("weights_offset %llu overlaps the FlatBuffer (which ends at %llu)",
                                   (unsigned long long)h.weightsOffset,
                                   (unsigned long long)(h.planOffset + h.planSize)));
    if (!fits(h.weightsOffset, h.weightsSize, fileSize_))
      bad(TFC_INVALID_PLAN,
          format("weights_size %llu at weights_offset %llu is outside the file (%llu bytes)",
                 (unsigned long long)h.weightsSize, (unsigned long long)h.weightsOffset,
                 (unsigned long long)fileSize_));
    plan_->weightsBytes = h.weightsSize;
  }

  void verifyFlatBuffer() {
    const uint8_t *buf = base_ + header_.planOffset;
    size_t size = size_t(header_.planSize);
    // (2.3) The FlatBuffer's checksum, before the Verifier: a flipped byte that still verifies
    // (a changed dim, offset or option) would otherwise run and give wrong numbers. Plans of
    // 2.0-2.2 have no checksum (the header's 8 bytes were reserved) and open as before.
    if (header_.formatMinor >= fb::kPlanChecksumMinor) {
      uint64_t sum = fb::fnv1a64(buf, size);
      if (sum != header_.planChecksum)
        bad(TFC_INVALID_PLAN,
            format("the FlatBuffer section is corrupted (its checksum is %016llx, the header "
                   "says %016llx)", (unsigned long long)sum,
                   (unsigned long long)header_.planChecksum));
    }
    flatbuffers::Verifier v(buf, size);
    if (!v.VerifyBuffer<fb::Plan>(nullptr))
      bad(TFC_INVALID_PLAN, "the FlatBuffer is corrupted (the FlatBuffers verifier rejects it)");
    if (!flatbuffers::BufferHasIdentifier(buf, fb::PlanIdentifier()))
      bad(TFC_INVALID_PLAN, "the FlatBuffer's identifier is not \"TFCP\"");
    fbPlan_ = fb::GetPlan(buf);
    if (fbPlan_->format_major() != header_.formatMajor ||
        fbPlan_->format_minor() != header_.formatMinor)
      bad(TFC_INVALID_PLAN,
          format("the header says format %u.%u but the FlatBuffer says %u.%u",
                 header_.formatMajor, header_.formatMinor, fbPlan_->format_major(),
                 fbPlan_->format_minor()));
  }

  static std::string str(const flatbuffers::String *s) { return s ? s->str() : std::string(); }

  void decodeMetadata() {
    Plan &p = *plan_;
    p.formatMajor = header_.formatMajor;
    p.formatMinor = header_.formatMinor;
    p.producer = str(fbPlan_->producer());
    switch (fbPlan_->target()) {
    case fb::Target::Cpu: p.target = "cpu"; break;
    case fb::Target::Cuda: p.target = "cuda"; break;
    default:
      bad(TFC_INVALID_PLAN, format("unknown target %d", int(fbPlan_->target())));
    }
    std::string why; // "" when no backend runs the target; else why its module cannot load
    p.backend = backendForTarget(p.target, &why); // loads the target's backend module
    if (!p.backend && !anyTarget_)
      bad(TFC_UNAVAILABLE,
          format("the plan targets %s, which this runtime cannot run (%s); open it with "
                 "any_target to inspect it", p.target.c_str(),
                 why.empty() ? ("its backends: " + backendNames()).c_str() : why.c_str()));
    switch (fbPlan_->precision()) { // (2.1)
    case fb::DType::F32: p.precision = "fp32"; break;
    case fb::DType::F16: p.precision = "fp16"; break;
    case fb::DType::BF16: p.precision = "bf16"; break;
    default:
      bad(TFC_INVALID_PLAN, format("precision %d is not a float dtype (F32, F16, BF16)",
                                   int(fbPlan_->precision())));
    }
    // The kernel checks accept the plan's float dtype (FunctionDesc::floatDtype): a cpu plan
    // must be fp32, or a CPU kernel would read f16 data as f32.
    if (fbPlan_->target() == fb::Target::Cpu && p.precision != "fp32")
      bad(TFC_INVALID_PLAN, format("a cpu plan must be fp32, this one says %s (the compiler "
                                   "writes fp16/bf16 plans for --target cuda only)",
                                   p.precision.c_str()));
    // (2.2) Weight-only precision: the dtype of the Linear/GatedLinear constant weights of a cpu
    // plan (FunctionDesc::weightDtype; the kernels' checks hold each weight to it).
    switch (fbPlan_->weight_precision()) {
    case fb::DType::F32: p.weightPrecision = "fp32"; break;
    case fb::DType::BF16: p.weightPrecision = "bf16"; break;
    case fb::DType::I8: p.weightPrecision = "int8"; break;
    default:
      bad(TFC_INVALID_PLAN, format("weight_precision %d is not F32, BF16 or I8",
                                   int(fbPlan_->weight_precision())));
    }
    if (fbPlan_->target() != fb::Target::Cpu && p.weightPrecision != "fp32")
      bad(TFC_INVALID_PLAN, format("weight_precision %s is for cpu plans only (a %s plan's "
                                   "weights follow its precision)", p.weightPrecision.c_str(),
                                   p.target.c_str()));
    if (const fb::ModelInfo *m = fbPlan_->model()) {
      p.family = str(m->family());
      p.modelName = str(m->name());
      if (const auto *vocab = m->vocabulary()) {
        p.vocabulary.reserve(vocab->size());
        for (flatbuffers::uoffset_t i = 0; i < vocab->size(); ++i)
          p.vocabulary.push_back(str(vocab->Get(i)));
      }
      if (const fb::Tokenizer *t = m->tokenizer(); t && t->kind() != fb::TokenizerKind::None) {
        text::TokenizerConfig c;
        switch (t->kind()) {
        case fb::TokenizerKind::WordPiece: c.kind = text::TokenizerKind::WordPiece; break;
        case fb::TokenizerKind::ByteLevelBpe: c.kind = text::TokenizerKind::ByteLevelBpe; break;
        default:
          bad(TFC_INVALID_PLAN, format("unknown tokenizer kind %d", int(t->kind())));
        }
        c.vocabulary = p.vocabulary;
        c.lowercase = t->lowercase();
        c.stripAccents = t->strip_accents();
        c.handleChineseChars = t->handle_chinese_chars();
        c.cleanText = t->clean_text();
        c.continuingSubwordPrefix = str(t->continuing_subword_prefix());
        c.maxInputCharsPerWord = t->max_input_chars_per_word();
        c.unkToken = str(t->unk_token());
        c.clsToken = str(t->cls_token());
        c.sepToken = str(t->sep_token());
        c.padToken = str(t->pad_token());
        if (const auto *merges = t->merges())
          for (flatbuffers::uoffset_t i = 0; i < merges->size(); ++i)
            c.merges.push_back(str(merges->Get(i)));
        c.addPrefixSpace = t->add_prefix_space();
        c.maxLength = t->max_length();
        if (const auto *added = t->added_tokens())
          for (flatbuffers::uoffset_t i = 0; i < added->size(); ++i) {
            const fb::AddedToken *a = added->Get(i);
            text::AddedToken token;
            token.content = str(a->content());
            token.special = a->special();
            token.singleWord = a->single_word();
            token.lstrip = a->lstrip();
            token.rstrip = a->rstrip();
            token.normalized = a->normalized();
            c.addedTokens.push_back(std::move(token));
          }
        if (c.maxLength < 0)
          bad(TFC_INVALID_PLAN, format("tokenizer max_length %d is negative", c.maxLength));
        try {
          p.tokenizer = text::Tokenizer::create(std::move(c));
        } catch (const Error &e) {
          // The tokenizer's messages already start with "tokenizer: ".
          std::string what = e.what();
          bad(TFC_INVALID_PLAN, what.rfind("tokenizer: ", 0) == 0 ? what : "tokenizer: " + what);
        }
      }
      if (const fb::SpecialTokens *t = m->special_tokens()) {
        p.startId = t->start_id();
        p.endId = t->end_id();
        p.unkId = t->unk_id();
        p.padId = t->pad_id();
      }
    }
    if (const auto *syms = fbPlan_->symbols()) {
      for (flatbuffers::uoffset_t i = 0; i < syms->size(); ++i) {
        const fb::Symbol *s = syms->Get(i);
        SymbolDesc d{s->name()->str(), s->min(), s->max()};
        if (d.min < 0 || d.max < d.min)
          bad(TFC_INVALID_PLAN, format("symbol '%s' has bounds [%lld, %lld]", d.name.c_str(),
                                       (long long)d.min, (long long)d.max));
        p.symbols.push_back(std::move(d));
      }
    }
  }

  void decodeConstants() {
    const auto *consts = fbPlan_->constants();
    if (!consts)
      return;
    const uint8_t *weights = base_ + header_.weightsOffset;
    for (flatbuffers::uoffset_t i = 0; i < consts->size(); ++i) {
      const fb::Constant *c = consts->Get(i);
      ConstantDesc d;
      d.name = c->name()->str();
      auto badC = [&](const std::string &what) {
        bad(TFC_INVALID_PLAN, format("constant '%s': %s", d.name.c_str(), what.c_str()));
      };
      if (!knownDtype(int32_t(c->dtype())))
        badC(format("unknown dtype %d", int(c->dtype())));
      d.dtype = tfc_dtype(c->dtype());
      uint64_t bytes = dtypeSize(d.dtype);
      if (!aligned8(c->shape()))
        badC("its shape's 64-bit values are not 8-byte aligned (a corrupted FlatBuffer)");
      for (int64_t s : *c->shape()) {
        if (s < 0)
          badC(format("negative dim %lld in its shape", (long long)s));
        if (!mulOk(bytes, uint64_t(s), &bytes))
          badC("its shape's byte size overflows");
        d.shape.push_back(s);
      }
      if (c->size() != bytes)
        badC(format("size is %llu bytes but shape and dtype give %llu",
                    (unsigned long long)c->size(), (unsigned long long)bytes));
      if (c->offset() % fb::kPlanAlignment != 0)
        badC(format("offset %llu is not a multiple of 64", (unsigned long long)c->offset()));
      if (!fits(c->offset(), c->size(), header_.weightsSize))
        badC(format("bytes [%llu, +%llu) are outside the weight section (%llu bytes)",
                    (unsigned long long)c->offset(), (unsigned long long)c->size(),
                    (unsigned long long)header_.weightsSize));
      if (c->layout() && c->layout()->str() != "row_major" && !c->layout()->str().empty())
        badC(format("layout '%s' is not supported (row_major only)", c->layout()->c_str()));
      d.data = weights + c->offset();
      d.size = c->size();
      d.checksum = c->checksum(); // checked on first need (Plan::weightsProblem), not here
      plan_->constants.push_back(std::move(d));
    }
  }

  /// Plan.caches and Plan.generation (1.1; absent in 1.0 plans). The slots are checked here,
  /// their users in decodeFunction.
  void decodeGeneration() {
    Plan &p = *plan_;
    // The session allocates every slot for the bound of the batch symbol (1 without one).
    int64_t maxRows = 1;
    if (int b = tfc::support::batchSymbolIndex(p.symbols); b >= 0)
      maxRows = std::max<int64_t>(p.symbols[size_t(b)].max, 1);
    if (const auto *slots = fbPlan_->caches()) {
      for (flatbuffers::uoffset_t i = 0; i < slots->size(); ++i) {
        const fb::CacheSlot *c = slots->Get(i);
        CacheSlotDesc d;
        d.name = c->name() ? c->name()->str() : format("#%u", i);
        auto badS = [&](const std::string &what) {
          bad(TFC_INVALID_PLAN, format("cache slot '%s' (#%u): %s", d.name.c_str(), i,
                                       what.c_str()));
        };
        if (!fb::isKnownEnumValue(c->kind()))
          badS(format("unknown CacheKind %d", int(c->kind())));
        d.kind = c->kind();
        if (c->window() != 0)
          bad(TFC_UNSUPPORTED,
              format("cache slot '%s' (#%u): a sliding-window slot (window %lld) is not "
                     "supported by this runtime", d.name.c_str(), i, (long long)c->window()));
        d.numHeads = c->num_heads();
        d.headDim = c->head_dim();
        d.maxLength = c->max_length();
        if (!knownDtype(int32_t(c->dtype())))
          badS(format("unknown dtype %d", int(c->dtype())));
        d.dtype = tfc_dtype(c->dtype()); // (2.1)
        if (p.backend ? !p.backend->supportsCacheDtype(d.dtype)
                      : !(d.dtype == TFC_F32 || d.dtype == TFC_F16 || d.dtype == TFC_BF16))
          bad(TFC_UNSUPPORTED, format("cache slot '%s' (#%u): %s keys/values are not supported "
                                      "by this runtime's %s backend", d.name.c_str(), i,
                                      dtypeName(d.dtype),
                                      p.backend ? p.backend->name() : "(inspection only)"));
        if (d.numHeads < 1)
          badS(format("num_heads is %d", d.numHeads));
        if (d.headDim < 1)
          badS(format("head_dim is %d", d.headDim));
        if (d.maxLength < 1)
          badS(format("max_length is %lld", (long long)d.maxLength));
        uint64_t bytes = dtypeSize(d.dtype);
        if (!mulOk(bytes, uint64_t(maxRows), &bytes) ||
            !mulOk(bytes, uint64_t(d.numHeads), &bytes) ||
            !mulOk(bytes, uint64_t(d.maxLength), &bytes) ||
            !mulOk(bytes, uint64_t(d.headDim), &bytes) || bytes > (uint64_t(1) << 48))
          badS(format("%lld rows x %d heads x %lld positions x %d floats overflow the bytes a "
                      "cache can hold", (long long)maxRows, d.numHeads, (long long)d.maxLength,
                      d.headDim));
        p.caches.push_back(std::move(d));
      }
    }
    if (const fb::Generation *g = fbPlan_->generation()) {
      p.generation.present = true;
      p.generation.mode = str(g->mode());
      p.generation.reason = str(g->reason());
      p.generation.tokenInput = str(g->token_input());
      if (const auto *names = g->key_mask_inputs())
        for (flatbuffers::uoffset_t i = 0; i < names->size(); ++i)
          p.generation.keyMaskInputs.push_back(names->Get(i)->str());
    }
  }

  /// The cache checks of one kernel of `fn` (slots, kinds, heads, where it may appear).
  std::string checkCacheKernel(const FunctionDesc &fn, const KernelDesc &k) const {
    const Plan &p = *plan_;
    auto slotOf = [&](int64_t s, std::string &problem) -> const CacheSlotDesc * {
      if (s < 0 || s >= int64_t(p.caches.size())) {
        problem = format("cache slot %lld is out of range (the plan has %zu cache slots)",
                         (long long)s, p.caches.size());
        return nullptr;
      }
      return &p.caches[size_t(s)];
    };
    auto staticLastDim = [&](size_t i, int64_t *d) {
      const ValueDesc &v = fn.values[k.inputs[i]];
      if (v.rank < 1 || v.dims[v.rank - 1].symbol >= 0)
        return false;
      *d = v.dims[v.rank - 1].size;
      return true;
    };
    std::string problem;
    if (k.kind == KernelKind::CachedAttention) {
      if (fn.cacheOp != CacheOp::Prefill && fn.cacheOp != CacheOp::Append)
        return "CachedAttention may only appear in a Prefill or Append function (cache_op)";
      const fb::CachedAttentionOptionsT &o = options<fb::CachedAttentionOptionsT>(k);
      const CacheSlotDesc *slot = slotOf(o.slot, problem);
      if (!slot)
        return problem;
      if (slot->kind != o.cache_kind)
        return format("its CacheKind is %s but cache slot '%s' is %s",
                      fb::EnumNameCacheKind(o.cache_kind), slot->name.c_str(),
                      fb::EnumNameCacheKind(slot->kind));
      // The slot holds the key/value heads: num_kv_heads of them with grouped-query attention.
      const int32_t kvHeads = o.num_kv_heads > 0 ? o.num_kv_heads : o.num_heads;
      if (kvHeads != slot->numHeads)
        return o.num_kv_heads > 0
                   ? format("num_kv_heads is %d but cache slot '%s' has %d heads",
                            o.num_kv_heads, slot->name.c_str(), slot->numHeads)
                   : format("num_heads is %d but cache slot '%s' has %d heads", o.num_heads,
                            slot->name.c_str(), slot->numHeads);
      int64_t kvWidth = int64_t(slot->numHeads) * slot->headDim, d;
      for (size_t i = 0; i < 3; ++i) {
        // q has all num_heads heads; k and v the slot's.
        int64_t want = i == 0 ? int64_t(o.num_heads) * slot->headDim : kvWidth;
        if (hasInput(k, i) && staticLastDim(i, &d) && d != want)
          return format("input '%s' has last dim %lld, but cache slot '%s' holds %d heads x %d%s",
                        fn.values[k.inputs[i]].name.c_str(), (long long)d, slot->name.c_str(),
                        slot->numHeads, slot->headDim,
                        i == 0 && o.num_heads != slot->numHeads
                            ? format(" (for %d query heads)", o.num_heads).c_str()
                            : "");
      }
    } else if (k.kind == KernelKind::CacheStore) {
      if (fn.cacheOp != CacheOp::Encode)
        return "CacheStore may only appear in an Encode function (cache_op)";
      const CacheSlotDesc *slot = slotOf(options<fb::CacheStoreOptionsT>(k).slot, problem);
      if (!slot)
        return problem;
      if (slot->kind != CacheKind::Cross)
        return format("cache slot '%s' is Self; CacheStore writes Cross slots only",
                      slot->name.c_str());
      int64_t want = int64_t(slot->numHeads) * slot->headDim, d;
      for (size_t i = 0; i < 2; ++i)
        if (staticLastDim(i, &d) && d != want)
          return format("input '%s' has last dim %lld, but cache slot '%s' holds %d heads x %d",
                        fn.values[k.inputs[i]].name.c_str(), (long long)d, slot->name.c_str(),
                        slot->numHeads, slot->headDim);
    }
    return "";
  }

  void decodeFunction(const fb::Function *f) {
    FunctionDesc fn;
    fn.name = f->name()->str();
    fn.floatDtype = plan_->precision == "fp16"   ? TFC_F16
                    : plan_->precision == "bf16" ? TFC_BF16
                                                 : TFC_F32;
    fn.weightDtype = plan_->weightPrecision == "bf16"   ? TFC_BF16
                     : plan_->weightPrecision == "int8" ? TFC_I8
                                                        : TFC_F32;
    fn.arenaSize = f->arena_size();
    auto badF = [&](const std::string &what) {
      bad(TFC_INVALID_PLAN, format("function '%s': %s", fn.name.c_str(), what.c_str()));
    };
    if (plan_->findFunction(fn.name.c_str()))
      badF("defined twice");
    if (!fb::isKnownEnumValue(f->cache_op()))
      badF(format("unknown cache_op %d", int(f->cache_op())));
    fn.cacheOp = f->cache_op();
    if (fn.cacheOp != CacheOp::None && plan_->caches.empty())
      badF("uses the KV cache (cache_op) but the plan has no cache slots");
    const int64_t numValues = f->values()->size();
    const int64_t numSymbols = int64_t(plan_->symbols.size());

    // Values.
    for (flatbuffers::uoffset_t i = 0; i < f->values()->size(); ++i) {
      const fb::Value *v = f->values()->Get(i);
      ValueDesc d;
      d.name = v->name() ? v->name()->str() : format("%%%u", i);
      auto badV = [&](const std::string &what) {
        badF(format("value '%s' (#%u): %s", d.name.c_str(), i, what.c_str()));
      };
      if (!fb::isKnownEnumValue(v->kind()))
        badV(format("unknown value kind %d", int(v->kind())));
      d.kind = v->kind();
      if (!knownDtype(int32_t(v->dtype())))
        badV(format("unknown dtype %d", int(v->dtype())));
      d.dtype = tfc_dtype(v->dtype());
      if (v->dims()->size() > uint32_t(kMaxRank))
        badV(format("rank %u is above the runtime's limit of %d", v->dims()->size(), kMaxRank));
      d.rank = int32_t(v->dims()->size());
      if (!aligned8(v->dims()))
        badV("its dims (64-bit sizes) are not 8-byte aligned (a corrupted FlatBuffer)");
      uint64_t maxBytes = dtypeSize(d.dtype);
      for (int r = 0; r < d.rank; ++r) {
        const fb::Dim *dim = v->dims()->Get(r);
        d.dims[r].symbol = dim->symbol();
        d.dims[r].size = dim->size();
        int64_t maxSize;
        if (dim->symbol() >= 0) {
          if (dim->symbol() >= numSymbols)
            badV(format("dim %d refers to symbol %d, but the plan has %lld symbols", r,
                        dim->symbol(), (long long)numSymbols));
          maxSize = plan_->symbols[dim->symbol()].max;
        } else {
          if (dim->symbol() != -1 || dim->size() < 0)
            badV(format("dim %d is invalid (symbol %d, size %lld)", r, dim->symbol(),
                        (long long)dim->size()));
          maxSize = dim->size();
        }
        if (!mulOk(maxBytes, uint64_t(maxSize), &maxBytes))
          badV("its byte size at the symbols' bounds overflows");
      }
      d.maxBytes = maxBytes;
      d.arenaOffset = v->arena_offset();
      d.constant = v->constant();
      d.port = v->port();
      switch (d.kind) {
      case ValueKind::Intermediate:
        if (!fits(d.arenaOffset, d.maxBytes, fn.arenaSize))
          badV(format("arena bytes [%llu, +%llu) are outside the arena (%llu bytes)",
                      (unsigned long long)d.arenaOffset, (unsigned long long)d.maxBytes,
                      (unsigned long long)fn.arenaSize));
        break;
      case ValueKind::Constant: {
        if (d.constant < 0 || size_t(d.constant) >= plan_->constants.size())
          badV(format("refers to constant %d, but the plan has %zu constants", d.constant,
                      plan_->constants.size()));
        const ConstantDesc &c = plan_->constants[d.constant];
        bool same = c.dtype == d.dtype && int32_t(c.shape.size()) == d.rank;
        for (int r = 0; same && r < d.rank; ++r)
          same = d.dims[r].symbol < 0 && d.dims[r].size == c.shape[r];
        if (!same)
          badV(format("its dtype/shape differ from those of constant '%s' (%s)", c.name.c_str(),
                      dtypeName(c.dtype)));
        break;
      }
      case ValueKind::Input:
        if (d.port < 0 || d.port >= int32_t(f->inputs()->size()) ||
            f->inputs()->Get(d.port)->value() != int32_t(i))
          badV(format("is an input but not tied to input port %d", d.port));
        break;
      case ValueKind::Output:
        if (d.port < 0 || d.port >= int32_t(f->outputs()->size()) ||
            f->outputs()->Get(d.port)->value() != int32_t(i))
          badV(format("is an output but not tied to output port %d", d.port));
        break;
      }
      fn.values.push_back(std::move(d));
    }

    // Ports.
    auto decodePorts = [&](const flatbuffers::Vector<flatbuffers::Offset<fb::Port>> *ports,
                           ValueKind kind, std::vector<PortDesc> &out) {
      const char *what = kind == ValueKind::Input ? "input" : "output";
      for (flatbuffers::uoffset_t i = 0; i < ports->size(); ++i) {
        const fb::Port *p = ports->Get(i);
        PortDesc d{p->name()->str(), p->value()};
        if (d.value < 0 || d.value >= numValues)
          badF(format("%s '%s' refers to value %d, but the function has %lld values", what,
                      d.name.c_str(), d.value, (long long)numValues));
        const ValueDesc &v = fn.values[d.value];
        if (v.kind != kind || v.port != int32_t(i))
          badF(format("%s '%s' refers to value '%s', which is not %s port %u", what,
                      d.name.c_str(), v.name.c_str(), what, i));
        for (const PortDesc &o : out)
          if (o.name == d.name)
            badF(format("two %ss are named '%s'", what, d.name.c_str()));
        out.push_back(std::move(d));
      }
    };
    decodePorts(f->inputs(), ValueKind::Input, fn.inputs);
    decodePorts(f->outputs(), ValueKind::Output, fn.outputs);

    // Kernels.
    for (flatbuffers::uoffset_t i = 0; i < f->kernels()->size(); ++i) {
      const fb::Kernel *k = f->kernels()->Get(i);
      KernelDesc d;
      d.name = k->name() ? k->name()->str() : format("#%u", i);
      // The CPU table's operand counts are the schema's (docs/PLAN_FORMAT.md, "Kernels"):
      // they check a plan of any target; the backend's own row checks the rest.
      const KernelSpec *counts = kernelSpec(int32_t(k->kind()));
      if (!counts)
        badF(format("kernel '%s' (#%u) has unknown kind %d", d.name.c_str(), i, int(k->kind())));
      d.kind = k->kind();
      const char *kindName = kernelKindName(d.kind);
      auto badK = [&](const std::string &what, tfc_code code = TFC_INVALID_PLAN) {
        bad(code, format("function '%s': kernel '%s' (%s): %s", fn.name.c_str(), d.name.c_str(),
                         kindName, what.c_str()));
      };
      const KernelSpec *spec = plan_->backend ? plan_->backend->kernel(d.kind) : counts;
      if (!spec)
        badK(format("the %s backend has no %s kernel", plan_->backend->name(), kindName),
             TFC_UNSUPPORTED);
      d.inputs.assign(k->inputs()->begin(), k->inputs()->end());
      d.outputs.assign(k->outputs()->begin(), k->outputs()->end());
      // The options: the table of its kind (PlanKernels.h), decoded into the schema's own
      // object-API struct (the verifier has checked the table).
      fb::KernelOptions want = fb::kernelOptionsOf(d.kind);
      if (k->options_type() != want) {
        auto name = [](fb::KernelOptions t) {
          return t == fb::KernelOptions::NONE ? "none" : fb::kernelOptionsName(t);
        };
        badK(format("its options are %s; %s kernels take %s", name(k->options_type()), kindName,
                    name(want)));
      }
      if (want != fb::KernelOptions::NONE) {
        if (!k->options())
          badK(format("has no %s table", fb::kernelOptionsName(want)));
        if (const char *field = misalignedLongs(k))
          badK(format("its %s option's 64-bit values are not 8-byte aligned (a corrupted "
                      "FlatBuffer)", field));
        d.options.type = want;
        d.options.value = fb::KernelOptionsUnion::UnPack(k->options(), want, nullptr);
      }
      int ni = int(d.inputs.size()), no = int(d.outputs.size());
      if (ni < spec->minInputs || (spec->maxInputs >= 0 && ni > spec->maxInputs))
        badK(format("has %d inputs, expected %s", ni,
                    spec->maxInputs < 0 ? format("at least %d", spec->minInputs).c_str()
                    : spec->minInputs == spec->maxInputs
                        ? format("%d", spec->minInputs).c_str()
                        : format("%d to %d", spec->minInputs, spec->maxInputs).c_str()));
      if (no != spec->numOutputs)
        badK(format("has %d outputs, expected %d", no, spec->numOutputs));
      for (int j = 0; j < ni; ++j) {
        int32_t v = d.inputs[j];
        if (v == -1 && j >= spec->minInputs && spec->maxInputs >= 0)
          continue; // absent optional input
        if (v < 0 || v >= numValues)
          badK(format("input %d is value index %d, outside [0, %lld)", j, v, (long long)numValues));
      }
      for (int j = 0; j < no; ++j) {
        int32_t v = d.outputs[j];
        if (v < 0 || v >= numValues)
          badK(format("output %d is value index %d, outside [0, %lld)", j, v,
                      (long long)numValues));
        ValueKind kind = fn.values[v].kind;
        if (kind != ValueKind::Intermediate && kind != ValueKind::Output)
          badK(format("writes value '%s', which is an input or a constant",
                      fn.values[v].name.c_str()));
      }
      // What the schema declares but this runtime does not implement is named first: the
      // other checks would only see its consequences (e.g. k narrower than q).
      // (Inspection only: no backend's rules to check the kinds' dtypes and options against.)
      if (plan_->backend && spec->unsupported) {
        std::string problem = spec->unsupported(fn, d);
        if (!problem.empty())
          badK(problem, TFC_UNSUPPORTED);
      }
      if (plan_->backend && spec->check) {
        std::string problem = spec->check(fn, d);
        if (!problem.empty())
          badK(problem);
      }
      {
        std::string problem = checkCacheKernel(fn, d);
        if (!problem.empty())
          badK(problem);
      }
      fn.kernels.push_back(std::move(d));
    }
    // Every output is written by a kernel (outputs are fresh buffers on each run).
    for (const PortDesc &p : fn.outputs) {
      bool written = false;
      for (const KernelDesc &k : fn.kernels)
        for (int32_t o : k.outputs)
          written |= o == p.value;
      if (!written)
        badF(format("output '%s' (value '%s') is never written by a kernel", p.name.c_str(),
                    fn.values[p.value].name.c_str()));
    }
    // Prefill/Append runs take their length S from the token input.
    if (fn.cacheOp == CacheOp::Prefill || fn.cacheOp == CacheOp::Append) {
      const std::string &name = plan_->generation.tokenInput;
      if (name.empty())
        badF("uses the KV cache (Prefill/Append) but the plan names no generation.token_input");
      const PortDesc *port = nullptr;
      for (const PortDesc &pd : fn.inputs)
        if (pd.name == name)
          port = &pd;
      if (!port)
        badF(format("uses the KV cache (Prefill/Append) but has no input '%s' "
                    "(generation.token_input)", name.c_str()));
      if (fn.values[port->value].rank != 2)
        badF(format("token input '%s' has rank %d, expected 2 ([batch, seq])", name.c_str(),
                    fn.values[port->value].rank));
    }
    fn.inputRules = deriveInputRules(*plan_, fn);
    plan_->functions.push_back(std::move(fn));
  }
};

} // namespace

std::shared_ptr<const Plan> loadPlan(const char *path, bool verifyChecksums, bool anyTarget) {
  if (!path)
    throw Error(TFC_INVALID_ARGUMENT, "tfc_plan_open: path is NULL");
  return Loader(path, verifyChecksums, anyTarget).load();
}

} // namespace tfc::rt
