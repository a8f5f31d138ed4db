//===- CpuKernelLowering.td - how a tfc op becomes a CPU plan kernel --------*- tablegen -*-===//
//
// The op interface of the CPU lowering: each tfc op that runs as a plan kernel implements it
// (as an external model attached by registerCpuLowering(), CpuKernels.cpp), so an op's kernel
// kind and typed options are written in one place. It lives here, not in ir/: the dialect does
// not depend on the plan format.
//
//===----------------------------------------------------------------------===//
#ifndef TFC_LOWER_CPU_KERNEL_LOWERING
#define TFC_LOWER_CPU_KERNEL_LOWERING

include "mlir/IR/OpBase.td"

def CpuKernelLoweringOpInterface : OpInterface<"CpuKernelLoweringOpInterface"> {
  let description = [{
    An op that lowers to one kernel of the CPU plan (docs/PLAN_FORMAT.md, "Kernels"). The
    lowering has already set the kernel's name (the op's location), its inputs (the op's
    operands, in order) and will add its outputs (the op's results); the method sets the
    kernel's kind and options (`tfc::plan::kernelOptionsOf(kind)`'s table) and, when the kernel
    reads its operands in another layout (absent optional operands as -1), its inputs.
    lowerToPlan() refuses an op of the tfc dialect without this interface, naming the op and
    its location.
  }];
  let cppNamespace = "::tfc::lower";
  let methods = [
    InterfaceMethod<
      /*desc=*/[{Fills `kernel`'s kind, options and (when they differ from the operands)
                 inputs; an error names the op.}],
      /*retTy=*/"::tfc::planner::Status",
      /*methodName=*/"lowerToCpuKernel",
      /*args=*/(ins "::tfc::lower::KernelLowering &":$lowering,
                    "::tfc::planner::Kernel &":$kernel)>,
  ];
}

#endif // TFC_LOWER_CPU_KERNEL_LOWERING
