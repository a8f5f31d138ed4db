//===- FoldedWeights.h - weight bytes for the constant folder ---*- C++ -*-===//
//
// tfc-fold-constants (FoldConstants.cpp) evaluates ops whose operands are all
// constants at compile time. `tfc.constant` carries its data in the IR; a
// `tfc.weight` names data the IR does not hold. FoldedWeights is how the
// folder reads those bytes (a lookup into the model file or the ONNX weight
// store, given by the driver) and where it puts what it derives from them (the
// transposed tied LM head, the slices of a packed in-projection, ...): a new
// `tfc.weight` named after the op's location (`lm_head/transpose`) whose bytes
// live here. The driver's weight lookup for the plan consults derived()
// first, so the derived data lands in the plan's constant section like any
// model weight. Without a FoldedWeights (tfc-opt), weights are opaque and only
// ops on `tfc.constant`s are folded.
//
//===----------------------------------------------------------------------===//
#ifndef TFC_COMPILER_PASSES_FOLDEDWEIGHTS_H
#define TFC_COMPILER_PASSES_FOLDEDWEIGHTS_H

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mlir::tfc {

class FoldedWeights {
public:
  /// A weight's data: f32, row-major, `shape`; `bytes` points at product(shape) floats that
  /// stay valid as long as `owner` (or the model) lives.
  struct Data {
    std::vector<int64_t> shape;
    const uint8_t *bytes = nullptr;
    std::shared_ptr<const std::vector<uint8_t>> owner;  // holds `bytes` (may be null)
  };
  /// Finds the model weight `name`; false when the model has none.
  using Lookup = std::function<bool(const std::string &name, Data &out)>;

  /// A derived weight: f32, row-major.
  struct Derived {
    std::vector<int64_t> shape;
    std::shared_ptr<const std::vector<uint8_t>> bytes;
  };

  explicit FoldedWeights(Lookup lookup) : lookup(std::move(lookup)) {}

  /// The data of weight `name` (a derived one or the model's); false when neither exists.
  bool find(const std::string &name, Data &out) const;

  /// Stores a derived weight under a name made from `base` that names no model or derived
  /// weight yet (`base`, else `base.1`, `base.2`, ...); returns that name.
  std::string add(const std::string &base, std::vector<int64_t> shape,
                  std::shared_ptr<const std::vector<uint8_t>> bytes);

  /// Every derived weight by name.
  const std::map<std::string, Derived> &derived() const { return derivedWeights; }

private:
  Lookup lookup;
  std::map<std::string, Derived> derivedWeights;
};

} // namespace mlir::tfc

#endif // TFC_COMPILER_PASSES_FOLDEDWEIGHTS_H
