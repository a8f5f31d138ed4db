//===- SequenceLoops.cpp - torch's repeat_interleave loop -> Unsqueeze + Expand + Reshape ===//
//
// tfc has no sequences and no control flow. The one Loop / sequence form it imports is the
// one torch.onnx (opset 13+) writes for torch.repeat_interleave(x, repeats, dim) (GPT-J's
// rotary tables: repeat_interleave(sin[:, :, None, :], 2, 3)):
//
//   xs = SplitToSequence(x, ones, axis=a)          slices of x, each 1 wide on axis a
//   rs = SplitToSequence(R, ones, axis=0)          the repeats, one [1] tensor each
//   L  = Loop(M, cond, SequenceEmpty()) body(i, c, seq):
//          xi = Unsqueeze(SequenceAt(xs, i), [a + 1])
//          T  = Concat(head, SequenceAt(rs, i), tail)           the expand target
//          T' = Where(Equal(T, ConstantOfShape(Shape(T), 1) * -1), ConstantOfShape(..), T)
//               (torch's -1 -> 1 guard; or T itself when it holds no -1)
//          seq' = SequenceInsert(seq, Reshape(Expand(xi, T'), C))
//          c'   = Cast(true) | Identity(c) | c
//   y  = ConcatFromSequence(L, axis=a)
//
// planSequences finds these groups in the graph before the import, structurally: every node
// of the body must be one of the above (or a Constant they read), every sequence must be read
// only where the form reads it. At the ConcatFromSequence the importer then checks the values
// (Importer::importRepeatInterleave): R constant with all entries equal to r, M and the split
// sizes matching x's dim a, the loop condition constantly true, the expand target broadcasting
// each slice only along the new axis, and the reshape giving the slice with r on axis a. The
// group is then repeat_interleave(x, r, a), imported as
//   Reshape(Expand(Unsqueeze(x, [a + 1]), [1.., r, 1..]), x's dims with d_a * r)
// through the ordinary op importers (so a constant x folds at import time). Every other
// sequence or Loop node stays "not supported", with the reason.
//
//===----------------------------------------------------------------------===//
#include "OnnxInternal.h"

#include <set>

namespace tfc::onnxfe {
namespace {

const std::set<std::string> &sequenceOps() {
  static const std::set<std::string> ops = {
      "SplitToSequence", "SequenceEmpty",     "SequenceAt",  "SequenceInsert",
      "SequenceErase",   "SequenceLength",    "SequenceConstruct", "SequenceMap",
      "ConcatFromSequence", "Loop"};
  return ops;
}

/// Whether every attribute of `n` is one of `allowed`.
bool onlyAttributes(const onnx::NodeProto &n, std::initializer_list<const char *> allowed) {
  for (const auto &a : n.attribute())
    if (std::none_of(allowed.begin(), allowed.end(),
                     [&](const char *name) { return a.name() == name; }))
      return false;
  return true;
}

/// Uses of each value name in `g`: node inputs (also those of nested graphs that read `g`'s
/// values) and graph outputs.
void countUses(const onnx::GraphProto &g, std::map<std::string, int> &uses) {
  for (const auto &n : g.node()) {
    for (const auto &i : n.input())
      if (!i.empty())
        ++uses[i];
    for (const auto &a : n.attribute())
      if (a.has_g()) {
        // Names the body reads from outside (not defined in it).
        std::set<std::string> local;
        for (const auto &i : a.g().input())
          local.insert(i.name());
        for (const auto &t : a.g().initializer())
          local.insert(t.name());
        for (const auto &bn : a.g().node())
          for (const auto &o : bn.output())
            local.insert(o);
        std::map<std::string, int> inner;
        countUses(a.g(), inner);
        for (const auto &[name, count] : inner)
          if (!local.count(name))
            uses[name] += count;
      }
  }
  for (const auto &o : g.output())
    ++uses[o.name()];
}

/// The structural match of one group, anchored at a ConcatFromSequence.
class LoopMatcher {
public:
  LoopMatcher(Importer &im, const std::map<std::string, const onnx::NodeProto *> &producer,
              const std::map<std::string, int> &uses)
      : im(im), producer(producer), uses(uses) {}

  /// The group of `concat`, or the reason it is not one; `involved` gets the sequence nodes
  /// found on the way (they share the reason).
  std::optional<RepeatInterleaveLoop> match(const onnx::NodeProto &concat, std::string &why,
                                            std::vector<const onnx::NodeProto *> &involved);

private:
  const onnx::NodeProto *producerOf(const std::string &name) const {
    auto it = producer.find(name);
    return it == producer.end() ? nullptr : it->second;
  }
  int usesOf(const std::string &name) const {
    auto it = uses.find(name);
    return it == uses.end() ? 0 : it->second;
  }
  bool matchBody(const onnx::GraphProto &body, RepeatInterleaveLoop &l, std::string &why,
                 std::string &seqX, std::string &seqR);

  Importer &im;
  const std::map<std::string, const onnx::NodeProto *> &producer;
  const std::map<std::string, int> &uses;
};

std::optional<RepeatInterleaveLoop>
LoopMatcher::match(const onnx::NodeProto &concat, std::string &why,
                   std::vector<const onnx::NodeProto *> &involved) {
  auto reject = [&](const std::string &w) {
    why = w;
    return std::nullopt;
  };
  RepeatInterleaveLoop l;
  l.concat = &concat;
  if (concat.input_size() != 1 || concat.output_size() != 1 ||
      !onlyAttributes(concat, {"axis", "new_axis"}) || !im.attr(concat, "axis"))
    return reject("the ConcatFromSequence does not have one input, one output and an 'axis'");
  if (im.attrInt(concat, "new_axis", 0) != 0)
    return reject("the ConcatFromSequence stacks on a new axis (new_axis = 1)");
  l.concatAxis = im.attrInt(concat, "axis", 0);
  const onnx::NodeProto *loop = producerOf(concat.input(0));
  if (!loop || loop->op_type() != "Loop")
    return reject("the ConcatFromSequence does not read a Loop's output");
  involved.push_back(loop);
  l.loop = loop;
  if (loop->input_size() != 3 || loop->output_size() != 1 || loop->input(0).empty() ||
      !onlyAttributes(*loop, {"body"}) || !im.attr(*loop, "body") ||
      !im.attr(*loop, "body")->has_g())
    return reject("the Loop does not have the inputs (trip count, condition, one sequence), "
                  "the one output and the body of the form");
  if (usesOf(loop->output(0)) != 1)
    return reject("the Loop's sequence is read by more than the ConcatFromSequence");
  l.tripCount = loop->input(0);
  l.cond = loop->input(1);
  const onnx::NodeProto *empty = producerOf(loop->input(2));
  if (!empty || empty->op_type() != "SequenceEmpty" || empty->input_size() != 0 ||
      !onlyAttributes(*empty, {"dtype"}))
    return reject("the Loop's sequence does not start as a SequenceEmpty");
  involved.push_back(empty);
  l.empty = empty;
  if (usesOf(empty->output(0)) != 1)
    return reject("the SequenceEmpty is read by more than the Loop");

  std::string seqX, seqR;
  if (!matchBody(im.attr(*loop, "body")->g(), l, why, seqX, seqR)) {
    // The sequences the body reads share the reason.
    for (const auto &n : im.attr(*loop, "body")->g().node())
      for (const auto &i : n.input())
        if (const onnx::NodeProto *p = producerOf(i); p && p->op_type() == "SplitToSequence")
          involved.push_back(p);
    return std::nullopt;
  }
  // The two sequences: SplitToSequence nodes of the graph read only by the body.
  const onnx::NodeProto *splits[2] = {producerOf(seqX), producerOf(seqR)};
  for (const onnx::NodeProto *s : splits)
    if (s && s->op_type() == "SplitToSequence")
      involved.push_back(s);
  for (int k = 0; k < 2; ++k) {
    const onnx::NodeProto *s = splits[k];
    if (!s || s->op_type() != "SplitToSequence" || s->input_size() < 1 || s->input_size() > 2 ||
        s->output_size() != 1 || !onlyAttributes(*s, {"axis", "keepdims"}))
      return reject(std::string("the sequence of ") + (k ? "repeats" : "slices") +
                    " the body reads is not a SplitToSequence's output");
    if (usesOf(s->output(0)) != 1)
      return reject("the SplitToSequence's sequence is read by more than the Loop body");
  }
  if (splits[0] == splits[1])
    return reject("the body reads its slices and its repeats from the same sequence");
  l.splitX = splits[0];
  l.splitR = splits[1];
  return l;
}

bool LoopMatcher::matchBody(const onnx::GraphProto &body, RepeatInterleaveLoop &l,
                            std::string &why, std::string &seqX, std::string &seqR) {
  auto reject = [&](const std::string &w) {
    why = "the Loop body " + w;
    return false;
  };
  if (body.input_size() != 3 || body.output_size() != 2 || body.initializer_size() != 0 ||
      body.sparse_initializer_size() != 0)
    return reject("does not have the inputs (iteration, condition, sequence) and outputs "
                  "(condition, sequence) of the form");
  const std::string &iter = body.input(0).name(), &condIn = body.input(1).name(),
                    &seqIn = body.input(2).name();
  std::map<std::string, const onnx::NodeProto *> local;
  for (const auto &n : body.node()) {
    if (!n.domain().empty() && n.domain() != "ai.onnx")
      return reject("has a node in domain '" + n.domain() + "'");
    for (const auto &o : n.output())
      local[o] = &n;
  }
  std::set<const onnx::NodeProto *> matched;
  // A node of the body of type `op` producing `name` (taken into `matched`).
  auto node = [&](const std::string &name, const char *op) -> const onnx::NodeProto * {
    auto it = local.find(name);
    if (it == local.end() || it->second->op_type() != op)
      return nullptr;
    matched.insert(it->second);
    return it->second;
  };
  // A constant of the body (a Constant node with 'value') or a name of the graph (checked to
  // be a constant at import time).
  auto constant = [&](const std::string &name) -> bool {
    auto it = local.find(name);
    if (it == local.end())
      return name != iter && name != condIn && name != seqIn && !name.empty();
    const onnx::NodeProto &c = *it->second;
    const auto *v = im.attr(c, "value");
    if (c.op_type() != "Constant" || c.attribute_size() != 1 || !v || !v->has_t())
      return false;
    ConstData d;
    if (!im.tensorData(v->t(), d, "constant '" + name + "' of the Loop body").ok())
      return false;
    matched.insert(&c);
    l.bodyConstants[name] = std::move(d);
    return true;
  };
  auto sequenceAt = [&](const std::string &name, std::string &seq) -> bool {
    const onnx::NodeProto *at = node(name, "SequenceAt");
    if (!at || at->input_size() != 2 || at->input(1) != iter || at->attribute_size() != 0 ||
        local.count(at->input(0)) || at->input(0) == seqIn)
      return false;
    seq = at->input(0);
    return true;
  };

  // seq' = SequenceInsert(seq, Reshape(Expand(xi, T'), C)).
  const onnx::NodeProto *insert = node(body.output(1).name(), "SequenceInsert");
  if (!insert || insert->input_size() != 2 || insert->input(0) != seqIn ||
      insert->attribute_size() != 0)
    return reject("does not append to its sequence with one SequenceInsert");
  const onnx::NodeProto *reshape = node(insert->input(1), "Reshape");
  if (!reshape || reshape->input_size() != 2 || !onlyAttributes(*reshape, {"allowzero"}) ||
      im.attrInt(*reshape, "allowzero", 0) != 0 || !constant(reshape->input(1)))
    return reject("does not insert a Reshape of the expanded slice to a constant shape");
  l.reshapeShape = reshape->input(1);
  const onnx::NodeProto *expand = node(reshape->input(0), "Expand");
  if (!expand || expand->input_size() != 2 || expand->attribute_size() != 0)
    return reject("does not reshape an Expand of the slice");
  // xi = Unsqueeze(SequenceAt(xs, i), axes).
  const onnx::NodeProto *unsqueeze = node(expand->input(0), "Unsqueeze");
  if (!unsqueeze || unsqueeze->input_size() != 2 || unsqueeze->attribute_size() != 0 ||
      !constant(unsqueeze->input(1)) || !sequenceAt(unsqueeze->input(0), seqX))
    return reject("does not expand an Unsqueeze (constant axes) of the slice SequenceAt(xs, i)");
  l.unsqueezeAxes = unsqueeze->input(1);
  // T' = T, or torch's guard Where(Equal(T, ones * -1), ones, T), ones = ConstantOfShape(Shape(T), 1).
  std::string target = expand->input(1);
  if (const onnx::NodeProto *where = node(target, "Where")) {
    if (where->input_size() != 3)
      return reject("expands to a Where without its three inputs");
    const onnx::NodeProto *equal = node(where->input(0), "Equal");
    const onnx::NodeProto *ones = node(where->input(1), "ConstantOfShape");
    target = where->input(2);
    const onnx::NodeProto *neg = nullptr;
    if (equal && equal->input_size() == 2) {
      if (equal->input(0) == target)
        neg = node(equal->input(1), "Mul");
      else if (equal->input(1) == target)
        neg = node(equal->input(0), "Mul");
    }
    std::string minusOne;
    if (neg && neg->input_size() == 2) {
      if (neg->input(0) == (ones ? ones->output(0) : ""))
        minusOne = neg->input(1);
      else if (neg->input(1) == (ones ? ones->output(0) : ""))
        minusOne = neg->input(0);
    }
    const onnx::NodeProto *shape = ones && ones->input_size() == 1
                                       ? node(ones->input(0), "Shape")
                                       : nullptr;
    const auto *fill = ones ? im.attr(*ones, "value") : nullptr;
    ConstData fillData;
    bool fillOne = fill && fill->has_t() && ones->attribute_size() == 1 &&
                   im.tensorData(fill->t(), fillData, "the Loop body's ones").ok() &&
                   fillData.values.size() == 1 && fillData.values[0] == 1 &&
                   fillData.elem.isInteger(64);
    if (!equal || !neg || minusOne.empty() || !constant(minusOne) || !shape ||
        shape->input_size() != 1 || shape->input(0) != target || shape->attribute_size() != 0 ||
        !fillOne || equal->attribute_size() != 0 || neg->attribute_size() != 0 ||
        where->attribute_size() != 0)
      return reject("expands to a Where that is not torch's guard Where(Equal(T, "
                    "ConstantOfShape(Shape(T), 1) * -1), ConstantOfShape(..), T)");
    l.minusOne = minusOne;
    l.guarded = true;
  }
  // T = Concat(constants.., SequenceAt(rs, i), constants..) on axis 0.
  const onnx::NodeProto *cat = node(target, "Concat");
  if (!cat || !onlyAttributes(*cat, {"axis"}) || im.attrInt(*cat, "axis", 1) != 0)
    return reject("does not expand to a Concat on axis 0 of constants and the repeat");
  int at = -1;
  for (int k = 0; k < cat->input_size(); ++k) {
    std::string seq;
    if (at < 0 && sequenceAt(cat->input(k), seq)) {
      at = k;
      seqR = seq;
      continue;
    }
    if (!constant(cat->input(k)))
      return reject("expands to a Concat of something other than constants and one repeat "
                    "SequenceAt(rs, i)");
    (at < 0 ? l.targetHead : l.targetTail).push_back(cat->input(k));
  }
  if (at < 0)
    return reject("expands to a Concat without the repeat SequenceAt(rs, i)");
  // c' = c, or Cast(to BOOL) / Identity of c or of a name of the graph (constant true).
  const std::string &condOut = body.output(0).name();
  if (condOut != condIn) {
    auto it = local.find(condOut);
    const onnx::NodeProto *pass = it == local.end() ? nullptr : it->second;
    bool ok = pass && pass->input_size() == 1 &&
              ((pass->op_type() == "Identity" && pass->attribute_size() == 0) ||
               (pass->op_type() == "Cast" && onlyAttributes(*pass, {"to"}) &&
                im.attrInt(*pass, "to", 0) == onnx::TensorProto::BOOL));
    if (!ok)
      return reject("computes its condition otherwise than as Cast(to BOOL) or Identity of a "
                    "constant or of the condition it gets");
    matched.insert(pass);
    const std::string &src = pass->input(0);
    if (src != condIn) {
      if (!constant(src))
        return reject("computes its condition from a value of the body");
      l.condOut = src;
    }
  }
  // Nothing else.
  for (const auto &n : body.node())
    if (!matched.count(&n))
      return reject("has a node '" + n.name() + "' (op '" + n.op_type() +
                    "') outside the repeat_interleave form");
  return true;
}

} // namespace

SequencePlan planSequences(const onnx::GraphProto &graph, Importer &im) {
  SequencePlan plan;
  std::map<std::string, const onnx::NodeProto *> producer;
  for (const auto &n : graph.node())
    for (const auto &o : n.output())
      producer[o] = &n;
  std::map<std::string, int> uses;
  countUses(graph, uses);
  LoopMatcher matcher(im, producer, uses);
  for (const auto &n : graph.node()) {
    if (n.op_type() != "ConcatFromSequence")
      continue;
    std::string why;
    std::vector<const onnx::NodeProto *> involved;
    if (auto l = matcher.match(n, why, involved)) {
      for (const onnx::NodeProto *p : {l->splitX, l->splitR, l->empty, l->loop})
        plan.absorbed.insert(p);
      plan.loops.emplace(&n, std::move(*l));
      continue;
    }
    involved.push_back(&n);
    for (const onnx::NodeProto *p : involved)
      plan.rejected.emplace(p, why);
  }
  // A node matched by one group and rejected by another is not imported either.
  for (const auto &[node, why] : plan.rejected)
    plan.absorbed.erase(node);
  for (auto it = plan.loops.begin(); it != plan.loops.end();) {
    const RepeatInterleaveLoop &l = it->second;
    if (llvm::any_of(std::initializer_list<const onnx::NodeProto *>{l.splitX, l.splitR, l.empty,
                                                                   l.loop},
                     [&](const onnx::NodeProto *p) { return plan.rejected.count(p) > 0; })) {
      for (const onnx::NodeProto *p : {l.splitX, l.splitR, l.empty, l.loop})
        plan.absorbed.erase(p);
      plan.rejected.emplace(it->first, "it shares a node with a sequence form that is not "
                                       "supported");
      it = plan.loops.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto &n : graph.node())
    if (sequenceOps().count(n.op_type()) && !plan.absorbed.count(&n) && !plan.loops.count(&n) &&
        !plan.rejected.count(&n))
      plan.rejected.emplace(&n, "it is not part of torch's repeat_interleave form");
  return plan;
}

std::string SequencePlan::reason(const onnx::NodeProto *node) const {
  auto it = rejected.find(node);
  if (it == rejected.end())
    return "";
  return " (sequences and Loop are imported only as torch's export of repeat_interleave with "
         "constant repeats: SplitToSequence -> Loop repeating each slice -> "
         "ConcatFromSequence; here " + it->second + ")";
}

//===----------------------------------------------------------------------===//
// The import, at the ConcatFromSequence
//===----------------------------------------------------------------------===//

/// The constant integer values of `name`: a constant of the Loop body or a constant value of
/// the graph.
std::optional<std::vector<int64_t>> Importer::loopInts(const RepeatInterleaveLoop &l,
                                                       const std::string &name) {
  const ConstData *d = nullptr;
  if (auto it = l.bodyConstants.find(name); it != l.bodyConstants.end())
    d = &it->second;
  else if (auto v = values.find(name); v != values.end() && v->second.data && !v->second.table)
    d = &*v->second.data;
  if (d && !d->elem.isF32() && d->shape.size() <= 1) {
    std::vector<int64_t> out;
    for (double x : d->values)
      out.push_back(static_cast<int64_t>(x));
    return out;
  }
  if (auto v = values.find(name); v != values.end() && v->second.known && !v->second.data &&
                                  v->second.dims.size() <= 1 &&
                                  llvm::all_of(*v->second.known, [](const SymDim &s) {
                                    return s.isConstant();
                                  })) {
    std::vector<int64_t> out;
    for (const SymDim &s : *v->second.known)
      out.push_back(s.coeff);
    return out;
  }
  return std::nullopt;
}

Status Importer::importRepeatInterleave(const RepeatInterleaveLoop &l, int index) {
  const onnx::NodeProto &loop = *l.loop;
  auto reject = [&](const std::string &why) -> Status {
    return {file + ": " + where(loop) + " is not supported (sequences and Loop are imported only "
            "as torch's export of repeat_interleave with constant repeats: SplitToSequence -> "
            "Loop repeating each slice -> ConcatFromSequence; here " + why + ")"};
  };
  auto isSplitOfOnes = [&](const onnx::NodeProto &split, const SymDim &len) -> bool {
    if (split.input_size() < 2 || split.input(1).empty())
      return attrInt(split, "keepdims", 1) != 0;
    auto it = values.find(split.input(1));
    if (it == values.end())
      return false;
    const TensorInfo &s = it->second;
    if (s.dims.size() != 1 || s.dims[0] != len)
      return false;
    if (s.data)
      return llvm::all_of(s.data->values, [](double v) { return v == 1; });
    return s.known && llvm::all_of(*s.known, [](const SymDim &d) {
             return d == SymDim::constant(1);
           });
  };
  for (const onnx::NodeProto *n : {l.splitX, l.splitR})
    for (const auto &i : n->input())
      if (!i.empty() && !values.count(i))
        return reject("input '" + i + "' of '" + n->name() + "' is not defined before it");
  TensorInfo &x = values.at(l.splitX->input(0));
  const int64_t rank = x.dims.size();
  int64_t axis = attrInt(*l.splitX, "axis", 0), concatAxis = l.concatAxis;
  if (rank < 1 || axis < -rank || axis >= rank)
    return reject("the slices' axis " + std::to_string(axis) + " is outside the input's rank " +
                  std::to_string(rank));
  if (axis < 0)
    axis += rank;
  if (concatAxis < 0)
    concatAxis += rank;
  if (concatAxis != axis)
    return reject("the ConcatFromSequence joins on axis " + std::to_string(l.concatAxis) +
                  ", the slices were taken on axis " + std::to_string(axis));
  const SymDim len = x.dims[axis];
  auto dtype = static_cast<int32_t>(attrInt(*l.empty, "dtype", onnx::TensorProto::FLOAT));
  if (elemFromOnnx(dtype) != x.elem)
    return reject("the SequenceEmpty's element type is not the input's");
  if (!isSplitOfOnes(*l.splitX, len))
    return reject("'" + l.splitX->name() + "' does not split into slices 1 wide along the axis");
  // The repeats: a constant [len] vector of one value r >= 1.
  TensorInfo &rep = values.at(l.splitR->input(0));
  int64_t repAxis = attrInt(*l.splitR, "axis", 0);
  if (rep.dims.size() != 1 || rep.dims[0] != len || !rep.data || rep.elem.isF32() ||
      (repAxis != 0 && repAxis != -1))
    return reject("the repeats are not a constant vector with one entry per slice");
  int64_t r = rep.data->values.empty() ? 0 : static_cast<int64_t>(rep.data->values[0]);
  if (r < 1 || llvm::any_of(rep.data->values, [&](double v) { return v != r; }))
    return reject("the repeats are not all the same positive number");
  if (!isSplitOfOnes(*l.splitR, len))
    return reject("'" + l.splitR->name() + "' does not split the repeats one by one");
  // The loop runs once per slice.
  auto trip = values.find(l.tripCount);
  if (trip == values.end() || !trip->second.known || trip->second.known->size() != 1 ||
      (*trip->second.known)[0] != len)
    return reject("the trip count is not the size " + len.str() + " of the sliced axis");
  auto isTrue = [&](const std::string &name) {
    auto v = loopInts(l, name);
    return v && v->size() == 1 && (*v)[0] != 0;
  };
  if ((!l.cond.empty() && !isTrue(l.cond)) || (!l.condOut.empty() && !isTrue(l.condOut)))
    return reject("the loop condition is not constantly true");
  // The body, on one slice: xi = [.., 1 (axis), 1, ..] -> T' -> reshape.
  auto axes = loopInts(l, l.unsqueezeAxes);
  if (!axes || axes->size() != 1 ||
      ((*axes)[0] != axis + 1 && (*axes)[0] != axis + 1 - (rank + 1)))
    return reject("the slice is not unsqueezed on axis " + std::to_string(axis + 1));
  std::vector<SymDim> slice = x.dims;
  slice[axis] = SymDim::constant(1);
  std::vector<SymDim> unsq = slice;
  unsq.insert(unsq.begin() + axis + 1, SymDim::constant(1));
  std::vector<int64_t> head, tail;
  for (auto [names, out] : {std::pair(&l.targetHead, &head), {&l.targetTail, &tail}})
    for (const std::string &name : *names) {
      auto v = loopInts(l, name);
      if (!v)
        return reject("a part of the expand target is not a constant");
      out->insert(out->end(), v->begin(), v->end());
    }
  if ((int64_t)head.size() != axis + 1 || (int64_t)(head.size() + 1 + tail.size()) != rank + 1)
    return reject("the expand target does not put the repeat right after the sliced axis");
  if (l.guarded) {
    auto m = loopInts(l, l.minusOne);
    if (!m || m->size() != 1 || (*m)[0] != -1)
      return reject("the expand target's guard does not replace -1");
  }
  std::vector<int64_t> target = head;
  target.push_back(r);  // SequenceAt(rs, i) = [r]
  target.insert(target.end(), tail.begin(), tail.end());
  std::vector<SymDim> expanded = unsq;
  for (int64_t k = 0; k <= rank; ++k) {
    if (k == axis + 1) {
      expanded[k] = SymDim::constant(r);
      continue;
    }
    int64_t t = target[k] == -1 && l.guarded ? 1 : target[k];
    // Only the new axis may be broadcast: elsewhere 1 or the slice's own static dim.
    if (t != 1 && !(unsq[k].isConstant() && unsq[k].coeff == t))
      return reject("the expand target " + std::to_string(target[k]) + " at axis " +
                    std::to_string(k) + " changes the slice " + "beyond the repeated axis");
  }
  // The reshape must give the slice with r on the axis.
  auto c = loopInts(l, l.reshapeShape);
  if (!c || (int64_t)c->size() != rank)
    return reject("the body's reshape target is not a constant of the input's rank");
  std::vector<SymDim> got(rank);
  int minus = -1;
  SymDim rest = SymDim::constant(1);
  for (int64_t k = 0; k < rank; ++k) {
    if ((*c)[k] == 0)
      got[k] = expanded[k];
    else if ((*c)[k] == -1 && minus < 0)
      minus = static_cast<int>(k);
    else if ((*c)[k] > 0)
      got[k] = SymDim::constant((*c)[k]);
    else
      return reject("the body's reshape target holds " + std::to_string((*c)[k]));
    if (k != minus)
      rest = rest * got[k];
  }
  SymDim total = SymDim::constant(1);
  for (const SymDim &d : expanded)
    total = total * d;
  if (minus >= 0)
    got[minus] = divide(total, rest);
  std::vector<SymDim> want = slice;
  want[axis] = SymDim::constant(r);
  if (got != want)
    return reject("the body's reshape does not give the slice with the repeat on the axis");

  // repeat_interleave(x, r, axis) = Reshape(Expand(Unsqueeze(x, [axis + 1]), e), out dims).
  const onnx::NodeProto &concat = *l.concat;
  std::string base = concat.name().empty() ? "ConcatFromSequence_" + std::to_string(index)
                                           : concat.name();
  auto i64 = builder.getI64Type();
  auto setConst = [&](const std::string &name, std::vector<int64_t> v) {
    std::vector<double> d(v.begin(), v.end());
    values[name] = fromConst(ConstData{{(int64_t)v.size()}, d, i64});
  };
  std::vector<int64_t> e(rank + 1, 1);
  e[axis + 1] = r;
  setConst(base + "/repeat_interleave/axes", {axis + 1});
  setConst(base + "/repeat_interleave/expand_shape", e);
  TensorInfo outShape;
  outShape.elem = i64;
  outShape.dims = {SymDim::constant(rank)};
  std::vector<SymDim> outDims = x.dims;
  outDims[axis] = len * SymDim::constant(r);
  outShape.known = outDims;
  values[base + "/repeat_interleave/shape"] = outShape;
  auto make = [&](const char *op, std::vector<std::string> inputs, std::string output) {
    onnx::NodeProto n;
    n.set_op_type(op);
    n.set_name(base + "/repeat_interleave/" + op);
    for (auto &i : inputs)
      n.add_input(i);
    n.add_output(std::move(output));
    return n;
  };
  std::string unsqName = base + "/repeat_interleave/unsqueezed";
  std::string expName = base + "/repeat_interleave/expanded";
  for (const onnx::NodeProto &n :
       {make("Unsqueeze", {l.splitX->input(0), base + "/repeat_interleave/axes"}, unsqName),
        make("Expand", {unsqName, base + "/repeat_interleave/expand_shape"}, expName),
        make("Reshape", {expName, base + "/repeat_interleave/shape"}, concat.output(0))})
    if (Status s = importNode(n, index); !s.ok())
      return s;
  return {};
}

} // namespace tfc::onnxfe
