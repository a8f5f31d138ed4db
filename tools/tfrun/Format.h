//===- Format.h - tfrun's text output: describe, summaries, timings --------===//
//
// Pure formatting over plain data (no runtime call), so that every layout is
// testable without a plan.
//
//===----------------------------------------------------------------------===//
#ifndef TFC_TOOLS_TFRUN_FORMAT_H
#define TFC_TOOLS_TFRUN_FORMAT_H

#include "tfc/tfc_runtime.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tfc::tfrun {

/// "f32", "i64", "bool", ... (the runtime's spelling).
const char *dtypeName(tfc_dtype dtype);
/// "[2, 7, 64]".
std::string formatDims(const std::vector<int64_t> &dims);
/// "input_ids: i64 [batch, seq]".
std::string formatPort(const tfc_port_info &port);

/// What --describe prints: collected from the C API by the caller.
struct FunctionDescription {
  std::string name;
  uint64_t arenaBytes = 0;
  std::vector<tfc_port_info> inputs, outputs;
};
struct PlanDescription {
  std::string path;
  tfc_plan_info info{};
  std::string precision; // tfc_plan_precision
  std::string weightPrecision; // tfc_plan_weight_precision
  std::string runnable;  // "" when this runtime runs the plan's target, else why not
  std::vector<FunctionDescription> functions;
};
std::string formatDescription(const PlanDescription &plan);

/// "name: f32 [1, 7, 64]" then the first values and min/max/mean (NaNs counted).
std::string formatTensorSummary(const std::string &name, tfc_dtype dtype,
                                const std::vector<int64_t> &dims, const void *data);

/// Latency over the timed runs (milliseconds), nearest-rank percentiles.
struct LatencyStats {
  size_t runs = 0;
  double min = 0, p50 = 0, p90 = 0, max = 0, mean = 0;
};
LatencyStats computeLatency(std::vector<double> ms);
std::string formatLatency(const LatencyStats &stats, int warmup);

/// One kernel's time; aggregateProfile merges entries of the same kind and name
/// and sorts by total time, largest first (ties by kind, then name).
struct KernelTime {
  std::string kind, name;
  uint64_t calls = 0;
  double totalMs = 0;
};
std::vector<KernelTime> aggregateProfile(const std::vector<KernelTime> &entries);
/// The per-kernel table (with share of the total), then totals per kind.
std::string formatProfile(const std::vector<KernelTime> &aggregated, int runs);

} // namespace tfc::tfrun

#endif // TFC_TOOLS_TFRUN_FORMAT_H
