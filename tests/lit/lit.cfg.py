# lit configuration for tfc: runs every .mlir test below tests/lit/.
import os
import lit.formats

config.name = "tfc"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(os.path.dirname(config.test_source_root), "lit-out") \
    if not hasattr(config, "tfc_tools_dir") else os.path.join(config.tfc_tools_dir, "..", "tests", "lit")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py.in"]

# tfc tools first, then FileCheck/not/count from LLVM.
config.environment["PATH"] = os.pathsep.join(
    [config.tfc_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")])
# The source tree and the build tree (its CMakeCache.txt).
config.substitutions.append(("%srcroot", config.tfc_src_root))
config.substitutions.append(("%buildroot", config.tfc_build_root))
config.substitutions.append(("%models", os.path.join(config.tfc_src_root, "examples", "models")))
