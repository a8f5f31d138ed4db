//===- FrontendInternal.h - helpers shared by the fbs frontend's files -*- C++ -*-===//
//
// Private to frontends/fbs/lib: message formatting and the validation steps
// that ModelReader.cpp chains together. Every function reports the first
// problem it finds as "<file>: <what>" and never throws.
//
//===----------------------------------------------------------------------===//
#ifndef TFC_FRONTENDS_FBS_FRONTENDINTERNAL_H
#define TFC_FRONTENDS_FBS_FRONTENDINTERNAL_H

#include "tfc/frontends/FbsFrontend.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/Twine.h"

#include <string>

namespace tfc::model {
struct Hyperparameters;
} // namespace tfc::model

namespace tfc::fbs {

/// A failed Status reading "<file>: <message>".
inline Status fail(const std::string &file, const llvm::Twine &message) {
  return Status{file + ": " + message.str()};
}

/// "[64x128]" ("[]" for a scalar), the shape notation of every message.
std::string formatShape(llvm::ArrayRef<int64_t> shape);

/// "1e-05", "nan": a float as messages print it.
std::string formatFloat(double value);

/// Decodes the FlatBuffer hyperparameters (enum values must be known) and
/// checks their ranges (HyperparameterRules.cpp).
Status readHyperparameters(const tfc::model::Hyperparameters &table, const std::string &file,
                           Hyperparameters &out);

/// The range rules of docs/MODEL_FORMAT.md on decoded hyperparameters.
Status checkHyperparameters(const Hyperparameters &hp, const std::string &file);

/// Every required weight present with its exact shape, no weight outside the
/// convention (WeightConvention.cpp).
Status checkWeightConvention(const Model &model);

} // namespace tfc::fbs

#endif // TFC_FRONTENDS_FBS_FRONTENDINTERNAL_H
