//===- AccuracyInputs.cpp - the accuracy check's inputs: generated, or --calibrate files -----===//
//
// See AccuracyCheck.h for what is generated and the calibration directory's layout. Only the
// plan's public description is read (tfc_plan_input_info, tfc_plan_input_values).
//
//===----------------------------------------------------------------------------------------===//
#include "AccuracyCheck.h"

#include "tfc/support/Npy.h"
#include "tfc/support/SymbolNames.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <random>

namespace tfc::accuracy {
namespace {

namespace fs = std::filesystem;
using tfc::tfrun::HostTensor;

bool contains(const std::string &s, const char *part) { return s.find(part) != std::string::npos; }

/// The ports of `function`'s inputs with their value rules.
struct Port {
  tfc_port_info info;
  tfc_input_values rule;
  std::string name;
};

Status take(tfc_status *s) {
  if (!s)
    return Status::success();
  std::string m = tfc_status_message(s);
  tfc_status_free(s);
  return Status::failure(m);
}

Status inputPorts(tfc_plan *plan, const std::string &function, std::vector<Port> &ports) {
  size_t inputs = 0, outputs = 0;
  if (Status s = take(tfc_plan_num_ports(plan, function.c_str(), &inputs, &outputs)); !s.ok())
    return s;
  for (size_t i = 0; i < inputs; ++i) {
    Port p{};
    if (Status s = take(tfc_plan_input_info(plan, function.c_str(), i, &p.info)); !s.ok())
      return s;
    if (Status s = take(tfc_plan_input_values(plan, function.c_str(), i, &p.rule)); !s.ok())
      return s;
    p.name = p.info.name ? p.info.name : "";
    ports.push_back(p);
  }
  return Status::success();
}

/// The size of a symbolic dim in a generated set: `batch` for batch symbols, `seq` for the
/// others, within the symbol's bounds.
int64_t symbolSize(const tfc_dim_info &d, int64_t batch, int64_t seq) {
  int64_t want = tfc::support::isBatchSymbolName(d.symbol) ? batch : seq;
  if (d.max >= 0)
    want = std::min(want, d.max);
  return std::max(want, std::max<int64_t>(d.min, 0));
}

template <typename T> void store(HostTensor &t, const std::vector<double> &values) {
  auto *p = reinterpret_cast<T *>(t.data.data());
  for (size_t i = 0; i < values.size(); ++i)
    p[i] = static_cast<T>(values[i]);
}

size_t elementSize(tfc_dtype d) { return tfc_dtype_size(d); }

/// One generated input: see AccuracyCheck.h.
HostTensor generate(const Port &port, int64_t batch, int64_t seq, std::mt19937_64 &rng) {
  HostTensor t;
  t.name = port.name;
  t.dtype = port.info.dtype;
  for (int32_t i = 0; i < port.info.rank && i < TFC_MAX_RANK; ++i) {
    const tfc_dim_info &d = port.info.dims[i];
    t.dims.push_back(d.symbol ? symbolSize(d, batch, seq) : std::max<int64_t>(d.size, 0));
  }
  const int64_t n = t.numElements();
  const int64_t rows = t.dims.empty() ? 1 : t.dims.front();
  const int64_t last = t.dims.empty() ? 1 : std::max<int64_t>(t.dims.back(), 1);
  const int64_t perRow = rows > 0 ? n / rows : 0;
  const bool isFloat = t.dtype == TFC_F32 || t.dtype == TFC_F16 || t.dtype == TFC_BF16;
  const bool isMask = port.rule.kind == TFC_INPUT_MASK || contains(t.name, "mask");
  const bool isIds = port.rule.kind == TFC_INPUT_IDS && port.rule.id_bound > 0;
  std::vector<double> values(size_t(n), 0.0);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t row = perRow > 0 ? i / perRow : 0, pos = i % last;
    double &v = values[size_t(i)];
    if (isMask) // rows after the first: the last third padded
      v = row >= 1 && t.dims.size() >= 2 && pos >= last - last / 3 ? 0.0 : 1.0;
    else if (contains(t.name, "position"))
      v = double(isIds ? pos % port.rule.id_bound : pos);
    else if (isIds)
      v = double(rng() % uint64_t(port.rule.id_bound));
    else if (isFloat)
      v = double(int64_t(rng() % 2000) - 1000) / 1000.0;
    // other integer and bool inputs: 0
  }
  t.data.assign(size_t(n) * elementSize(t.dtype), 0);
  switch (t.dtype) {
  case TFC_I64: store<int64_t>(t, values); break;
  case TFC_I32: store<int32_t>(t, values); break;
  case TFC_I8: store<int8_t>(t, values); break;
  case TFC_BOOL: store<uint8_t>(t, values); break;
  case TFC_F32: store<float>(t, values); break;
  case TFC_F16:
  case TFC_BF16:
    // Float inputs are f32 in every plan; a half input is only filled for masks (1.0).
    for (int64_t i = 0; i < n; ++i) {
      uint16_t bits = values[size_t(i)] == 1.0 ? (t.dtype == TFC_F16 ? 0x3c00 : 0x3f80) : 0;
      std::memcpy(t.data.data() + 2 * i, &bits, 2);
    }
    break;
  }
  return t;
}

Status generatedSets(const std::vector<Port> &ports, uint64_t seed, std::vector<InputSet> &sets) {
  struct Geometry {
    const char *name;
    int64_t batch, seq;
  };
  std::mt19937_64 rng(seed);
  for (Geometry g : {Geometry{"generated-batch", 2, 64}, Geometry{"generated-short", 1, 5}}) {
    InputSet set;
    set.name = g.name;
    for (const Port &p : ports)
      set.tensors.push_back(generate(p, g.batch, g.seq, rng));
    sets.push_back(std::move(set));
  }
  return Status::success();
}

std::string dimsText(const std::vector<int64_t> &dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i)
    s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

std::string portText(const tfc_port_info &p) {
  std::string s = std::string(tfc_dtype_name(p.dtype)) + " [";
  for (int32_t i = 0; i < p.rank; ++i) {
    const tfc_dim_info &d = p.dims[i];
    s += (i ? ", " : "") + (d.symbol ? std::string(d.symbol) + " <= " + std::to_string(d.max)
                                     : std::to_string(d.size));
  }
  return s + "]";
}

/// What the runtime would refuse, checked here so that the message names the file.
Status checkAgainstPort(const std::string &file, const Port &port, const HostTensor &t) {
  const tfc_port_info &p = port.info;
  std::string want = "; the plan's input '" + port.name + "' is " + portText(p);
  if (t.dtype != p.dtype)
    return Status::failure(file + ": holds " + tfc_dtype_name(t.dtype) + " " + dimsText(t.dims) +
                         want);
  if (int32_t(t.dims.size()) != p.rank)
    return Status::failure(file + ": has rank " + std::to_string(t.dims.size()) + " " +
                         dimsText(t.dims) + want);
  for (int32_t i = 0; i < p.rank; ++i) {
    const tfc_dim_info &d = p.dims[i];
    const int64_t v = t.dims[size_t(i)];
    bool fits = d.symbol ? v >= d.min && v <= d.max : v == d.size;
    if (!fits)
      return Status::failure(file + ": dim " + std::to_string(i) + " is " + std::to_string(v) +
                           want);
  }
  return Status::success();
}

Status readSet(const fs::path &dir, const std::vector<Port> &ports, const std::string &function,
               InputSet &set) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto &e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".npy" && !e.is_directory())
      files.push_back(e.path());
  if (ec)
    return Status::failure("--calibrate " + dir.string() + ": " + ec.message());
  std::sort(files.begin(), files.end());
  std::string names;
  for (const Port &p : ports)
    names += (names.empty() ? "" : ", ") + p.name;
  set.name = dir.string();
  for (const fs::path &f : files) {
    const std::string stem = f.stem().string();
    auto port = std::find_if(ports.begin(), ports.end(), [&](const Port &p) { return p.name == stem; });
    if (port == ports.end())
      return Status::failure(f.string() + ": no input of " + function + " is named '" + stem +
                           "' (its inputs: " + names + ")");
    tfc::support::NpyArray a;
    if (Status s = tfc::support::readNpy(f.string(), a); !s.ok())
      return s;
    HostTensor t;
    if (Status s = tfc::tfrun::tensorFromNpy(stem, f.string(), std::move(a), t); !s.ok())
      return s;
    if (Status s = checkAgainstPort(f.string(), *port, t); !s.ok())
      return s;
    set.tensors.push_back(std::move(t));
  }
  for (const Port &p : ports)
    if (std::none_of(set.tensors.begin(), set.tensors.end(),
                     [&](const HostTensor &t) { return t.name == p.name; }))
      return Status::failure("--calibrate set " + dir.string() + ": no file for input '" + p.name +
                           "' (expected " + (dir / (p.name + ".npy")).string() + ")");
  return Status::success();
}

Status calibrationSets(const std::string &root, const std::vector<Port> &ports,
                       const std::string &function, std::vector<InputSet> &sets) {
  std::error_code ec;
  if (!fs::is_directory(root, ec))
    return Status::failure("--calibrate " + root + ": not a directory");
  std::vector<fs::path> dirs;
  bool npyHere = false;
  for (const auto &e : fs::directory_iterator(root, ec)) {
    if (e.is_directory())
      dirs.push_back(e.path());
    else if (e.path().extension() == ".npy")
      npyHere = true;
  }
  if (ec)
    return Status::failure("--calibrate " + root + ": " + ec.message());
  if (npyHere && !dirs.empty())
    return Status::failure("--calibrate " + root + ": holds both .npy files and subdirectories; "
                         "put each set of inputs in a subdirectory of its own");
  if (npyHere)
    dirs = {fs::path(root)};
  if (dirs.empty())
    return Status::failure("--calibrate " + root + ": no .npy files (expected " + root +
                         "/<set>/<input>.npy or " + root + "/<input>.npy)");
  std::sort(dirs.begin(), dirs.end());
  for (const fs::path &d : dirs) {
    InputSet set;
    if (Status s = readSet(d, ports, function, set); !s.ok())
      return s;
    sets.push_back(std::move(set));
  }
  return Status::success();
}

} // namespace

Status generateInputs(tfc_plan *plan, const std::string &function, int64_t batch, int64_t seq,
                      uint64_t seed, const std::string &skip,
                      std::vector<tfc::tfrun::HostTensor> &out) {
  std::vector<Port> ports;
  if (Status s = inputPorts(plan, function, ports); !s.ok())
    return s;
  std::mt19937_64 rng(seed);
  for (const Port &p : ports)
    if (p.name != skip)
      out.push_back(generate(p, batch, seq, rng));
  return Status::success();
}

Status makeInputSets(tfc_plan *plan, const std::string &function, const Options &options,
                     std::vector<InputSet> &sets) {
  std::vector<Port> ports;
  if (Status s = inputPorts(plan, function, ports); !s.ok())
    return s;
  if (options.calibrateDir.empty())
    return generatedSets(ports, options.seed, sets);
  return calibrationSets(options.calibrateDir, ports, function, sets);
}

} // namespace tfc::accuracy
