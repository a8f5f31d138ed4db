//===- Architecture.cpp - what a family's hyperparameters imply ------------===//
//
// Counts of attention blocks and layer norms (what the fusion passes should
// find), the family names used in attributes and messages, and the element
// count of a stored weight.
//
//===----------------------------------------------------------------------===//
#include "tfc/frontends/FbsFrontend.h"

namespace tfc::fbs {

ArchitectureCounts countArchitecture(const Hyperparameters &hp) {
  ArchitectureCounts c;
  // Stacks: (layers, has cross-attention).
  int64_t encoderLayers = hp.family == Family::Decoder ? 0 : hp.numLayers;
  int64_t decoderLayers = hp.family == Family::Decoder          ? hp.numLayers
                          : hp.family == Family::EncoderDecoder ? hp.numDecoderLayers
                                                                : 0;
  bool cross = hp.family == Family::EncoderDecoder;
  int64_t stacks = cross ? 2 : 1;

  c.attention = encoderLayers + decoderLayers * (cross ? 2 : 1);
  // A parallel block (never with cross-attention) has one norm.
  int64_t perLayer = hp.normPlacement == NormPlacement::Parallel ? 1 : 2;
  int64_t norms = encoderLayers * perLayer + decoderLayers * (cross ? 3 : perLayer);
  // The embedding norm is applied once per stack that embeds tokens; the
  // final norm closes every stack.
  if (hp.embeddingNorm)
    norms += stacks;
  if (hp.finalNorm)
    norms += stacks;
  (hp.normKind == NormKind::RmsNorm ? c.rmsNorm : c.layerNorm) = norms;
  return c;
}

const char *familyAttrName(Family family) {
  switch (family) {
  case Family::Encoder:
    return "encoder";
  case Family::Decoder:
    return "decoder";
  case Family::EncoderDecoder:
    return "encoder_decoder";
  case Family::Classifier:
    return "classifier";
  }
  return "unknown";
}

const char *familySchemaName(Family family) {
  switch (family) {
  case Family::Encoder:
    return "Encoder";
  case Family::Decoder:
    return "Decoder";
  case Family::EncoderDecoder:
    return "EncoderDecoder";
  case Family::Classifier:
    return "Classifier";
  }
  return "unknown";
}

/// The product of the dims; -1 when a dim is negative or the product
/// overflows (a validated weight never does either).
int64_t Weight::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    if (d < 0 || __builtin_mul_overflow(n, d, &n))
      return -1;
  return n;
}

} // namespace tfc::fbs
