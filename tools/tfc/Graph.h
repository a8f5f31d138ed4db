//===- Graph.h - tfc compile --graph FILE: the fused plan drawn through Graphviz -------------===//
//
// FILE.dot gets the DOT text of the plan (tfc/plan/PlanDot.h) as it is; FILE.svg, FILE.png or
// FILE.pdf is rendered by Graphviz's `dot -T<ext>` (found on PATH; tools/setup.sh installs the
// graphviz package), through a temporary file renamed over FILE once dot succeeded.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_TOOLS_TFC_GRAPH_H
#define TFC_TOOLS_TFC_GRAPH_H

#include "tfc/plan/PlanDesc.h"

#include <string>

namespace tfc::tools {

/// "" when `path` ends in .dot, .svg, .png or .pdf; else the error.
std::string checkGraphPath(const std::string &path);

/// Writes the plan's graph to `path`; returns "" or an error naming the file (and, when `dot`
/// cannot be run, saying how to get it or to write a .dot instead).
std::string writeGraph(const tfc::planner::Plan &plan, const std::string &path);

} // namespace tfc::tools

#endif // TFC_TOOLS_TFC_GRAPH_H
