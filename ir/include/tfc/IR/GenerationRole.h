//===- GenerationRole.h - what an op does to the sequence axis, for KV-cache derivation -*- C++ -*-===//
//
// compiler/generation/ derives a generative model's step functions (prefill, decode_step,
// encode) from its full-sequence @forward by proving that every op outside attention is
// position-wise. Every value gets a role:
//   Fixed     does not depend on the token sequence (weights, the encoder side);
//   Meta      small integer data computed from the sequence's *length* (tfc.shape chains);
//   Token     has a sequence axis indexed by query position (position t depends on tokens <= t
//             only through attention);
//   Position  has a sequence axis indexed by absolute position: a slice [0, T) of a table;
//   Key       has a sequence axis indexed by key position (an attention mask input).
// Each op declares, through `GenerationRoleOpInterface` (TfcInterfaces.td, rules in
// TfcGenerationRoles.cpp), which operand roles and axes it accepts and which role its result
// has; an op whose operands are all Fixed is Fixed without asking it, and an op without the
// interface stops the derivation ("is not known to be position-wise").
//
// GenerationRoleContext is what a rule may ask of the derivation: the roles found so far, the
// operands' symbolic shapes, and where to record the ops the step functions rewrite.
//
//===----------------------------------------------------------------------===//
#ifndef TFC_IR_GENERATIONROLE_H
#define TFC_IR_GENERATIONROLE_H

#include "tfc/IR/SymbolicShape.h"

#include "mlir/IR/Operation.h"

#include <string>

namespace mlir::tfc {

enum class SequenceRole { Fixed, Meta, Token, Position, Key };

struct SequenceInfo {
  SequenceRole role = SequenceRole::Fixed;
  int64_t axis = -1;  // the sequence axis (Token, Position, Key)
  bool hasAxis() const {
    return role == SequenceRole::Token || role == SequenceRole::Position ||
           role == SequenceRole::Key;
  }
};

/// The ops the step functions change, as a rule finds them.
enum class StepRewrite {
  SelfAttention,      // a causal self-attention: a tfc.cached_attention appending to a slot
  CrossAttention,     // attention over Fixed keys/values: a slot @encode fills
  PositionSlice,      // a slice [0, seq) of a table: shifted by the cached positions
  PositionEmbedding,  // an embedding's position rows: shifted by the cached positions
};

class GenerationRoleContext {
public:
  virtual ~GenerationRoleContext() = default;

  /// The role found for `value` (Fixed when none was recorded).
  virtual SequenceInfo role(Value value) const = 0;
  virtual void setRole(Value value, SequenceInfo info) = 0;
  /// Stops the derivation: "'<op>' at '<location>' <why>". Returns false.
  virtual bool fail(Operation *op, const std::string &why) = 0;
  /// Records that the step functions rewrite `op` (`axisIndex`: PositionSlice's index into
  /// the slice's axes).
  virtual void noteRewrite(Operation *op, StepRewrite kind, int64_t axisIndex = -1) = 0;

  /// The symbolic shape / contents the shape analysis found (null when unknown).
  virtual const SymShape *shape(Value value) const = 0;
  virtual const SymContents *contents(Value value) const = 0;
  /// The index of the sequence symbol (the logits' axis 1).
  virtual int32_t sequenceSymbol() const = 0;

  bool isSequence(const SymExpr &e) const {
    return e.isSymbol() && e.powers.begin()->first == sequenceSymbol();
  }
  bool mentionsSequence(const SymExpr &e) const {
    return !e.known || e.powers.count(sequenceSymbol());
  }
  /// Whether some operand of `op` has a sequence axis (else its operands are Fixed or Meta).
  bool anySequenceAxis(Operation *op) const;
  /// Sets every result of `op` to `info`; true.
  bool setResults(Operation *op, SequenceInfo info);
};

/// The rule of elementwise ops (and of any op on sequence-length data only): the sequence axes
/// of the operands must line up (right-aligned broadcasting), query-indexed data never meets
/// key-indexed data, and sequence-length data stays scalar or 1-D.
bool elementwiseGenerationRole(Operation *op, GenerationRoleContext &ctx);

} // namespace mlir::tfc

#endif // TFC_IR_GENERATIONROLE_H
