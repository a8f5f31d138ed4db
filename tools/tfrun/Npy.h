//===- Npy.h - tfrun's names for the .npy reader/writer of tfc/support/Npy.h ---===//
#ifndef TFC_TOOLS_TFRUN_NPY_H
#define TFC_TOOLS_TFRUN_NPY_H

#include "tfc/support/Npy.h"

namespace tfc::tfrun {

using support::encodeNpy;
using support::formatNpyShape;
using support::npyDescr;
using support::NpyArray;
using support::NpyDtype;
using support::npyDtypeName;
using support::npyDtypeSize;
using support::parseNpy;
using support::readNpy;
using support::writeNpyAtomically;

} // namespace tfc::tfrun

#endif // TFC_TOOLS_TFRUN_NPY_H
